"""The experiment runner: grid expansion, the ledger under concurrency, failures, Dask = local."""

import json
import multiprocessing

import pytest

from conftest import labels_csv
from experiments import ledger
from experiments.run import grid_points, main
from experiments.report import write_results


def test_grid_points_expand_tables_and_lists_of_tables():
    config = {"grid": [{"features__char__ngram_range": [[2, 4], [3, 6]], "classifier": ["logreg", "sgd"]},
                       {"features__char__ngram_range": [2, 5]}, {"normalise__alef": False}]}
    points = grid_points(config)
    assert len(points) == 6
    assert {"features__char__ngram_range": [2, 5]} in points and {"normalise__alef": False} in points
    assert grid_points({}) == [{}]


def _append_many(args):
    path, worker = args
    for i in range(200):
        ledger.append({"worker": worker, "i": i, "payload": "قصف" * 500}, path)


def test_concurrent_appends_lose_and_interleave_nothing(tmp_path):
    path = tmp_path / "runs.jsonl"
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        pool.map(_append_many, [(str(path), w) for w in range(4)])
    lines = path.read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == 800
    assert {(r["worker"], r["i"]) for r in records} == {(w, i) for w in range(4) for i in range(200)}


@pytest.fixture()
def setup(tmp_path, corpus_dir, spans):
    labels = tmp_path / "labels.csv"
    labels.write_text(labels_csv(spans), encoding="utf-8")
    config = tmp_path / "small.toml"
    config.write_text('classifier = "logreg"\nn_splits = 3\n[params]\n"features__char__min_df" = 1\n'
                      '[grid]\n"features__char__ngram_range" = [[2, 3], [2, 4]]\n', encoding="utf-8")
    return {"labels": labels, "config": config, "corpus": corpus_dir, "tmp": tmp_path}


def _run(setup, name, *extra):
    ledger_path = setup["tmp"] / f"{name}.jsonl"
    status = main([str(setup["config"]), "--labels", str(setup["labels"]), "--corpus", str(setup["corpus"]),
                   "--ledger", str(ledger_path), "--results", str(setup["tmp"] / f"{name}.md"), "--no-cache",
                   "--no-plots", *extra])
    assert status == 0
    return ledger.read(ledger_path)


def test_a_run_records_everything_the_ledger_promises(setup):
    records = _run(setup, "local", "--jobs", "1")
    assert len(records) == 2 and all(r["status"] == "ok" for r in records)
    r = records[0]
    for key in ("run_id", "started", "duration_seconds", "git_commit", "git_dirty", "labels_sha256", "corpus_sha256",
                "params", "versions", "cv", "test", "fit_seconds", "predict_seconds", "model_bytes", "peak_memory_mb"):
        assert key in r, key
    assert r["cv"]["folds"] == 3 and 0 <= r["cv"]["macro_f1"]["mean"] <= 1
    assert set(r["corpus_sha256"]) == {"unifiedfc.jsonl.gz", "saudinewsnet.jsonl.gz"}
    results = (setup["tmp"] / "local.md").read_text(encoding="utf-8")
    assert "Leaderboard" in results and r["run_id"] in results


def test_a_crashed_run_is_recorded_as_failed(setup):
    setup["config"].write_text('classifier = "logreg"\n[params]\n"features__char__no_such_param" = 1\n',
                               encoding="utf-8")
    records = _run(setup, "failed")
    assert [r["status"] for r in records] == ["failed"]
    assert "no_such_param" in records[0]["error"]


@pytest.mark.slow
def test_dask_local_cluster_gives_the_local_results(setup):
    local = _run(setup, "local", "--jobs", "2")
    dask = _run(setup, "dask", "--backend", "dask")
    assert [r["backend"] for r in dask] == ["dask", "dask"]
    for a, b in zip(local, dask):
        assert a["point"] == b["point"]
        assert a["cv"] == b["cv"] and a["test"] == b["test"] and a["thresholds"] == b["thresholds"]


def test_an_unreachable_dask_scheduler_is_one_line_and_records_nothing(setup, capsys, monkeypatch):
    pytest.importorskip("distributed", reason="the dask extra is not installed")
    from classify import scale

    monkeypatch.setattr(scale, "CONNECT_TIMEOUT", 2)
    ledger_path = setup["tmp"] / "none.jsonl"
    status = main([str(setup["config"]), "--labels", str(setup["labels"]), "--corpus", str(setup["corpus"]),
                   "--ledger", str(ledger_path), "--backend", "dask", "--scheduler", "tcp://127.0.0.1:9"])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in err
    assert not ledger_path.exists()


