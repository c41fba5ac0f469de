"""Read prediction inputs (articles, JSONL, CSV, standard input) lazily and label them as they come.

Every reader is a generator, so a crawl of any size streams through in constant memory:
records are read, labelled and written a batch at a time.
"""

import csv
import gzip
import sys
from itertools import chain, islice

from classify.data import read_text
from classify.errors import ClassifyError
from classify.jsonl import records
from classify.segment import segment

# Records labelled per model call: large enough to amortise the vectorised features,
# small enough to keep memory flat (see classify.model.PREDICT_BATCH).
STREAM_BATCH = 2048
_KINDS = ("jsonl", "json", "csv", "txt")


def _paragraphs(text, fields):
    """One record per paragraph the segmenter keeps: ``fields`` plus start, end and text."""
    return ({**fields, "start": p.start, "end": p.end, "text": p.text} for p in segment(text))


def _lines(raw, source):
    """The decoded lines of a binary stream; an undecodable byte is a one-line error naming its line."""
    try:
        for n, line in enumerate(raw, 1):
            try:
                yield line.decode("utf-8-sig" if n == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                raise ClassifyError(f"{source}: not UTF-8 (undecodable byte at offset {exc.start} "
                                    f"of line {n})") from None
    except (OSError, EOFError) as exc:  # a truncated or damaged .gz among them
        raise ClassifyError(f"{source}: cannot read ({exc})") from None


def _jsonl(lines, source):
    for n, record in records(lines, source):
        if not isinstance(record.get("text"), str):
            raise ClassifyError(f"{source}: line {n} has no string field 'text'")
        yield record


def _csv(lines, source):
    reader = csv.DictReader(lines)
    try:
        if "text" not in (reader.fieldnames or ()):
            raise ClassifyError(f"{source}: no 'text' column (columns: {', '.join(reader.fieldnames or ())})")
        for row in reader:
            yield dict(row)
    except csv.Error as exc:
        raise ClassifyError(f"{source}: line {reader.line_num}: {exc}") from None


def _kind(path):
    """The input type of a path (``.gz`` looks through to the name before it) and whether it is gzipped."""
    name = path.lower()
    gz = name.endswith(".gz")
    name = name[:-3] if gz else name
    kind = name.rsplit(".", 1)[-1] if "." in name.rsplit("/", 1)[-1] else "txt"
    if kind not in _KINDS:
        raise ClassifyError(f"{path}: unknown input type .{kind} (expected .txt, .jsonl, .csv, .gz of those, or -)")
    return kind, gz


def _open(path, gz):
    try:
        return gzip.open(path, "rb") if gz else open(path, "rb")
    except OSError as exc:
        raise ClassifyError(f"cannot read {path}: {exc.strerror}") from None


def _sniff(lines):
    """The kind of standard input (JSONL if its first non-blank character is ``{``, else an
    article) and all its lines, the ones read to tell included."""
    head = []
    for line in lines:
        head.append(line)
        if line.strip():
            break
    kind = "jsonl" if head and head[-1].lstrip().startswith("{") else "txt"
    return kind, chain(head, lines)


def _records(kind, lines, source, segment_records):
    if kind == "txt":
        text = "".join(lines)
        if not text.strip():
            raise ClassifyError(f"{source}: the input is empty")
        yield from _paragraphs(text, {"source": source})
        return
    seen = False
    for record in (_csv if kind == "csv" else _jsonl)(lines, source):
        seen = True
        if segment_records:
            yield from _paragraphs(record.pop("text"), record)
        else:
            yield record
    if not seen:
        raise ClassifyError(f"{source}: the input is empty")


def iter_records(path, segment_records=False):
    """The records to label from one input, read lazily.

    Parameters
    ----------
    path : str
        ``.txt`` (an article: segmented, furniture dropped), ``.jsonl`` (records with a
        ``text`` field), ``.csv`` (a ``text`` column), any of these gzipped (``.gz``), or
        ``-`` for standard input (JSONL if it starts with ``{``, else an article).
    segment_records : bool
        Treat each record's ``text`` as an article: yield one record per paragraph the
        segmenter keeps, with the record's other fields plus ``start``, ``end`` and ``text``.

    Yields
    ------
    dict
        Each with a ``text`` field; articles' records also carry ``source``, ``start``, ``end``.

    Raises
    ------
    ClassifyError
        For an unknown input type, an unreadable or undecodable file, a record without
        text, or an input with nothing but white space.
    """
    if path == "-":
        yield from _records(*_sniff(_lines(sys.stdin.buffer, "<stdin>")), "<stdin>", segment_records)
        return
    kind, gz = _kind(path)
    if kind == "txt" and not gz:
        # An article is read whole, as the offsets of its paragraphs are the file's.
        yield from _records("txt", [read_text(path)], path, segment_records)
        return
    with _open(path, gz) as raw:
        yield from _records(kind, _lines(raw, path), path, segment_records)


def read_records(path):
    """All the records of one input, as a list (see :func:`iter_records`)."""
    return list(iter_records(path))


def label_records(model, records):
    """Add ``labels`` (most probable first) and ``scores`` (every label) to each record."""
    proba = model.predict_proba([r["text"] for r in records])
    labels = model.labels_from_proba(proba)
    return [{**r, "labels": ls, "scores": {k: round(float(v), 4) for k, v in zip(model.labels, row)}}
            for r, ls, row in zip(records, labels, proba.itertuples(index=False))]


def label_stream(model, records, batch=STREAM_BATCH):
    """Label an iterable of records a batch at a time, yielding each labelled record in order."""
    records = iter(records)
    while chunk := list(islice(records, batch)):
        yield from label_records(model, chunk)
