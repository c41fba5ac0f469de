"""Per-label C by inner grouped CV (classify.perlabel): the choice, the plain fitted pipeline, the runner's wiring."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from classify.model import quietly
from classify.perlabel import PerLabelC, select_C
from classify.pipeline import make_pipeline
from classify.runtime import Runtime, export_runtime

SMALL = {"features__char__min_df": 1, "features__char__ngram_range": (2, 4)}


def _two_labels(seed=0, n=300, d=80):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    # Label 0: a weak signal in one of many noise features, so strong regularisation wins.
    y0 = ((X[:, 0] + rng.normal(scale=0.7, size=n)) > 0).astype(int)
    # Label 1: a clean signal in a feature of tiny scale, which only a large coefficient (weak regularisation) uses.
    y1 = (X[:, 1] > 0).astype(int)
    X[:, 1] *= 0.05
    return X, np.c_[y0, y1], np.repeat(np.arange(n // 3), 3)


@pytest.mark.parametrize("scoring", ["average_precision", "f1"])
def test_each_label_gets_the_C_its_problem_wants(scoring):
    X, Y, groups = _two_labels()
    estimator = LogisticRegression(class_weight="balanced", solver="liblinear", max_iter=2000, random_state=0)
    best, scores = select_C(estimator, X, Y, (100.0, 0.01), groups, inner_splits=3, scoring=scoring)
    np.testing.assert_array_equal(best, [0.01, 100.0])
    assert scores.shape == (2, 2) and scores[0, 0] > scores[1, 0] and scores[1, 1] > scores[0, 1]


def test_a_label_with_one_class_keeps_nothing_chosen_and_a_bad_scoring_is_refused():
    X, Y, groups = _two_labels()
    Y[:, 0] = 0
    estimator = LogisticRegression(solver="liblinear")
    best, scores = select_C(estimator, X, Y, (1.0, 10.0), groups)
    assert np.isnan(best[0]) and np.isnan(scores[:, 0]).all() and best[1] in (1.0, 10.0)
    with pytest.raises(ValueError, match="scoring"):
        select_C(estimator, X, Y, (1.0,), groups, scoring="accuracy")


@pytest.fixture(scope="module")
def data(split_spans):
    return split_spans


def test_the_fitted_model_is_a_plain_pipeline_that_exports_to_the_runtime(data):
    model = quietly(PerLabelC(make_pipeline("logreg", SMALL), Cs=(0.1, 10.0)).fit, data["X"], data["Y"],
                    groups=data["groups"])
    assert type(model.pipeline_) is Pipeline and [name for name, _ in model.pipeline_.steps] == [
        "normalise", "features", "clf"]
    estimators = model.pipeline_["clf"].estimators_
    assert [e.C for e in estimators] == model.C_.tolist() and set(model.C_) <= {0.1, 10.0}
    assert model.scores_.shape == (2, data["Y"].shape[1])
    proba = model.predict_proba(data["X_test"])
    assert ((proba >= 0.5) == data["Y_test"]).all(axis=1).mean() > 0.8
    # Per-label coefficients are per-label already: the runtime scores the same model.
    runtime = Runtime(export_runtime(model.pipeline_))
    np.testing.assert_allclose(runtime.predict_proba(data["X_test"]), proba, rtol=1e-6, atol=1e-9)


def test_the_runner_builds_it_grouped_with_its_options():
    from experiments.run import GROUPED, build

    est = build("logreg_perlabel", {"perlabel__Cs": [1.0, 5.0], "perlabel__scoring": "f1",
                                    "features__char__min_df": 1}, None)
    assert isinstance(est, PerLabelC) and "logreg_perlabel" in GROUPED
    assert est.Cs == (1.0, 5.0) and est.scoring == "f1"
    assert est.pipeline.get_params()["features__char__min_df"] == 1
