"""Calibration: the measures, the two calibrators, and calibrated models."""

import json

import numpy as np
import pytest

from classify.calibration import (apply_calibrator, brier, check_calibrator, check_reliability, cross_calibrated,
                                  ece, fit_calibrator, log_loss, reliability, summary)
from classify.errors import ClassifyError
from classify.store import check_card, load_model

LABELS = ("a", "b")


def overconfident(n=4000, seed=0):
    """Scores far more extreme than the truth warrants, for two labels."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 2)) * 1.5
    Y = (rng.random((n, 2)) < 1 / (1 + np.exp(-z))).astype(int)
    return Y, 1 / (1 + np.exp(-3 * z + 0.5))


def test_the_measures():
    y, p = np.array([0, 0, 1, 1]), np.array([0.1, 0.3, 0.6, 0.9])
    assert brier(y, p) == pytest.approx((0.01 + 0.09 + 0.16 + 0.01) / 4)
    assert log_loss(y, p) == pytest.approx(-np.mean(np.log([0.9, 0.7, 0.6, 0.9])))
    assert [b[2] for b in reliability(y, p)] == [1, 1, 1, 1]
    assert ece(y, p) == pytest.approx((0.1 + 0.3 + 0.4 + 0.1) / 4)
    assert ece(np.array([1, 0]), np.array([0.5, 0.5])) == 0


@pytest.mark.parametrize("method", ["sigmoid", "isotonic"])
def test_calibrators_fix_overconfident_scores(method):
    Y, P = overconfident()
    calibrator = fit_calibrator(method, P[:2000], Y[:2000], LABELS)
    assert check_calibrator(json.loads(json.dumps(calibrator)), LABELS)
    Q = apply_calibrator(calibrator, P[2000:], LABELS)
    for j in range(2):
        y = Y[2000:, j]
        assert ece(y, Q[:, j]) < ece(y, P[2000:, j]) / 2
        assert log_loss(y, Q[:, j]) < log_loss(y, P[2000:, j])
        order = np.argsort(P[2000:, j])
        assert np.all(np.diff(Q[order, j]) >= -1e-12)  # monotonic: the ranking is kept
    if method == "sigmoid":  # the scores' log-odds are 3z - 0.5, the truth's z: a = 1/3, b = 1/6
        assert calibrator["per_label"]["a"]["a"] == pytest.approx(1 / 3, abs=0.05)


def test_no_calibration_and_bad_names():
    Y, P = overconfident(100)
    assert fit_calibrator("none", P, Y, LABELS) is None and fit_calibrator(None, P, Y, LABELS) is None
    assert np.array_equal(apply_calibrator(None, P, LABELS), P)
    with pytest.raises(ClassifyError, match="unknown calibration 'platt'"):
        fit_calibrator("platt", P, Y, LABELS)
    folds = np.arange(100) % 4
    assert np.array_equal(cross_calibrated(Y, P, folds, "none", LABELS), P)
    assert cross_calibrated(Y, P, folds, "sigmoid", LABELS).shape == P.shape


@pytest.mark.parametrize("value", [
    {"method": "sigmoid", "per_label": {"a": {"a": 1, "b": 0}}},  # a label missing
    {"method": "platt", "per_label": {"a": {"a": 1, "b": 0}, "b": {"a": 1, "b": 0}}},
    {"method": "sigmoid", "per_label": {"a": {"a": float("nan"), "b": 0}, "b": {"a": 1, "b": 0}}},
    {"method": "isotonic", "per_label": {"a": {"x": [0.5, 0.1], "y": [0, 1]}, "b": {"x": [0], "y": [0]}}},
    {"method": "isotonic", "per_label": {"a": {"x": [0, 1], "y": [0, 2]}, "b": {"x": [0], "y": [0]}}},
    [1, 2], "sigmoid",
])
def test_bad_calibrators_are_refused(value):
    assert not check_calibrator(value, LABELS)


def test_a_calibrated_model_records_and_applies_its_calibration(trained_model):
    model = load_model(trained_model)
    cal = model.meta["calibration"]
    assert cal["method"] == "sigmoid" and set(cal["per_label"]) == set(model.labels)
    assert check_reliability(model.meta["oof_reliability"], model.labels)
    texts = ["قصفت الطائرات الحربية مواقع في حلب", "افتتح معرض للكتاب في حمص"]
    raw = model.pipeline.predict_proba(texts)
    assert np.allclose(model.predict_proba(texts).to_numpy(), apply_calibrator(cal, raw, model.labels))
    assert all(0 < t < 1 for t in model.thresholds.values())


def test_the_card_checks_the_calibration(trained_model):
    from classify.store import META_FILE, card_sha256, current_version

    card = json.loads((current_version(trained_model) / META_FILE).read_text(encoding="utf-8"))
    check_card(card)
    for field, bad in (("calibration", {"method": "sigmoid", "per_label": {"shelling": {"a": 1, "b": 0}}}),
                       ("calibration", "sigmoid"),
                       ("oof_reliability", {"shelling": {"ece": 2}})):
        edited = {**card, field: bad}
        edited["card_sha256"] = card_sha256(edited)
        with pytest.raises(ClassifyError, match=f"field '{field}' must be"):
            check_card(edited)
    uncalibrated = {**card, "calibration": None}
    uncalibrated["card_sha256"] = card_sha256(uncalibrated)
    check_card(uncalibrated)


def test_training_without_calibration(spans):
    from classify.model import train

    rows = spans[:60]
    model = train([s[4] for s in rows], [s[3] for s in rows], [s[0] for s in rows], n_splits=3,
                  params={"features__char__min_df": 1}, calibration="none")
    assert model.meta["calibration"] is None
    texts = [s[4] for s in rows[:3]]
    assert np.allclose(model.predict_proba(texts).to_numpy(), model.pipeline.predict_proba(texts))
    assert set(summary(np.zeros((2, 1), int), np.full((2, 1), 0.1), ["x"])["x"]) == {"ece", "brier", "log_loss", "bins"}
