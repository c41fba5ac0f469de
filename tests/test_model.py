import json

import numpy as np
import pytest

from classify import load_model, save_model, train
from classify.errors import ClassifyError
from classify.model import best_threshold, binarize
from classify.store import current_version
from classify.rules import LABELS


@pytest.fixture(scope="module")
def fitted(spans):
    texts = [s[4] for s in spans]
    labels = [s[3] for s in spans]
    groups = [s[0] for s in spans]
    return train(texts, labels, groups, params={"features__char__min_df": 1}, n_splits=3), texts


def test_fit_save_load_gives_identical_predictions(fitted, tmp_path):
    model, texts = fitted
    save_model(model, tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    assert loaded.thresholds == model.thresholds
    np.testing.assert_array_equal(loaded.predict_proba(texts).to_numpy(), model.predict_proba(texts).to_numpy())
    assert loaded.predict(texts) == model.predict(texts)
    meta = json.loads((current_version(tmp_path / "m") / "model.json").read_text(encoding="utf-8"))
    assert meta["labels"] == list(LABELS) and len(meta["pipeline_sha256"]) == 64
    assert meta["scheme"]["name"] == "codebook" and meta["scheme"]["labels"] == list(LABELS)
    assert {"python", "scikit-learn", "classify"} <= set(meta["versions"])


def test_model_learns_the_fixture(fitted, spans):
    model, texts = fitted
    predicted = binarize(model.predict(texts))
    truth = binarize([s[3] for s in spans])
    assert (predicted == truth).all(axis=1).mean() > 0.9
    assert model.meta["cv"]["macro_f1"] > 0.5


def test_predictions_are_ordered_and_probabilities_cover_every_label(fitted):
    model, _ = fitted
    proba = model.predict_proba(["قصفت الطائرات الحربية مواقع في حلب، ونزح آلاف المدنيين من حلب"])
    assert list(proba.columns) == list(LABELS) and ((proba >= 0) & (proba <= 1)).all().all()
    labels = model.predict(["قصفت الطائرات الحربية مواقع في حلب، ونزح آلاف المدنيين من حلب"])[0]
    assert labels == sorted(labels, key=lambda label: -proba.iloc[0][label])
    assert "shelling" in labels


@pytest.mark.parametrize("text", ["", "   ", "The weather in London is mild.", "12345", "😀"])
def test_empty_or_non_arabic_text_gets_a_prediction(fitted, text):
    model, _ = fitted
    assert model.predict([text]) == [[]]


def test_tampered_model_file_is_refused(fitted, tmp_path):
    model, _ = fitted
    folder = save_model(model, tmp_path / "m")
    with open(current_version(folder) / "model.skops", "ab") as fh:
        fh.write(b"\0")
    with pytest.raises(ClassifyError, match="SHA-256 differs"):
        load_model(folder)


def _rewrite_meta(folder, **changes):
    path = current_version(folder) / "model.json"
    meta = json.loads(path.read_text(encoding="utf-8"))
    meta.update(changes)
    path.write_text(json.dumps(meta), encoding="utf-8")


def test_unknown_format_or_labels_are_refused(fitted, tmp_path):
    model, _ = fitted
    folder = save_model(model, tmp_path / "m")
    _rewrite_meta(folder, format_version=99)
    with pytest.raises(ClassifyError, match="'format_version' must be one of 1, 2, got 99"):
        load_model(folder)
    _rewrite_meta(folder, format_version=2, labels=["shelling", "looting"])
    with pytest.raises(ClassifyError, match="'labels' must be the list shelling, ground_advance"):
        load_model(folder)


def test_untrusted_types_are_refused(tmp_path):
    import skops.io as sio
    from sklearn.preprocessing import FunctionTransformer

    from classify.model import Model
    # A pipeline carrying an arbitrary function: skops would call it on load.
    folder = save_model(Model(FunctionTransformer(func=print), {label: 0.5 for label in LABELS}), tmp_path / "m")
    assert sio.get_untrusted_types(file=current_version(folder) / "model.skops")
    with pytest.raises(ClassifyError, match="untrusted type"):
        load_model(folder)


def test_a_failed_save_leaves_the_previous_model(fitted, tmp_path, monkeypatch):
    import skops.io as sio

    model, texts = fitted
    folder = save_model(model, tmp_path / "m")
    version = current_version(folder)
    before = (version / "model.skops").read_bytes()

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sio, "dump", broken)
    with pytest.raises(ClassifyError, match="cannot save the model .*No space left"):
        save_model(model, folder)
    assert current_version(folder) == version and (version / "model.skops").read_bytes() == before
    assert load_model(folder).predict(texts[:3]) == model.predict(texts[:3])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]
    assert sorted(p.name for p in folder.iterdir()) == [".lock", "CURRENT", version.name]


def test_missing_model(tmp_path):
    with pytest.raises(ClassifyError, match="no model at"):
        load_model(tmp_path / "nothing")


def test_best_threshold_maximises_f1():
    y = np.array([0, 0, 1, 1, 1])
    scores = np.array([0.1, 0.35, 0.3, 0.8, 0.9])
    assert best_threshold(y, scores) == pytest.approx(0.3, abs=0.03)
    assert best_threshold(np.zeros(4, dtype=int), scores[:4]) == 0.5


def test_single_threshold_option(spans):
    model = train([s[4] for s in spans], [s[3] for s in spans], [s[0] for s in spans],
                  params={"features__char__min_df": 1}, thresholds=0.5, n_splits=3)
    assert set(model.thresholds.values()) == {0.5}


def test_training_needs_every_label(spans):
    rows = [s for s in spans if "withdrawal" not in s[3]]
    with pytest.raises(ClassifyError, match="withdrawal"):
        train([s[4] for s in rows], [s[3] for s in rows], [s[0] for s in rows])
