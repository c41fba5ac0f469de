"""``data/labels.csv``: labelled paragraph spans, validated against the corpus.

A row points into an article (``text[start:end]``, code-point offsets) instead of
copying it, and carries the first 12 hex digits of the SHA-1 of the paragraph's
UTF-8 text, so a label can never silently drift onto other text.
"""

import csv
import hashlib
import io
from pathlib import Path

import pandas as pd

from classify.corpus import load_corpus
from classify.errors import ClassifyError
from classify.io import atomic_write
from classify.jsonl import records
from classify.normalise import normalise
from classify.scheme import default_scheme

COLUMNS = ("doc_id", "start", "end", "labels", "split", "source", "sha1")
SPLITS = ("train", "test")
SOURCES = ("manual", "rule", "model")
TEST_SHARE = 0.2


def span_sha1(text):
    """First 12 hex digits of the SHA-1 of ``text`` encoded as UTF-8."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


def assign_split(group):
    """The split a new group (claim or day) goes to: a fixed hash, ~20% to test."""
    return "test" if int(hashlib.sha1(group.encode("utf-8")).hexdigest()[:8], 16) / 16**8 < TEST_SHARE else "train"


def read_text(path):
    """A file's UTF-8 text; an undecodable byte is an error naming its offset."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ClassifyError(f"cannot read {path}: {exc.strerror}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ClassifyError(f"{path}: not UTF-8 (undecodable byte at offset {exc.start})") from None


def _parse_labels(value, where, scheme):
    if isinstance(value, list):
        names = [str(v).strip() for v in value]
    else:
        names = [v.strip() for v in str(value or "").split(";") if v.strip()]
    unknown = [n for n in names if n not in scheme.labels]
    if unknown:
        raise ClassifyError(f"{where}: unknown label {unknown[0]!r}, not in scheme {scheme.name!r} "
                            f"(expected some of {', '.join(scheme.labels)})")
    if len(set(names)) != len(names):
        raise ClassifyError(f"{where}: a label is repeated in {';'.join(names)!r}")
    return tuple(names)


def _parse_int(value, name, where):
    try:
        return int(str(value).strip())
    except ValueError:
        raise ClassifyError(f"{where}: {name} must be a whole number, got {value!r}") from None


def _records(path):
    """(where, dict) pairs from a CSV or JSONL file of labelled spans."""
    text = read_text(path)
    if not text.strip():
        raise ClassifyError(f"{path}: the file is empty")
    if str(path).endswith(".jsonl"):
        for n, record in records(text.splitlines(), path):
            yield f"{path}: line {n}", record
        return
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = [c for c in ("doc_id", "start", "end", "labels") if c not in (reader.fieldnames or ())]
    if missing:
        raise ClassifyError(f"{path}: missing column(s) {', '.join(missing)} (expected {','.join(COLUMNS)})")
    for n, record in enumerate(reader, 2):
        yield f"{path}: row {n}", record


def parse_spans(path, corpus, default_source=None, scheme=None):
    """Validate every span of a labels file against the corpus.

    Each record needs ``doc_id``, ``start``, ``end`` and ``labels``; ``split``,
    ``source`` and ``sha1`` are checked when present and filled in when not (split
    by the article's group, ``source`` from ``default_source``, ``sha1`` from the text).
    Every label must be one of ``scheme``'s (a :class:`classify.scheme.Scheme`; default
    the codebook's).

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`COLUMNS` plus ``text``, ``corpus``, ``group`` and ``row_ref`` (file and row, for messages).
    """
    scheme = scheme or default_scheme()
    rows, seen = [], {}
    for where, record in _records(path):
        doc_id = str(record.get("doc_id") or "").strip()
        article = corpus.get(doc_id)
        if article is None:
            raise ClassifyError(f"{where}: unknown doc_id {doc_id!r} (not in the corpus)")
        start = _parse_int(record.get("start"), "start", where)
        end = _parse_int(record.get("end"), "end", where)
        if not 0 <= start < end <= len(article.text):
            raise ClassifyError(f"{where}: offsets {start}:{end} are outside {doc_id} "
                                f"(expected 0 <= start < end <= {len(article.text)})")
        if (doc_id, start, end) in seen:
            raise ClassifyError(f"{where}: duplicated span {doc_id} {start}:{end} (first at {seen[doc_id, start, end]})")
        seen[doc_id, start, end] = where
        text = article.text[start:end]
        sha1 = str(record.get("sha1") or "").strip()
        if sha1 and sha1 != span_sha1(text):
            raise ClassifyError(f"{where}: sha1 {sha1} does not match the text of {doc_id} {start}:{end} "
                                f"({span_sha1(text)}): the corpus or the offsets changed")
        split = str(record.get("split") or "").strip() or assign_split(article.group)
        if split not in SPLITS:
            raise ClassifyError(f"{where}: split must be train or test, got {split!r}")
        source = str(record.get("source") or default_source or "").strip()
        if source not in SOURCES:
            raise ClassifyError(f"{where}: source must be one of {', '.join(SOURCES)}, got {source!r}")
        rows.append(dict(doc_id=doc_id, start=start, end=end, labels=_parse_labels(record.get("labels"), where, scheme),
                         split=split, source=source, sha1=span_sha1(text), text=text,
                         corpus=article.corpus, group=article.group, row_ref=where))
    if not rows:
        raise ClassifyError(f"{path}: no labelled rows")
    return pd.DataFrame(rows)


