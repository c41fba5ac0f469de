"""The command line, run in-process through ``main(argv)``."""

import io
import json
import sys

import pytest

from classify.cli import main
from conftest import SEED_ARTICLE, labels_csv, run
from test_segment import WORKED_EXAMPLE


def test_predict_seed_article_end_to_end(trained_model, tmp_path, capsys):
    out_file = tmp_path / "seed.jsonl"
    status, _, err = run(["predict", "--model", trained_model, SEED_ARTICLE, "-o", out_file], capsys)
    assert status == 0, err
    records = [json.loads(line) for line in out_file.read_text(encoding="utf-8").splitlines()]
    assert [r["text"][:len(s)] for r, s in zip(records, WORKED_EXAMPLE)] == WORKED_EXAMPLE
    assert len(records) == 6
    text = SEED_ARTICLE.read_text(encoding="utf-8")
    for r in records:
        assert text[r["start"]:r["end"]] == r["text"] and r["source"] == str(SEED_ARTICLE)
        assert set(r["scores"]) == {"shelling", "ground_advance", "withdrawal", "humanitarian", "claim_denial"}
        assert all(r["scores"][label] >= 0 for label in r["labels"])


def test_predict_jsonl_csv_and_stdin_copy_fields_through(trained_model, tmp_path, capsys, monkeypatch):
    jsonl = tmp_path / "in.jsonl"
    jsonl.write_text('{"id": "a1", "text": "قصفت الطائرات الحربية مواقع في حلب"}\n{"id": "a2", "text": ""}\n',
                     encoding="utf-8")
    status, out, _ = run(["predict", "--model", trained_model, jsonl], capsys)
    records = [json.loads(line) for line in out.splitlines()]
    assert status == 0 and [r["id"] for r in records] == ["a1", "a2"] and records[1]["labels"] == []
    csv_file = tmp_path / "in.csv"
    csv_file.write_text("id,text\nc1,نفت المصادر صحة الأنباء عن سقوط حمص\n", encoding="utf-8")
    status, out, _ = run(["predict", "--model", trained_model, csv_file], capsys)
    assert status == 0 and json.loads(out)["id"] == "c1"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO('{"text": "انسحب المقاتلون من منبج"}'.encode())))
    status, out, _ = run(["predict", "--model", trained_model, "-"], capsys)
    assert status == 0 and json.loads(out)["text"] == "انسحب المقاتلون من منبج"


@pytest.mark.parametrize("content,suffix,message", [
    ('{"id": 1, "body": "x"}\n', ".jsonl", "line 1 has no string field 'text'"),
    ("id,body\n1,x\n", ".csv", "no 'text' column"),
    ("", ".txt", "the input is empty"),
    (b"\xd9\x82\xff", ".txt", "undecodable byte at offset 2"),
    ("x", ".docx", "unknown input type"),
])
def test_bad_prediction_input_is_one_line(trained_model, tmp_path, capsys, content, suffix, message):
    path = tmp_path / f"in{suffix}"
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    status, out, err = run(["predict", "--model", trained_model, path], capsys)
    assert status == 2 and message in err and err.count("\n") == 1 and "Traceback" not in err