def test_report_keeps_the_newest_run_per_point(tmp_path):
    path = tmp_path / "runs.jsonl"
    base = {"status": "ok", "config": "c", "classifier": "logreg", "point": {}, "train_size": 10, "fit_seconds": 1.0,
            "cv": {"macro_f1": {"mean": 0.5, "std": 0.1}},
            "test": {"macro_f1": 0.4, "micro_f1": 0.4, "per_label": {label: {"f1": 0.4} for label in
                                                                    ("shelling", "ground_advance", "withdrawal",
                                                                     "humanitarian", "claim_denial")}}}
    ledger.append({**base, "run_id": "old"}, path)
    ledger.append({**base, "run_id": "new"}, path)
    ledger.append({"status": "failed", "config": "c", "error": "boom"}, path)
    write_results(path, tmp_path / "R.md")
    text = (tmp_path / "R.md").read_text(encoding="utf-8")
    assert "new" in text and "| old |" not in text and "boom" in text
    # Markdown renders a table only when the delimiter row has as many cells as the header.
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("| config"))
    assert lines[at].count("|") == lines[at + 1].count("|")


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # mlflow's own SQLAlchemy usage, not ours
def test_mlflow_logging_to_a_local_sqlite_store(setup):
    mlflow = pytest.importorskip("mlflow", reason="the mlflow extra is not installed")
    uri = f"sqlite:///{setup['tmp'] / 'mlflow.db'}"
    records = _run(setup, "mlflow", "--jobs", "1", "--mlflow", uri)
    mlflow.set_tracking_uri(uri)
    runs = mlflow.search_runs(experiment_names=["classify"])
    assert len(runs) == len(records) == 2
    assert sorted(runs["metrics.test_macro_f1"]) == sorted(r["test"]["macro_f1"] for r in records)


def test_the_runner_pools_as_the_package_unless_a_config_or_point_says_none():
    from experiments.run import resolve

    config = {"classifier": "logreg", "params": {"features__cues": "cues"}, "thresholds": "cv", "pooling": "sentence"}
    assert resolve(config, {}) == ("logreg_pooled", {"features__cues": "cues"}, "cv")
    assert resolve(config, {"classifier": "nbsvm"})[:2] == ("logreg_pooled", {"features__cues": "cues",
                                                                              "pool__classifier": "nbsvm"})
    assert resolve(config, {"pooling": "none"})[0] == "logreg"
    assert resolve({**config, "pooling": "none"}, {})[0] == "logreg"
    # Classifiers the runner builds itself, and the rules, are never wrapped.
    assert resolve(config, {"classifier": "rules"})[0] == "rules"
    assert resolve(config, {"classifier": "fasttext"})[0] == "fasttext"


def test_pooled_classifier_is_logreg_unless_a_point_names_another():
    from classify.pipeline import NBSVM
    from experiments.run import build

    plain = build("logreg_pooled", {"features__cues": "cues"}, None)
    nbsvm = build("logreg_pooled", {"pool__classifier": "nbsvm", "features__cues": "cues"}, None)
    assert type(plain.pipeline.named_steps["clf"].estimator).__name__ == "LogisticRegression"
    assert isinstance(nbsvm.pipeline.named_steps["clf"].estimator, NBSVM)
    # pool__ settings are the runner's, never passed on to the pipeline; the others are.
    assert not any(k.startswith("pool__") for k in nbsvm.pipeline.get_params())
    assert nbsvm.pipeline.get_params()["features__cues"] != "drop"

def test_near_copies_catch_wire_copies_and_containment_not_other_text():
    from experiments.selftrain import near_copies

    labelled = ["قصفت الطائرات الحربية بلدة هجين شرق دير الزور صباح اليوم وقتل خمسة مدنيين بينهم اطفال"]
    texts = [labelled[0].replace("خمسة", "ستة"),  # a wire copy with one word changed
             "وفي سياق متصل " + labelled[0] + " بحسب ناشطين في المنطقة",  # the labelled one inside a longer one
             "افتتح معرض الكتاب في الرياض بمشاركة واسعة من دور النشر العربية والاجنبية هذا العام"]
    assert near_copies(texts, labelled).tolist() == [True, True, False]


def test_self_training_adds_only_confident_rows_and_none_gives_the_plain_model():
    import numpy as np

    from classify.pipeline import make_pipeline
    from experiments.selftrain import SelfTrained

    texts = ["قصف الطيران البلدة", "قصفت المدفعية القرية", "وزع الهلال الاحمر المساعدات", "افتتح معرض الكتاب",
             "قصف مدفعي على الحي", "وصلت قافلة مساعدات"] * 3
    Y = np.array([[1, 0], [1, 0], [0, 1], [0, 0], [1, 0], [0, 1]] * 3)
    pool = ["قصف الطيران الحي", "قافلة مساعدات للاهالي", "معرض الكتاب"]
    pipeline = make_pipeline(params={"clf__estimator__dual": True})
    plain = pipeline.fit(texts, Y).predict_proba(pool + texts)
    # Thresholds no score passes: no pseudo row, the model of the labels alone.
    none = SelfTrained(make_pipeline(params={"clf__estimator__dual": True}), pool, positive=2.0, negative=-1.0).fit(texts, Y)
    assert none.pseudo_counts_ == [{"positive": [0, 0], "negative": [0, 0]}]
    np.testing.assert_allclose(none.predict_proba(pool + texts), plain, atol=1e-6)
    some = SelfTrained(make_pipeline(params={"clf__estimator__dual": True}), pool, positive=0.5, negative=0.5,
                       rounds=2).fit(texts, Y)
    # Every pool row is confident one way or the other for each label, in each round.
    assert [np.add(c["positive"], c["negative"]).tolist() for c in some.pseudo_counts_] == [[3, 3], [3, 3]]
