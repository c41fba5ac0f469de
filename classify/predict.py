"""Read prediction inputs (articles, JSONL, CSV, standard input) lazily and label them as they come.

Every reader is a generator, so a crawl of any size streams through in constant memory:
records are read, labelled and written a batch at a time.
"""

import csv
import gzip
import json
import sys
from itertools import chain, islice

from classify.data import read_text
from classify.errors import ClassifyError
from classify.jsonl import kind as json_kind
from classify.jsonl import records
from classify.segment import LineCounts, segment, site_of

# Records labelled per model call: large enough to amortise the vectorised features,
# small enough to keep memory flat (see classify.model.PREDICT_BATCH).
STREAM_BATCH = 2048
#: The most text in one chunk of work for a worker of ``--jobs`` or ``--backend dask``, in characters
#: (a chunk is also at most STREAM_BATCH records): about a second of work, 1 MB to send.
CHUNK_CHARS = 500_000
_KINDS = ("jsonl", "json", "csv", "txt")
#: The longest ``text`` (a record's, a CSV cell's, an article's) labelled or segmented, in characters.
MAX_TEXT = 1_000_000
#: The longest line read from a JSONL, CSV or gzipped input, in bytes (a JSONL record is one line).
MAX_LINE = 64 * 2**20


def _field(fields, name):
    return fields.get(name) if isinstance(fields.get(name), str) else None


def _paragraphs(text, fields, counts=None):
    """One record per paragraph the segmenter keeps: ``fields`` plus start, end and text."""
    # A record's address tells the segmenter a listing page (tag, section, archive) apart.
    url = _field(fields, "url")
    return ({**fields, "start": p.start, "end": p.end, "text": p.text}
            for p in segment(text, url, counts=counts, site=site_of(url, _field(fields, "domain"))))


def count_lines(paths):
    """The lines of every article in ``paths``, counted over them all: the crawl's
    :class:`~classify.segment.LineCounts` (see :func:`iter_records`).

    Each input is read once more for this, so standard input (``-``) is not counted: with
    it among the inputs, or with fewer than two articles, this is None and every page
    is judged alone.
    """
    if "-" in paths:
        return None
    counts = LineCounts.of_articles((record["text"], _field(record, "url"), _field(record, "domain"))
                                    for path in paths for record, article in iter_units(path, True) if article)
    return counts if counts.pages > 1 else None


