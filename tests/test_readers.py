"""The prediction readers (JSONL, CSV, standard input) on every shape a record can take.

Each input either comes out as valid JSONL, with every field copied and ``labels`` and
``scores`` added, or fails as one line on standard error with exit status 2 naming the
file and line (or row), and the output file unchanged. The property tests generate the
records and know, for each, which of the two it must get.
"""

import contextlib
import csv
import io
import json
import math
import sys
import tempfile
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from classify import load_model, segment
from classify.cli import main
from classify.errors import ClassifyError
from classify.predict import MAX_TEXT, iter_records

PREVIOUS = "previous output\n"
ARABIC = "قصفت الطائرات الحربية مواقع في حلب ونزح آلاف المدنيين"
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def predict(model, path, out):
    """``(status, stderr)`` of ``classify predict MODEL PATH -o OUT``, standard streams captured."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        status = main(["predict", "--model", str(model), str(path), "-o", str(out)])
    return status, err.getvalue()


def one_line_error(status, err, *fragments):
    assert status == 2, err
    assert err.count("\n") == 1 and err.startswith("classify: ") and "Traceback" not in err, err
    for fragment in fragments:
        assert fragment in err, err


@pytest.fixture(scope="module")
def labels(trained_model):
    return load_model(trained_model).labels


def check_output(out, expected, labels):
    """``out`` holds one valid JSON line per expected record: its fields, then labels and scores."""
    text = out.read_text(encoding="utf-8")
    lines = text.split("\n")  # JSON Lines end at \n only: U+2028 and \x85 may stand raw in a string
    assert lines.pop() == "" and len(lines) == len(expected)
    for line, record in zip(lines, expected):
        got = json.loads(line, parse_constant=lambda name: pytest.fail(f"{name} written"))
        assert {k: v for k, v in got.items() if k not in ("labels", "scores")} == \
               {k: v for k, v in record.items() if k not in ("labels", "scores")}
        assert set(got["labels"]) <= set(labels) and list(got["scores"]) == list(labels)
        assert all(0 <= s <= 1 for s in got["scores"].values())


# --- JSONL -------------------------------------------------------------------------------------

@pytest.mark.parametrize("line,fragments", [
    ("[1, 2]", ["line 2 is not a JSON object (it is an array"]),
    ('"text"', ["line 2 is not a JSON object (it is a string"]),
    ("null", ["line 2 is not a JSON object (it is null"]),
    ("3", ["line 2 is not a JSON object (it is a number"]),
    ('{"body": "x"}', ["line 2 has no string field 'text' (it is missing"]),
    ('{"text": 3}', ["line 2 has no string field 'text' (it is a number"]),
    ('{"text": ["a"]}', ["line 2 has no string field 'text' (it is an array"]),
    ('{"text": null}', ["line 2 has no string field 'text' (it is null"]),
    ('{"text": {"a": "b"}}', ["line 2 has no string field 'text' (it is an object"]),
    ('{"text": true}', ["line 2 has no string field 'text' (it is a boolean"]),
    ('{"text": "x", "v": NaN}', ["line 2 holds the number NaN, which JSON cannot hold"]),
    ('{"text": "x", "v": [Infinity]}', ["line 2 holds the number Infinity"]),
    ('{"text": "x", "v": -Infinity}', ["line 2 holds the number -Infinity"]),
    ('{"text": "x", "v": 1e400}', ["line 2 holds the number 1e400"]),
    ('{"text": "x", "v": ' + "1" * 5000 + "}", ["line 2 holds an integer of more than 4300 digits"]),
    ('{"text": "x", "v": ' + "[" * 100_000 + "]" * 100_000 + "}", ["line 2 nests arrays and objects more than 100"]),
    ('{"text": "x", "v": ' + "[" * 100 + "]" * 100 + "}", ["line 2 nests arrays and objects more than 100"]),
    ('{"text": "a\\ud800b"}', ["line 2: field 'text' holds a lone surrogate \\ud800"]),
    ('{"text": "a", "v": ["\\udfff"]}', ["line 2: field 'v' holds a lone surrogate \\udfff"]),
    ('{"text": "a", "\\ude00": 1}', ["line 2: a key holds a lone surrogate \\ude00"]),
    ('{"text": "a"', ["line 2 is not valid JSON"]),
])
def test_a_bad_jsonl_record_is_one_line(trained_model, tmp_path, line, fragments):
    source, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_text('{"text": "قصف"}\n' + line + "\n", encoding="utf-8")
    out.write_text(PREVIOUS, encoding="utf-8")
    status, err = predict(trained_model, source, out)
    one_line_error(status, err, str(source), *fragments)
    assert out.read_text(encoding="utf-8") == PREVIOUS and sorted(p.name for p in tmp_path.iterdir()) == \
           ["in.jsonl", "out.jsonl"]


def test_what_jsonl_accepts_is_written_as_valid_json(trained_model, labels, tmp_path):
    source, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    lines = ['{"text": "a\\ud83d\\ude00", "k": 1, "k": 2}',  # a surrogate pair; a duplicate key: the last wins
             '{"text": "", "v": 1e308, "n": -0.0, "big": ' + "9" * 4300 + "}",  # empty text, large finite numbers
             '{"text": "\\u0000\\u2028\\u001b[31m' + ARABIC + '", "labels": "old", "x": {"y": [null, true]}}',
             '{"text": "x", "v": ' + "[" * 99 + "]" * 99 + "}"]  # 100 levels with the record
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    status, err = predict(trained_model, source, out)
    assert status == 0, err
    expected = [json.loads(line) for line in lines]
    assert expected[0] == {"text": "a\U0001F600", "k": 2}
    check_output(out, expected, labels)


def test_a_text_longer_than_the_limit_is_one_line(trained_model, tmp_path):
    long = "ق" * (MAX_TEXT + 1)
    inputs = {"in.jsonl": json.dumps({"text": long}) + "\n", "in.csv": f"text\n{long}\n", "in.txt": long}
    for name, content in inputs.items():
        source = tmp_path / name
        source.write_text(content, encoding="utf-8")
        status, err = predict(trained_model, source, tmp_path / "out.jsonl")
        one_line_error(status, err, str(source), "1,000,000")
        assert not (tmp_path / "out.jsonl").exists()
    exactly = tmp_path / "exactly.jsonl"
    exactly.write_text(json.dumps({"text": long[:-1]}) + "\n", encoding="utf-8")
    assert len(next(iter_records(str(exactly)))["text"]) == MAX_TEXT


def test_a_line_longer_than_the_limit_is_one_line(trained_model, tmp_path, monkeypatch):
    monkeypatch.setattr("classify.predict.MAX_LINE", 1000)
    source = tmp_path / "in.jsonl"
    source.write_text('{"text": "a"}\n' + json.dumps({"text": "b" * 1000}) + "\n", encoding="utf-8")
    status, err = predict(trained_model, source, tmp_path / "out.jsonl")
    one_line_error(status, err, "line 2 is longer than the limit of 1,000 bytes")


# --- CSV ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("content,fragments", [
    ("id,text\n1,a\n2,b,c\n", ["row 3 (line 3) has 3 field(s), the header has 2"]),
    ("id,text\n1,a\n2\n", ["row 3 (line 3) has 1 field(s), the header has 2"]),
    ('id,text\n1,"a\nb"\n2,b,c\n', ["row 3 (line 4) has 3 field(s)"]),
    ("id,text,text\n1,a,b\n", ["the header names column(s) 'text' more than once"]),
    ("id,body\n1,a\n", ["no 'text' column (columns: id, body)"]),
    ("", ["the input is empty"]),
    ("id,text\n", ["the input is empty"]),
    ('id,text\n1,"abc\n', ["row 2 (line 2): a quoted cell is never closed"]),
    ('id,text\n1,"ab"c\n', ["row 2 (line 2): a closing quote is followed by more of the cell"]),
    ("id,text\n1,a\rb\n", ["row 2 (line 2): a carriage return (\\r) inside an unquoted cell"]),
    ("id,text\n1,a\n2," + "x" * (MAX_TEXT + 1) + "\n", ["row 3 (line 3): a cell is longer than the limit of 1,000,000"]),
    ("id,text\n1,a\n" + "x" * (MAX_TEXT + 1) + ",b\n", ["row 3 (line 3): a cell is longer than the limit"]),
    (b"id,text\n1,\xff\n", ["not UTF-8 (undecodable byte at offset 2 of line 2)"]),
])
def test_a_bad_csv_table_is_one_line(trained_model, tmp_path, content, fragments):
    source, out = tmp_path / "in.csv", tmp_path / "out.jsonl"
    source.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    out.write_text(PREVIOUS, encoding="utf-8")
    status, err = predict(trained_model, source, out)
    one_line_error(status, err, str(source), *fragments)
    assert out.read_text(encoding="utf-8") == PREVIOUS


def test_what_csv_accepts_is_written_as_valid_json(trained_model, labels, tmp_path):
    source, out = tmp_path / "in.csv", tmp_path / "out.jsonl"
    source.write_text('\ufeffid,text,\r\n1,,x\r\n\r\n2,"a ""quoted"", multi\nline cell",\n'
                      f'3,a\x00b {ARABIC},"\r"\n', encoding="utf-8")
    status, err = predict(trained_model, source, out)
    assert status == 0, err
    check_output(out, [{"id": "1", "text": "", "": "x"}, {"id": "2", "text": 'a "quoted", multi\nline cell', "": ""},
                       {"id": "3", "text": f"a\x00b {ARABIC}", "": "\r"}], labels)


# --- standard input ----------------------------------------------------------------------------

def predict_stdin(model, data, out, *options):
    err = io.StringIO()
    stdin = io.TextIOWrapper(io.BytesIO(data))
    with mock.patch.object(sys, "stdin", stdin), contextlib.redirect_stderr(err), \
            contextlib.redirect_stdout(io.StringIO()):
        status = main(["predict", "--model", str(model), *options, "-", "-o", str(out)])
    return status, err.getvalue()


@pytest.mark.parametrize("data,fragments", [
    (b"", ["<stdin>: the input is empty"]),
    (b"  \n\n\t\n", ["<stdin>: the input is empty"]),
    (b'\n{"text": "a"}\n[1]\n', ["<stdin>: line 3 is not a JSON object"]),
    (b'{"text": "a", "v": NaN}\n', ["<stdin>: line 1 holds the number NaN"]),
    (b'{"text": "\\ud800"}\n', ["<stdin>: line 1: field 'text' holds a lone surrogate"]),
    (b'{"text": "a"}\n{"text": 1}\n', ["<stdin>: line 2 has no string field 'text' (it is a number"]),
    (b'{"text": ' + b"[" * 100_000, ["<stdin>: line 1 nests arrays and objects more than 100"]),
    ("قصف\n".encode() + b"\xed\xa0\x80\n", ["<stdin>: not UTF-8 (undecodable byte at offset 0 of line 2)"]),
])
def test_bad_standard_input_is_one_line(trained_model, tmp_path, data, fragments):
    out = tmp_path / "out.jsonl"
    out.write_text(PREVIOUS, encoding="utf-8")
    status, err = predict_stdin(trained_model, data, out)
    one_line_error(status, err, *fragments)
    assert out.read_text(encoding="utf-8") == PREVIOUS


def test_a_long_article_on_standard_input_stops_at_the_limit(trained_model, tmp_path):
    status, err = predict_stdin(trained_model, ("ق" * 1000 + "\n").encode() * (MAX_TEXT // 1000 + 1),
                                tmp_path / "out.jsonl")
    one_line_error(status, err, "<stdin>: the article is more than 1,000,000 characters long")


# --- generated records -------------------------------------------------------------------------

# Text as crawls have it: Arabic, Latin, digits, white space, controls, quotes, commas, and
# (only where the format can carry them) surrogates, whole pairs and lone halves.
ALPHABET = st.sampled_from(list("قصفحلبإدلب نزح ،؛ abc123 \t\n\r\"',{}[]\\") + ["\x00", "\x1b", "\x85", "\u2028",
                                                                                   "\ufeff", "\U0001F600"])
TEXT = st.text(ALPHABET, max_size=40)
SURROGATE_TEXT = st.text(st.one_of(ALPHABET, st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)), max_size=20)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**30, 10**30),
                    st.floats(allow_nan=True, allow_infinity=True), TEXT, SURROGATE_TEXT)
JSON_VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                            st.dictionaries(TEXT, inner, max_size=3)), max_leaves=8)
RECORDS = st.one_of(
    st.builds(lambda fields, text: {**fields, "text": text}, st.dictionaries(TEXT, JSON_VALUES, max_size=4),
              st.one_of(TEXT, TEXT, SURROGATE_TEXT, JSON_VALUES)),
    st.dictionaries(TEXT, JSON_VALUES, max_size=3),
    JSON_VALUES,
)


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def _bad_number(value):
    if isinstance(value, float):
        return not math.isfinite(value)
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    return any(_bad_number(v) for v in children)


def _lone_surrogate(value):
    return any("\ud800" <= ch <= "\udfff" for s in _strings(value) for ch in s)


def jsonl_error(record, ascii_only):
    """The fragment of the one-line error ``record`` must get, or None if it is to be labelled,
    in the order the reader finds them: bytes, then JSON, then the record."""
    if not ascii_only and _lone_surrogate(record):
        return "not UTF-8"
    if _bad_number(record):
        return "which JSON cannot hold"
    if _lone_surrogate(record):
        return "holds a lone surrogate"
    if not isinstance(record, dict):
        return "is not a JSON object"
    if not isinstance(record.get("text"), str):
        return "has no string field 'text'"
    return None


def jsonl_bytes(records, ascii_only, blank_lines):
    # ensure_ascii=True writes lone surrogates as \udXXX escapes; False writes them raw, and
    # surrogatepass encodes them as the invalid UTF-8 a broken crawler would write.
    lines = [json.dumps(r, ensure_ascii=ascii_only) + "\n" + "\n" * blank_lines for r in records]
    return "".join(lines).encode("utf-8", "surrogatepass")


def expected_jsonl(records, ascii_only, blank_lines=0):
    """``(None, records)`` to be labelled, or ``(fragments, None)`` of the error."""
    if ascii_only:  # as the reader sees them: "\\ud800\\udc00" escapes are one character, U+10000
        records = [json.loads(json.dumps(r)) for r in records]
    for n, record in enumerate(records):
        fragment = jsonl_error(record, ascii_only)
        if fragment:
            return [fragment, f"line {n * (1 + blank_lines) + 1}"], None
    if not records:
        return ["the input is empty"], None
    return None, records


@SETTINGS
@given(records=st.lists(RECORDS, max_size=4), ascii_only=st.booleans(), blank_lines=st.integers(0, 1))
def test_generated_jsonl_is_labelled_or_one_line(trained_model, labels, records, ascii_only, blank_lines):
    with tempfile.TemporaryDirectory() as folder:
        source, out = Path(folder) / "in.jsonl", Path(folder) / "out.jsonl"
        source.write_bytes(jsonl_bytes(records, ascii_only, blank_lines))
        status, err = predict(trained_model, source, out)
        fragments, expected = expected_jsonl(records, ascii_only, blank_lines)
        if expected is None:
            one_line_error(status, err, str(source), *fragments)
            assert not out.exists()
        else:
            assert status == 0, err
            check_output(out, expected, labels)


CELLS = st.text(st.sampled_from(list("قصف حلب,\"'\n\r\t;x1") + ["\x00", "\u2028", "\U0001F600"]), max_size=12)
COLUMNS = st.lists(st.one_of(st.just("text"), st.text(st.sampled_from(list("abc ,\"\nقص")), max_size=4)),
                   min_size=1, max_size=4)


@st.composite
def tables(draw):
    header = draw(COLUMNS)
    ragged = draw(st.booleans())
    rows = draw(st.lists(st.lists(CELLS, min_size=len(header), max_size=len(header) + (1 if ragged else 0))
                         if not ragged else st.lists(CELLS, max_size=len(header) + 1), max_size=4))
    return header, rows


@SETTINGS
@given(table=tables(), quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]),
       terminator=st.sampled_from(["\n", "\r\n"]), bom=st.booleans())
def test_generated_csv_is_labelled_or_one_line(trained_model, labels, table, quoting, terminator, bom):
    header, rows = table
    if terminator == "\n" and any("\r" in cell for row in [header, *rows] for cell in row):
        quoting = csv.QUOTE_ALL  # csv.writer quotes \r only when it is in the line terminator
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=quoting, lineterminator=terminator)
    writer.writerow(header)
    writer.writerows(rows)
    with tempfile.TemporaryDirectory() as folder:
        source, out = Path(folder) / "in.csv", Path(folder) / "out.jsonl"
        source.write_text(("\ufeff" if bom else "") + buffer.getvalue(), encoding="utf-8")
        status, err = predict(trained_model, source, out)
        kept = [r for r in rows if r]  # csv.writer writes [] as a blank line, which is skipped
        if "text" not in header:
            one_line_error(status, err, "no 'text' column")
        elif len(set(header)) < len(header):
            one_line_error(status, err, "more than once")
        elif any(len(r) != len(header) for r in kept):
            n = next(i for i, r in enumerate(kept) if len(r) != len(header))
            one_line_error(status, err, f"row {n + 2} (line ", f"field(s), the header has {len(header)}")
        elif not kept:
            one_line_error(status, err, "the input is empty")
        else:
            assert status == 0, err
            check_output(out, [dict(zip(header, r)) for r in kept], labels)
        if status:
            assert not out.exists()


def _first_nonblank_line(text):
    for line in text.split("\n"):
        if line.strip():
            return line
    return ""


@SETTINGS
@given(data=st.one_of(
    st.builds(lambda rs, a: (jsonl_bytes(rs, a, 0), ("jsonl", rs, a)), st.lists(RECORDS, max_size=3), st.booleans()),
    st.builds(lambda t: (t.encode("utf-8"), ("txt", t, None)), st.text(ALPHABET, max_size=200)),
    st.builds(lambda t: (t.encode("utf-8"), ("txt", t, None)),
              st.lists(st.sampled_from([ARABIC + ".", "\n\n", "مقالات ذات صلة", " {", "\n"]), max_size=8).map("".join)),
), segment_records=st.booleans())
def test_generated_standard_input_is_labelled_or_one_line(trained_model, labels, data, segment_records):
    raw, (kind, value, ascii_only) = data
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "out.jsonl"
        status, err = predict_stdin(trained_model, raw, out, *(["--segment"] if segment_records else []))
        text = raw.decode("utf-8-sig", "surrogatepass")
        sniffed_jsonl = _first_nonblank_line(text).lstrip().startswith("{")
        if not text.strip():
            one_line_error(status, err, "<stdin>: the input is empty")
        elif not sniffed_jsonl and _lone_surrogate(text):  # raw surrogates: invalid UTF-8
            one_line_error(status, err, "<stdin>: not UTF-8")
        elif not sniffed_jsonl:
            assert status == 0, err  # an article: its paragraphs, offsets into the input as read
            got = [json.loads(line) for line in out.read_text(encoding="utf-8").split("\n")[:-1]]
            assert [(r["source"], r["start"], r["end"], r["text"]) for r in got] == \
                   [("<stdin>", p.start, p.end, p.text) for p in segment(text)]
        elif kind == "txt":  # an article that begins with "{" is read as JSONL, and is not
            one_line_error(status, err, "<stdin>: line ")
        else:
            fragments, expected = expected_jsonl(value, ascii_only)
            if expected is None:
                one_line_error(status, err, "<stdin>", *fragments)
            elif segment_records:
                assert status == 0, err
                got = [json.loads(line) for line in out.read_text(encoding="utf-8").split("\n")[:-1]]
                paragraphs = [({**{k: v for k, v in r.items() if k != "text"}, "start": p.start, "end": p.end},
                               p.text) for r in expected for p in segment(r["text"])]
                assert [({k: v for k, v in g.items() if k not in ("text", "labels", "scores")}, g["text"])
                        for g in got] == [({k: v for k, v in f.items() if k not in ("labels", "scores")}, t)
                                          for f, t in paragraphs]
            else:
                assert status == 0, err
                check_output(out, expected, labels)
        if status:
            assert not out.exists()


def test_iter_records_raises_classify_error_not_a_library_error(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text('{"text": "x", "v": ' + "[" * 100_000 + "]" * 100_000 + "}\n", encoding="utf-8")
    with pytest.raises(ClassifyError, match="line 1 nests"):
        list(iter_records(str(path)))


def test_the_writer_never_writes_nan_or_a_traceback():
    from classify.predict import dump_record

    assert dump_record({"text": "قصف", "v": 1.5}) == '{"text": "قصف", "v": 1.5}\n'
    for bad in ({"v": float("nan")}, {"v": float("inf")}, {"v": object()}):
        with pytest.raises(ClassifyError, match="cannot write a record as JSON"):
            dump_record(bad)
