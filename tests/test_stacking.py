"""Stacking of per-block models (classify.stacking): fit, predict, inner grouped folds, the runner's wiring."""

import numpy as np
import pytest

from classify.model import quietly
from classify.pipeline import make_pipeline
from classify.stacking import StackedBlocks

SMALL = {"features__char__min_df": 1, "features__char__ngram_range": (2, 4)}


def _stacked(**kwargs):
    return StackedBlocks(make_pipeline("logreg", SMALL), inner_splits=3, **kwargs)


@pytest.fixture(scope="module")
def data(split_spans):
    return split_spans


@pytest.fixture(scope="module")
def fitted(data):
    return _stacked().fit(data["X"], data["Y"], groups=data["groups"])


def test_stacked_blocks_learn_the_fixture_and_generalise_to_held_out_articles(fitted, data):
    proba = fitted.predict_proba(data["X_test"])
    assert proba.shape == data["Y_test"].shape
    assert ((proba >= 0) & (proba <= 1)).all()
    assert ((proba >= 0.5) == data["Y_test"]).all(axis=1).mean() > 0.8
    np.testing.assert_array_equal(fitted.predict(data["X_test"]), (proba >= 0.5).astype(int))


def test_one_base_model_per_block_plus_the_union_and_a_meta_model_per_label(fitted, data):
    assert [name for name, _ in fitted.blocks_] == ["char", "structure", "clusters"]
    assert len(fitted.base_) == 4 and len(fitted.meta_) == data["Y"].shape[1]
    weights = fitted.meta_weights(names=["a", "b", "c", "d", "e"])
    assert set(weights) == {"a", "b", "c", "d", "e"}
    assert all(set(w) == {"char", "structure", "clusters", "union"} for w in weights.values())
    # The per-label meta-model sees each model's score of that label only.
    assert fitted.meta_[0].coef_.shape == (1, 4)


def test_options_blocks_only_cross_label_and_no_groups(data):
    blocks_only = _stacked(union=False).fit(data["X"], data["Y"])  # no groups: shuffled plain k-fold
    assert len(blocks_only.base_) == 3
    assert set(blocks_only.meta_weights()[0]) == {"char", "structure", "clusters"}
    cross = _stacked(cross_label=True).fit(data["X"], data["Y"], groups=data["groups"])
    assert cross.meta_[0].coef_.shape == (1, 4 * data["Y"].shape[1])
    assert cross.predict_proba(data["X_test"]).shape == data["Y_test"].shape


def test_a_label_with_one_class_gets_its_constant_rate_and_fits_are_reproducible(data):
    Y = data["Y"].copy()
    Y[:, 2] = 0
    # A label absent from the training data warns (one-vs-rest), as it does in the default model.
    a = quietly(_stacked().fit, data["X"], Y, groups=data["groups"])
    b = quietly(_stacked().fit, data["X"], Y, groups=data["groups"])
    proba = a.predict_proba(data["X_test"])
    assert (proba[:, 2] == 0).all()
    np.testing.assert_array_equal(proba, b.predict_proba(data["X_test"]))


def test_plain_or_empty_text_gets_a_prediction(fitted):
    proba = fitted.predict_proba(["", "Shelling hit the city.", "قصفت الطائرات الحربية البلدة"])
    assert proba.shape == (3, 5) and np.isfinite(proba).all()


def test_the_runner_builds_it_with_its_options():
    from experiments.run import GROUPED, build

    est = build("logreg_stacked", {"stack__inner_splits": 4, "stack__union": False, "features__char__min_df": 1}, None)
    assert isinstance(est, StackedBlocks) and "logreg_stacked" in GROUPED
    assert est.inner_splits == 4 and est.union is False
    assert est.pipeline.get_params()["features__char__min_df"] == 1


@pytest.mark.parametrize("config", [
    'classifier = "logreg_stacked"\nn_splits = 3\n[params]\n"features__char__min_df" = 1\n"stack__inner_splits" = 2\n',
    'classifier = "logreg_context"\nn_splits = 3\n[params]\n"features__char__min_df" = 1\n[grid]\n'
    '"context__weight" = [0.2, 0.5]\n',
], ids=["stacked", "context"])
def test_the_runner_records_cv_runs_of_both(tmp_path, corpus_dir, spans, config):
    from conftest import labels_csv
    from experiments import ledger
    from experiments.run import main

    (tmp_path / "labels.csv").write_text(labels_csv(spans), encoding="utf-8")
    (tmp_path / "c.toml").write_text(config, encoding="utf-8")
    assert main([str(tmp_path / "c.toml"), "--labels", str(tmp_path / "labels.csv"), "--corpus", str(corpus_dir),
                 "--ledger", str(tmp_path / "runs.jsonl"), "--results", str(tmp_path / "R.md"), "--no-cache",
                 "--no-plots", "--jobs", "1"]) == 0
    records = ledger.read(tmp_path / "runs.jsonl")
    assert records and all(r["status"] == "ok" for r in records), records
    assert all(r["cv"]["macro_f1"]["mean"] > 0.5 and r["predict_seconds"] > 0 for r in records)
