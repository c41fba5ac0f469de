"""Read prediction inputs (articles, JSONL, CSV, standard input) and label them."""

import csv
import io
import sys

from classify.data import read_text
from classify.errors import ClassifyError
from classify.jsonl import records
from classify.segment import segment


def _article(text, source):
    return [{"source": source, "start": p.start, "end": p.end, "text": p.text} for p in segment(text)]


def _jsonl(text, source):
    out = []
    for n, record in records(text.splitlines(), source):
        if not isinstance(record.get("text"), str):
            raise ClassifyError(f"{source}: line {n} has no string field 'text'")
        out.append(record)
    return out


def _csv(text, source):
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if "text" not in (reader.fieldnames or ()):
        raise ClassifyError(f"{source}: no 'text' column (columns: {', '.join(reader.fieldnames or ())})")
    return [dict(row) for row in reader]


def read_records(path):
    """The records to label from one input.

    Parameters
    ----------
    path : str
        ``.txt`` (an article: segmented, furniture dropped), ``.jsonl`` (records with a
        ``text`` field), ``.csv`` (a ``text`` column), or ``-`` for standard input (JSONL
        if it starts with ``{``, else an article).

    Returns
    -------
    list of dict
        Each with a ``text`` field; articles' records also carry ``source``, ``start``, ``end``.
    """
    if path == "-":
        data = sys.stdin.buffer.read()
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ClassifyError(f"standard input: not UTF-8 (undecodable byte at offset {exc.start})") from None
        source = "<stdin>"
        kind = "jsonl" if text.lstrip().startswith("{") else "txt"
    else:
        text, source = read_text(path), path
        kind = path.rsplit(".", 1)[-1].lower() if "." in path else "txt"
    if not text.strip():
        raise ClassifyError(f"{source}: the input is empty")
    readers = {"jsonl": _jsonl, "json": _jsonl, "csv": _csv, "txt": _article}
    if kind not in readers:
        raise ClassifyError(f"{source}: unknown input type .{kind} (expected .txt, .jsonl, .csv or -)")
    return readers[kind](text, source)


def label_records(model, records):
    """Add ``labels`` (most probable first) and ``scores`` (every label) to each record."""
    proba = model.predict_proba([r["text"] for r in records])
    labels = model.labels_from_proba(proba)
    return [{**r, "labels": ls, "scores": {k: round(float(v), 4) for k, v in zip(model.labels, row)}}
            for r, ls, row in zip(records, labels, proba.itertuples(index=False))]