def check_consistency(table):
    """The rules that bind the whole file: a clean held-out split, manual-only test rows."""
    for row in table[(table.split == "test") & (table.source != "manual")].itertuples():
        raise ClassifyError(f"{row.row_ref}: test rows must be source=manual, got {row.source}")
    for key in ("doc_id", "group"):
        sides = table.groupby(key).split.nunique()
        both = sides[sides > 1]
        if len(both):
            first = table[table[key] == both.index[0]].iloc[0]
            what = "article" if key == "doc_id" else "group"
            raise ClassifyError(f"{first.row_ref}: {what} {both.index[0]} has rows in both train and test")
    folded = table.text.map(normalise)
    train_texts = set(folded[table.split == "train"])
    leaked = table[(table.split == "test") & folded.isin(train_texts)]
    if len(leaked):
        raise ClassifyError(f"{leaked.iloc[0].row_ref}: this test paragraph's normalised text also occurs in train")


def load_labels(path="data/labels.csv", corpus=None, scheme=None):
    """Load and validate the labels file.

    Parameters
    ----------
    path : str or Path
    corpus : dict of str to Article, optional
        From :func:`classify.corpus.load_corpus`; loaded from the default folder if omitted.
    scheme : classify.scheme.Scheme, optional
        The label set every row's labels must belong to; default the codebook's.

    Returns
    -------
    pandas.DataFrame
        One row per paragraph, with its text; see :func:`parse_spans`.
    """
    if not Path(path).is_file():
        raise ClassifyError(f"labels file {path} not found (expected a CSV with columns {','.join(COLUMNS)})")
    header = read_text(path).splitlines()[:1]
    if not header or tuple(h.strip() for h in header[0].split(",")) != COLUMNS:
        raise ClassifyError(f"{path}: header must be {','.join(COLUMNS)}")
    table = parse_spans(path, corpus if corpus is not None else load_corpus(), scheme=scheme)
    check_consistency(table)
    return table


def write_labels(table, path="data/labels.csv"):
    """Write the labels file atomically, sorted, in the committed format."""
    out = table.sort_values(["doc_id", "start", "end"])

    def write(fh):
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(COLUMNS)
        for row in out.itertuples():
            writer.writerow([row.doc_id, row.start, row.end, ";".join(row.labels), row.split, row.source, row.sha1])

    atomic_write(path, write)


def merge(batch_path, labels_path="data/labels.csv", corpus=None, source="manual", scheme=None):
    """Validate a labelled batch and add it to the labels file; a bad batch changes nothing.

    Rows of a group already in the labels file take that group's split, so a story
    never straddles train and test.

    Returns
    -------
    pandas.DataFrame
        The merged table.
    """
    corpus = corpus if corpus is not None else load_corpus()
    batch = parse_spans(batch_path, corpus, default_source=source, scheme=scheme)
    if Path(labels_path).is_file():
        current = load_labels(labels_path, corpus, scheme)
        known = dict(zip(current.group, current.split))
        batch["split"] = [known.get(g, s) for g, s in zip(batch.group, batch.split)]
        clash = batch.merge(current, on=["doc_id", "start", "end"], suffixes=("", "_old"))
        if len(clash):
            raise ClassifyError(f"{clash.iloc[0].row_ref}: span {clash.iloc[0].doc_id} "
                                f"{clash.iloc[0].start}:{clash.iloc[0].end} is already labelled")
        batch = pd.concat([current, batch], ignore_index=True)
    check_consistency(batch)
    write_labels(batch, labels_path)
    return batch


def counts(table, labels=None):
    """Paragraph counts per label (``labels``, default the codebook's), per corpus and split and in total,
    with the unlabelled ones."""
    labels = default_scheme().labels if labels is None else labels

    def row(corpus, split, part):
        return {"corpus": corpus, "split": split, "paragraphs": len(part),
                **{label: int(part.labels.map(lambda ls, label=label: label in ls).sum()) for label in labels},
                "none": int((part.labels.map(len) == 0).sum())}

    rows = [row("all", "all", table)]
    rows += [row(corpus, split, part) for (corpus, split), part in table.groupby(["corpus", "split"])]
    rows += [row("all", split, table[table.split == split]) for split in SPLITS]
    return pd.DataFrame(rows)
