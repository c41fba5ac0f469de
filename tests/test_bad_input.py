"""What bad input gets: one line on standard error and exit status 2, files unchanged.

One test (or more) per row of the README's "What bad input gets" table.
"""

import argparse
import io
import json
import os
import re
import stat
import subprocess
import sys

import pytest

from classify.cli import main
from classify.display import escape_controls, show
from conftest import labels_csv, one_line_error, run, write_config


@pytest.fixture()
def article(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("قصفت الطائرات الحربية مواقع في حلب بعدة غارات جوية صباح اليوم.\n", encoding="utf-8")
    return path


def test_output_naming_a_folder(trained_model, article, tmp_path, capsys):
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "keep.txt").write_text("x", encoding="utf-8")
    status, _, err = run(["predict", "--model", trained_model, article, "-o", folder], capsys)
    one_line_error(status, err, "it is a folder")
    assert [p.name for p in folder.iterdir()] == ["keep.txt"]


def test_output_under_a_file(trained_model, article, tmp_path, capsys):
    status, _, err = run(["predict", "--model", trained_model, article, "-o", article / "x.jsonl"], capsys)
    one_line_error(status, err, "cannot write")


@pytest.mark.parametrize("toml,fragments", [
    ('[params]\n"features__char__ngram_range" = "abc"\n', ["ngram_range", "tuple", "'abc'"]),
    ('[params]\n"features__char__ngram_range" = [6, 3]\n', ["1 <= min <= max", "(6, 3)"]),
    ('[params]\n"features__char__min_df" = "two"\n', ["min_df", "'two'"]),
    ('[params]\n"clf__estimator__C" = -1\n', ["'C' parameter of LogisticRegression"]),
    ('[params]\n"normalise__alef" = "no"\n', ["normalise__alef must be true or false"]),
    ('[params]\n"features__char__foo" = 1\n', ["unknown parameter 'features__char__foo'",
                                              "CharTfidf has no parameter 'foo'"]),
    ('[params]\n"nothing__x" = 1\n', ["unknown parameter 'nothing__x'"]),
    ('n_splits = "five"\n', ["n_splits must be a whole number of at least 2, got 'five'"]),
    ("n_splits = 1\n", ["n_splits must be a whole number of at least 2, got 1"]),
    ("n_splits = true\n", ["n_splits must be"]),
    ("thresholds = 1.5\n", ["thresholds must be \"cv\" or a number strictly between 0 and 1, got 1.5"]),
    ("thresholds = 0\n", ["thresholds must be"]),
    ("thresholds = -0.2\n", ["thresholds must be"]),
    ("thresholds = nan\n", ["thresholds must be"]),
    ('thresholds = "high"\n', ["thresholds must be"]),
    ("classifier = 3\n", ["unknown classifier 3"]),
    ("params = 3\n", ["params must be a [params] table"]),
    ("seeds = [-1]\n", ["seeds must be a list of whole numbers"]),
    ("colour = 1\n", ["unknown key(s) colour"]),
    ('calibration = "platt"\n', ['calibration must be "none" or "sigmoid" or "isotonic", got \'platt\'']),
    ("calibration = true\n", ["calibration must be"]),
    ('pooling = "max"\n', ['pooling must be "none" or "sentence", got \'max\'']),
    ("n_splits = \n", ["not valid TOML"]),
])
def test_bad_config_values(toml, fragments, tmp_path, labels_file, corpus_dir, capsys):
    config = tmp_path / "bad.toml"
    config.write_text(toml, encoding="utf-8")
    status, _, err = run(["train", "--config", config, "--labels", labels_file, "--corpus", corpus_dir,
                          "--out", tmp_path / "m"], capsys)
    one_line_error(status, err, *fragments)
    assert "training" not in err and not (tmp_path / "m").exists()