def test_evaluate_writes_the_report(trained_model, tmp_path, corpus_dir, spans, capsys):
    labels = tmp_path / "labels.csv"
    labels.write_text(labels_csv(spans), encoding="utf-8")
    reports = tmp_path / "reports"
    status, out, err = run(["evaluate", "--model", trained_model, "--labels", labels, "--corpus", corpus_dir,
                            "--reports", reports], capsys)
    assert status == 0, err
    result = json.loads((reports / "metrics.json").read_text(encoding="utf-8"))
    assert set(result["per_label"]) == {"shelling", "ground_advance", "withdrawal", "humanitarian", "claim_denial"}
    assert 0 <= result["hamming_loss"] <= 1 and result["macro_f1"] > 0.5
    assert "baseline_keyword_rules" in result and "macro_f1" in out
    for png in ("confusion.png", "pr_curves.png"):
        assert (reports / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_missing_corpus_is_one_line(tmp_path, labels_file, capsys):
    status, _, err = run(["data", "check", "--labels", labels_file, "--corpus", tmp_path / "nowhere"], capsys)
    assert status == 2 and "corpus folder" in err and "nowhere" in err and err.count("\n") == 1


def test_corpus_from_environment(labels_file, corpus_dir, capsys, monkeypatch):
    monkeypatch.setenv("CLASSIFY_CORPUS", str(corpus_dir))
    status, out, err = run(["data", "check", "--labels", labels_file], capsys)
    assert status == 0, err
    assert "all valid" in out and "shelling" in out


def test_data_check_names_the_bad_row(labels_file, corpus_dir, capsys):
    text = labels_file.read_text(encoding="utf-8").replace(",manual,", ",manually,", 1)
    labels_file.write_text(text, encoding="utf-8")
    status, _, err = run(["data", "check", "--labels", labels_file, "--corpus", corpus_dir], capsys)
    assert status == 2 and "row 2" in err and "source must be" in err


def test_data_sample_merge_and_agreement(tmp_path, corpus_dir, spans, capsys):
    labels = tmp_path / "labels.csv"
    labels.write_text(labels_csv(spans[:40]), encoding="utf-8")
    for strategy in ("random", "stratified"):
        status, out, err = run(["data", "sample", "--n", 10, "--strategy", strategy, "--labels", labels,
                                "--corpus", corpus_dir], capsys)
        assert status == 0, err
        picked = [json.loads(line) for line in out.splitlines()]
        assert len(picked) == 10 and all({"doc_id", "start", "end", "text"} <= set(p) for p in picked)
        labelled = {(d, s) for d, s, *_ in spans[:40]}
        assert not any((p["doc_id"], p["start"]) in labelled for p in picked)
    batch = tmp_path / "batch.jsonl"
    batch.write_text("".join(json.dumps({"doc_id": p["doc_id"], "start": p["start"], "end": p["end"],
                                         "labels": []}) + "\n" for p in picked), encoding="utf-8")
    status, out, err = run(["data", "merge", batch, "--labels", labels, "--corpus", corpus_dir], capsys)
    assert status == 0, err
    assert "now 50 paragraphs" in out
    other = tmp_path / "other.csv"
    other.write_text(labels_csv(spans[:40]).replace("claim_denial", ""), encoding="utf-8")
    status, out, err = run(["data", "agreement", labels, other, "--corpus", corpus_dir], capsys)
    assert status == 0, err
    kappa_row = next(line for line in out.splitlines() if line.startswith("| claim_denial"))
    assert kappa_row.split("|")[6].strip() == "0.000"
    assert next(line for line in out.splitlines() if line.startswith("| shelling")).split("|")[6].strip() == "1.000"


def test_uncertainty_sampling_needs_a_model(tmp_path, corpus_dir, capsys):
    status, _, err = run(["data", "sample", "--n", 5, "--strategy", "uncertainty", "--model", tmp_path / "none",
                          "--labels", tmp_path / "none.csv", "--corpus", corpus_dir], capsys)
    assert status == 2 and "no model at" in err


def test_uncertainty_sampling_picks_paragraphs_nearest_the_thresholds(trained_model, tmp_path, corpus_dir, capsys):
    status, out, err = run(["data", "sample", "--n", 5, "--strategy", "uncertainty", "--model", trained_model,
                            "--labels", tmp_path / "none.csv", "--corpus", corpus_dir], capsys)
    assert status == 0, err
    assert len(out.splitlines()) == 5


def test_bad_config_is_one_line(tmp_path, labels_file, corpus_dir, capsys):
    config = tmp_path / "bad.toml"
    config.write_text('classifier = "forest"\n', encoding="utf-8")
    status, _, err = run(["train", "--config", config, "--labels", labels_file, "--corpus", corpus_dir,
                          "--out", tmp_path / "m"], capsys)
    assert status == 2 and "unknown classifier 'forest'" in err
    assert not (tmp_path / "m").exists()


def test_help_lists_the_commands(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert all(cmd in out for cmd in ("train", "evaluate", "predict", "data"))
