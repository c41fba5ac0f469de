"""Streaming prediction: lazy readers, --segment, batches, and output that is whole or absent."""

import csv
import gzip
import io
import json
import sys

import pytest

from classify import load_model, segment
from classify.errors import ClassifyError
from classify.predict import iter_records, label_records, label_stream
from conftest import SEED_ARTICLE, run

ARTICLES = [
    {"doc_id": "d1", "site": "x", "text": SEED_ARTICLE.read_text(encoding="utf-8")},
    {"doc_id": "d2", "site": "y", "text": "قصفت الطائرات الحربية أحياء المدينة صباح اليوم وقتل ثلاثة مدنيين.\n\n"
                                          "نفت المصادر صحة الأنباء عن انسحاب القوات من البلدة الواقعة شرق النهر."},
]


def _jsonl(records):
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def test_segment_writes_one_record_per_kept_paragraph_of_each_article(trained_model, tmp_path, capsys):
    source = tmp_path / "crawl.jsonl.gz"
    with gzip.open(source, "wt", encoding="utf-8") as fh:
        fh.write(_jsonl(ARTICLES))
    out = tmp_path / "out.jsonl"
    status, _, err = run(["predict", "--model", trained_model, "--segment", source, "-o", out], capsys)
    assert status == 0, err
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    expected = [(a["doc_id"], a["site"], p.start, p.end, p.text) for a in ARTICLES for p in segment(a["text"])]
    assert [(r["doc_id"], r["site"], r["start"], r["end"], r["text"]) for r in records] == expected
    assert all(set(r["scores"]) == set(load_model(trained_model).labels) for r in records)
    assert f"wrote {len(expected)} records to {out}" in err and "paragraphs/s" in err


def test_segment_judges_each_page_with_the_lines_its_crawl_shares(trained_model, tmp_path, capsys):
    from classify.predict import count_lines
    from classify.segment import site_of

    sidebar = "أعلنت وزارة الصحة افتتاح مستشفى جديد في العاصمة يضم مئتي سرير ويخدم أكثر من مليون نسمة ."
    pages = [{"url": f"https://www.site.example/news/{k}", **a, "text": a["text"] + "\n" + sidebar}
             for k, a in enumerate(ARTICLES * 2)]
    source = tmp_path / "crawl.jsonl"
    source.write_text(_jsonl(pages), encoding="utf-8")
    counts = count_lines([str(source)])
    assert counts.pages == 4 and count_lines(["-"]) is None
    assert count_lines([str(SEED_ARTICLE)]) is None  # one page: nothing to share
    assert counts.features([sidebar], "site.example")[0, 1] > 0
    for flags, crawl in (([], counts), (["--alone"], None)):
        out = tmp_path / "out.jsonl"
        status, _, err = run(["predict", "--model", trained_model, "--segment", source, "-o", out, *flags], capsys)
        assert status == 0, err
        got = [(r["url"], r["start"], r["end"]) for r in map(json.loads, out.read_text(encoding="utf-8").splitlines())]
        assert got == [(a["url"], p.start, p.end) for a in pages
                       for p in segment(a["text"], a["url"], counts=crawl, site=site_of(a["url"]))]


def test_crawl_counting_refuses_what_labelling_would(trained_model, tmp_path, capsys):
    from conftest import one_line_error

    source = tmp_path / "crawl.jsonl"
    source.write_text(_jsonl(ARTICLES) + '{"text": 3}\n', encoding="utf-8")
    out = tmp_path / "out.jsonl"
    status, _, err = run(["predict", "--model", trained_model, "--segment", source, "-o", out], capsys)
    one_line_error(status, err, "line 3")
    status, _, err = run(["predict", "--model", trained_model, SEED_ARTICLE, "-o", out, "--alone"], capsys)
    one_line_error(status, err, "--alone goes with --segment")
    assert not out.exists()


def test_csv_and_gzipped_csv_read_the_same(trained_model, tmp_path, capsys):
    rows = [{"id": "c1", "text": "نفت المصادر صحة الأنباء, عن سقوط حمص"}, {"id": "c2", "text": "سطر\nثان"}]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["id", "text"])
    writer.writeheader()
    writer.writerows(rows)
    (tmp_path / "in.csv").write_text(buffer.getvalue(), encoding="utf-8")
    with gzip.open(tmp_path / "in.csv.gz", "wt", encoding="utf-8") as fh:
        fh.write(buffer.getvalue())
    outputs = [run(["predict", "--model", trained_model, tmp_path / name], capsys)[1]
               for name in ("in.csv", "in.csv.gz")]
    assert outputs[0] == outputs[1]
    assert [(r["id"], r["text"]) for r in map(json.loads, outputs[0].splitlines())] == [("c1", rows[0]["text"]),
                                                                                        ("c2", rows[1]["text"])]


def test_readers_are_lazy(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text('{"text": "a"}\n{"text": "b"}\nnot json\n', encoding="utf-8")
    records = iter_records(str(path))
    assert next(records) == {"text": "a"} and next(records) == {"text": "b"}
    with pytest.raises(ClassifyError, match="line 3 is not valid JSON"):
        next(records)


def test_stdin_article_and_records_with_segment(trained_model, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(_jsonl(ARTICLES[1:]).encode())))
    status, out, _ = run(["predict", "--model", trained_model, "--segment", "-"], capsys)
    records = [json.loads(line) for line in out.splitlines()]
    assert status == 0 and [r["doc_id"] for r in records] == ["d2", "d2"] and records[1]["start"] > 0
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(ARTICLES[1]["text"].encode())))
    status, out, _ = run(["predict", "--model", trained_model, "-"], capsys)
    assert status == 0 and [json.loads(line)["source"] for line in out.splitlines()] == ["<stdin>", "<stdin>"]


def test_batches_give_the_same_labels_as_one_call(trained_model):
    model = load_model(trained_model)
    records = [{"n": i, "text": p.text} for i, p in enumerate(segment(ARTICLES[0]["text"]))] * 3
    assert list(label_stream(model, iter(records), batch=4)) == label_records(model, records)


def test_an_error_midway_leaves_no_output_and_the_old_file_whole(trained_model, tmp_path, capsys):
    source = tmp_path / "in.jsonl"
    source.write_text(_jsonl([{"text": "قصف"}] * 5000) + '{"body": "x"}\n', encoding="utf-8")
    out = tmp_path / "out.jsonl"
    out.write_text("previous\n", encoding="utf-8")
    status, _, err = run(["predict", "--model", trained_model, source, "-o", out], capsys)
    assert status == 2 and "line 5001 has no string field 'text'" in err and err.count("\n") == 1
    assert out.read_text(encoding="utf-8") == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([source.name, out.name])  # no temporary left


@pytest.mark.parametrize("name,content,message", [
    ("in.jsonl", b'{"text": "a"}\n{"text": "\xff"}\n', "undecodable byte at offset 10 of line 2"),
    ("in.jsonl.gz", b"not gzip at all", "in.jsonl.gz: cannot read"),
    ("in.jsonl", b"\n\n", "the input is empty"),
    ("in.tar.gz", b"", "unknown input type .tar"),
])
def test_bad_streamed_input_is_one_line(trained_model, tmp_path, capsys, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    status, _, err = run(["predict", "--model", trained_model, path], capsys)
    assert status == 2 and message in err and err.count("\n") == 1 and "Traceback" not in err