def test_the_shipped_configs_still_load():
    from pathlib import Path

    from classify.config import load_config
    from experiments.run import EXTRA_CLASSIFIERS

    configs = sorted((Path(__file__).resolve().parents[1] / "experiments" / "configs").glob("*.toml"))
    assert configs
    for path in configs:
        assert load_config(path, extra_classifiers=EXTRA_CLASSIFIERS)["n_splits"] >= 2


def test_a_good_config_still_trains(tmp_path, labels_file, corpus_dir, capsys):
    status, _, err = run(["train", "--config", write_config(tmp_path), "--labels", labels_file, "--corpus", corpus_dir,
                          "--out", tmp_path / "m"], capsys)
    assert status == 0, err


@pytest.mark.parametrize("call", ["predict", "predict_proba"])
def test_the_api_refuses_a_bare_string(trained_model, call):
    from classify import load_model

    model = load_model(trained_model)
    with pytest.raises(TypeError, match=r"pass \[text\] to label one text"):
        getattr(model, call)("قصفت الطائرات الحربية مواقع في حلب")
    assert len(getattr(model, call)(["قصفت الطائرات الحربية مواقع في حلب"])) == 1


class _Tty(io.StringIO):
    def isatty(self):
        return True


HOSTILE = "قصف\x1b]0;pwned\x07 مدفعي \x1b[31mأحمر\x1b[0m \x9b2J \x00\x7f\r نهاية"
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def test_show_escapes_control_sequences_on_a_terminal():
    shown = show(HOSTILE, _Tty())
    assert not RAW_CONTROL.search(shown)
    for escape in ("\\x1b]0;pwned\\x07", "\\x1b[31m", "\\x9b2J", "\\x00", "\\x7f", "\\x0d"):
        assert escape in escape_controls(HOSTILE) and escape[1:] in shown  # visible, bidi may move the backslash
    assert show(HOSTILE, io.StringIO()) == HOSTILE  # files and pipes get the text as it is
    assert escape_controls("قصف\tمدفعي\n") == "قصف\tمدفعي\n"


def test_predict_on_a_terminal_sends_no_control_character(trained_model, tmp_path, monkeypatch):
    records = tmp_path / "in.jsonl"
    records.write_text(json.dumps({"text": HOSTILE}) + "\n", encoding="utf-8")
    tty = _Tty()
    monkeypatch.setattr(sys, "stdout", tty)
    assert main(["predict", "--model", str(trained_model), str(records)]) == 0
    assert tty.getvalue() and not RAW_CONTROL.search(tty.getvalue().replace("\n", ""))


def test_an_error_quoting_input_sends_no_control_character(trained_model, tmp_path, capsys):
    records = tmp_path / "in.csv"
    records.write_text("id,\x1b]0;pwned\x07\n1,x\n", encoding="utf-8")
    status, _, err = run(["predict", "--model", trained_model, records], capsys)
    one_line_error(status, err, "no 'text' column", "\\x1b]0;pwned\\x07")
    assert not RAW_CONTROL.search(err)


def test_evaluate_refuses_another_labels_file(trained_model, tmp_path, corpus_dir, spans, capsys):
    labels = tmp_path / "labels.csv"
    labels.write_text(labels_csv(spans, test_groups=("T0",)), encoding="utf-8")  # T1's articles moved to train
    reports = tmp_path / "reports"
    argv = ["evaluate", "--model", trained_model, "--labels", labels, "--corpus", corpus_dir, "--reports", reports]
    status, out, err = run(argv, capsys)
    one_line_error(status, err, "not the labels file the model was trained on", "--allow-other-labels")
    assert not reports.exists() and out == ""
    status, out, err = run([*argv, "--allow-other-labels"], capsys)
    assert status == 0 and "warning:" in err and "may be inflated" in err and (reports / "metrics.json").is_file()


def test_evaluate_accepts_the_same_labels_anywhere(trained_model, tmp_path, corpus_dir, spans, capsys):
    labels = tmp_path / "copy.csv"
    labels.write_text(labels_csv(spans), encoding="utf-8")  # same bytes as the training labels, another path
    status, _, err = run(["evaluate", "--model", trained_model, "--labels", labels, "--corpus", corpus_dir,
                          "--reports", tmp_path / "r"], capsys)
    assert status == 0 and "warning" not in err, err