def _lines(raw, source):
    """The decoded lines of a binary stream; an undecodable byte or an overlong line is a
    one-line error naming its line."""
    try:
        for n, line in enumerate(iter(lambda: raw.readline(MAX_LINE + 1), b""), 1):
            if len(line) > MAX_LINE:
                raise ClassifyError(f"{source}: line {n} is longer than the limit of {MAX_LINE:,} bytes "
                                    "(expected one record or one line of text per line)")
            try:
                yield line.decode("utf-8-sig" if n == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                raise ClassifyError(f"{source}: not UTF-8 (undecodable byte at offset {exc.start} "
                                    f"of line {n})") from None
    except (OSError, EOFError) as exc:  # a truncated or damaged .gz among them
        raise ClassifyError(f"{source}: cannot read ({exc})") from None


def _checked_text(text, where, what="'text'"):
    """``text``, refused when it is longer than :data:`MAX_TEXT`."""
    if len(text) > MAX_TEXT:
        raise ClassifyError(f"{where}: {what} is {len(text):,} characters long, more than the limit of "
                            f"{MAX_TEXT:,} (split it into smaller records)")
    return text


def _jsonl(lines, source):
    for n, record in records(lines, source):
        text = record.get("text")
        if not isinstance(text, str):
            found = "it is missing" if "text" not in record else f"it is {json_kind(text)}"
            raise ClassifyError(f"{source}: line {n} has no string field 'text' ({found}; "
                                'expected e.g. {"text": "..."})')
        _checked_text(text, f"{source}: line {n}")
        yield record


# csv's messages for a malformed table, in the words of this package.
_CSV_ERRORS = {
    "field larger than field limit": f"a cell is longer than the limit of {MAX_TEXT:,} characters",
    "unexpected end of data": 'a quoted cell is never closed (expected a closing ")',
    "expected after": "a closing quote is followed by more of the cell (expected a comma or the end of the "
                      'line after it; write a quote inside a quoted cell as "")',
    "new-line character seen in unquoted field": "a carriage return (\\r) inside an unquoted cell (expected "
                                                 "the cell quoted, or \\n or \\r\\n line ends)",
}


def _csv(lines, source):
    # csv's own cell limit (131,072 characters) raised to the text limit, for every column alike.
    if csv.field_size_limit() < MAX_TEXT:
        csv.field_size_limit(MAX_TEXT)
    # strict: a stray quote is an error rather than a cell silently joined with what follows.
    reader = csv.reader(lines, strict=True)
    row_number, first_line = 0, 1
    try:
        header = next(reader, None)
        if header is None:
            return  # no line at all: "the input is empty"
        if "text" not in header:
            raise ClassifyError(f"{source}: no 'text' column (columns: {', '.join(header)})")
        twice = sorted({name for name in header if header.count(name) > 1})
        if twice:
            raise ClassifyError(f"{source}: the header names column(s) {', '.join(map(repr, twice))} more than "
                                "once (expected distinct column names)")
        row_number = 1
        while True:
            first_line = reader.line_num + 1
            row = next(reader, None)
            if row is None:
                return
            if not row:  # a blank line, which csv.DictReader skips too
                continue
            row_number += 1
            where = f"{source}: row {row_number} (line {first_line})"
            if len(row) != len(header):
                raise ClassifyError(f"{where} has {len(row)} field(s), the header has {len(header)} "
                                    "(expected one per column; quote a cell that holds a comma)")
            record = dict(zip(header, row))
            _checked_text(record["text"], where)
            yield record
    except csv.Error as exc:
        message = next((ours for theirs, ours in _CSV_ERRORS.items() if theirs in str(exc)), str(exc))
        where = f"row {row_number + 1} (line {first_line})" if row_number else "the header"
        raise ClassifyError(f"{source}: {where}: {message}") from None


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


def _units(kind, lines, source, segment_records):
    if kind == "txt":
        parts, size = [], 0
        for part in lines:  # counted as read: standard input of any size stops at the limit
            parts.append(part)
            size += len(part)
            if size > MAX_TEXT:
                raise ClassifyError(f"{source}: the article is more than {MAX_TEXT:,} characters long, the limit "
                                    "(split it, or give it as records of a JSONL file)")
        text = "".join(parts)
        if not text.strip():
            raise ClassifyError(f"{source}: the input is empty")
        yield {"source": source, "text": text}, True
        return
    seen = False
    for record in (_csv if kind == "csv" else _jsonl)(lines, source):
        seen = True
        yield record, segment_records
    if not seen:
        raise ClassifyError(f"{source}: the input is empty")


def expand(record, article, counts=None):
    """The records to label from one unit of :func:`iter_units`: the record itself, or, for an
    article, one record per kept paragraph (its other fields plus start, end and text),
    judged with the crawl's ``counts`` when given."""
    if not article:
        return [record]
    return list(_paragraphs(record["text"], {k: v for k, v in record.items() if k != "text"}, counts))


def iter_units(path, segment_records=False):
    """The records of one input as read, before segmentation, each with whether it is an article.

    An article (a ``.txt`` input, or a record under ``segment_records``) becomes the
    records of its kept paragraphs through :func:`expand`; :func:`iter_records` is this
    with every unit expanded. The parallel backends send units to their workers, so the
    segmenter runs there too.

    Yields
    ------
    (dict, bool)
        A record with a ``text`` field, and whether its text is an article to segment.

    Raises
    ------
    ClassifyError
        As :func:`iter_records`.
    """
    if path == "-":
        yield from _units(*_sniff(_lines(sys.stdin.buffer, "<stdin>")), "<stdin>", segment_records)
        return
    kind, gz = _kind(path)
    if kind == "txt" and not gz:
        # An article is read whole, as the offsets of its paragraphs are the file's.
        yield from _units("txt", [read_text(path)], path, segment_records)
        return
    with _open(path, gz) as raw:
        yield from _units(kind, _lines(raw, path), path, segment_records)


def iter_records(path, segment_records=False, counts=None):
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
    counts : LineCounts, optional
        The lines of the crawl the articles belong to (:func:`count_lines` of the inputs,
        this one among them): the segmenter then also drops the lines a site prints on
        many pages. Each record's site is its ``domain`` field, else its ``url``'s host.

    Yields
    ------
    dict
        Each with a ``text`` field; articles' records also carry ``source``, ``start``, ``end``.

    Raises
    ------
    ClassifyError
        For an unknown input type, an unreadable or undecodable file, an input with
        nothing but white space, a line longer than :data:`MAX_LINE` bytes, a text
        longer than :data:`MAX_TEXT` characters, a JSONL record that is not an object,
        lacks a string ``text`` or is not writable as JSON (see :mod:`classify.jsonl`),
        a CSV row with more or fewer fields than the header, or a header naming a
        column twice. The message names the file and line (or row) and what was expected.
    """
    for record, article in iter_units(path, segment_records):
        yield from expand(record, article, counts)


def chunks(units, records=None, chars=None):
    """Consecutive lists of units (from :func:`iter_units`), each of at most ``records``
    units (default :data:`STREAM_BATCH`) and, unless one unit alone is longer, ``chars``
    characters of text (default :data:`CHUNK_CHARS`)."""
    records, chars = records or STREAM_BATCH, chars or CHUNK_CHARS
    chunk, size = [], 0
    for unit in units:
        n = len(unit[0]["text"])
        if chunk and (len(chunk) >= records or size + n > chars):
            yield chunk
            chunk, size = [], 0
        chunk.append(unit)
        size += n
    if chunk:
        yield chunk


def label_units(model, units, counts=None):
    """Expand a chunk of units and label every record: the work of one parallel task."""
    return label_records(model, [r for record, article in units for r in expand(record, article, counts)])


def read_records(path):
    """All the records of one input, as a list (see :func:`iter_records`)."""
    return list(iter_records(path))


def label_records(model, records):
    """Add ``labels`` (most probable first) and ``scores`` (every label) to each record."""
    proba = model.predict_proba([r["text"] for r in records])
    labels = model.labels_from_proba(proba)
    return [{**r, "labels": ls, "scores": {k: round(float(v), 4) for k, v in zip(model.labels, row)}}
            for r, ls, row in zip(records, labels, proba.itertuples(index=False))]


def dump_record(record):
    """One record as a line of JSON: UTF-8 text as it is, and never ``NaN`` or ``Infinity``.

    Every record the readers yield can be written (they refuse what JSON cannot hold);
    a record built otherwise that cannot is a :class:`ClassifyError`, not a traceback.
    """
    try:
        return json.dumps(record, ensure_ascii=False, allow_nan=False) + "\n"
    except (TypeError, ValueError, RecursionError) as exc:
        raise ClassifyError(f"cannot write a record as JSON ({exc})") from None


def label_stream(model, records, batch=STREAM_BATCH):
    """Label an iterable of records a batch at a time, yielding each labelled record in order."""
    records = iter(records)
    while chunk := list(islice(records, batch)):
        yield from label_records(model, chunk)