def test_a_model_without_a_recorded_labels_file_is_refused():
    from classify.errors import ClassifyError
    from classify.evaluate import check_labels_file

    with pytest.raises(ClassifyError, match="records no labels file"):
        check_labels_file({"labels_file_sha256": None}, __file__)
    assert "warning" in check_labels_file({"labels_file_sha256": None}, __file__, allow_other=True)


def test_output_files_keep_the_mode_of_the_file_they_replace(trained_model, article, tmp_path, capsys):
    from classify.io import umask

    new, shared = tmp_path / "new.jsonl", tmp_path / "shared.jsonl"
    shared.write_text("old\n", encoding="utf-8")
    shared.chmod(0o640)
    for out in (new, shared):
        assert run(["predict", "--model", trained_model, article, "-o", out], capsys)[0] == 0
    assert stat.S_IMODE(new.stat().st_mode) == 0o666 & ~umask()
    assert stat.S_IMODE(shared.stat().st_mode) == 0o640 and shared.read_text(encoding="utf-8") != "old\n"


def test_temporaries_of_killed_writes_are_removed(tmp_path):
    from classify.io import atomic_write

    out = tmp_path / "out.txt"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    left = tmp_path / f".out.txt.{dead.pid}.abcd1234.tmp"  # as a write killed in that process would leave
    left.write_text("half", encoding="utf-8")
    running = tmp_path / f".out.txt.{os.getpid()}.efgh5678.tmp"  # a write still under way: kept
    running.write_text("busy", encoding="utf-8")
    atomic_write(out, lambda fh: fh.write("whole"))
    assert out.read_text(encoding="utf-8") == "whole" and not left.exists() and running.exists()


def test_predict_that_keeps_no_paragraph_says_so(trained_model, tmp_path, capsys):
    furniture = tmp_path / "furniture.txt"
    furniture.write_text("مقالات ذات صلة\nاترك تعليقاً\nجميع الحقوق محفوظة © 2018\n", encoding="utf-8")
    status, out, err = run(["predict", "--model", trained_model, furniture], capsys)
    assert status == 0 and out == "" and "no paragraph kept" in err and str(furniture) in err


def test_help_describes_every_option(capsys):
    from classify.cli import DESCRIPTION, _parser

    parsers = [_parser()]
    for parser in parsers:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                parsers.extend(action.choices.values())
            elif action.dest != "help":
                assert action.help, f"{parser.prog}: {action.option_strings or action.dest} has no help"
    assert len(parsers) == 12  # classify, 6 commands (explain and report among them), data and its 5 commands
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert DESCRIPTION.split(":")[0] in " ".join(out.split()) and "``" not in out


def test_version(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0 and re.fullmatch(r"classify \S+\n", capsys.readouterr().out)


def test_data_check_names_the_corpus_actually_used(labels_file, corpus_dir, capsys, monkeypatch):
    monkeypatch.setenv("CLASSIFY_CORPUS", str(corpus_dir))
    status, out, err = run(["data", "check", "--labels", labels_file], capsys)
    assert status == 0, err
    assert f"against the corpus in {corpus_dir.resolve()}" in out


def test_every_row_of_the_readme_table_names_tests_that_exist():
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    readme = root.joinpath("README.md").read_text(encoding="utf-8")
    section = readme.split("## What bad input gets", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| input")]
    assert len(rows) >= 20
    for row in rows:
        names = re.findall(r"`(?:(test_\w+\.py)::)?(test_\w+)`", row.rsplit("|", 2)[1])
        assert names, row
        current = None
        for file, name in names:
            current = file or current
            assert f"def {name}(" in (root / "tests" / current).read_text(encoding="utf-8"), (current, name)
