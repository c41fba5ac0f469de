"""A saved model predicts through its runtime arrays: the pipeline's output, without scikit-learn."""

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from classify import load_model, save_model
from classify.errors import ClassifyError
from classify.runtime import RUNTIME_FILE, Runtime, export_runtime, fast
from classify.store import card_sha256, current_version
from conftest import one_line_error, run

ROOT = Path(__file__).resolve().parents[1]
TEXTS = ["قصفت الطائرات الحربية مواقع في حلب وقتل مدنيون", "نفت الوزارة انسحاب القوات من المدينة",
         "", "انسحب المقاتلون من البلدة بعد معارك عنيفة. وتقدمت القوات نحو محور الجنوب", "1234 !!"]


@pytest.fixture()
def model_copy(trained_model, tmp_path):
    folder = tmp_path / "m"
    shutil.copytree(trained_model, folder)
    return folder


def _card(folder):
    return json.loads((current_version(folder) / "model.json").read_text(encoding="utf-8"))


def _write_card(folder, card):
    card["card_sha256"] = card_sha256(card)
    (current_version(folder) / "model.json").write_text(json.dumps(card), encoding="utf-8")


def test_a_default_model_is_saved_with_its_runtime_and_predicts_through_it(trained_model, spans):
    card = _card(trained_model)
    assert card["runtime_file"] == RUNTIME_FILE and len(card["runtime_sha256"]) == 64
    model = load_model(trained_model)
    assert model.runtime is not None and model._pipeline is None  # the pipeline is not built yet
    texts = [s[4] for s in spans] + TEXTS
    fast = model.predict_proba(texts).to_numpy()
    labels = model.predict(texts)
    # The same functions compute the features, so the probabilities are the pipeline's exactly.
    reference = model.pipeline.predict_proba(texts)
    np.testing.assert_array_equal(model.runtime.predict_proba(texts), reference)
    model.runtime = None  # through the pipeline, as a model without a runtime
    np.testing.assert_array_equal(model.predict_proba(texts).to_numpy(), fast)
    assert model.predict(texts) == labels


_NO_SKLEARN = """
import sys
from classify import load_model
model = load_model(sys.argv[1])
assert model.runtime is not None
labels = model.predict(["قصفت الطائرات مواقع في حلب", "انسحب المقاتلون من البلدة"])
assert len(labels) == 2
print(sorted({m.split(".")[0] for m in sys.modules} & {"sklearn", "pandas", "skops"}))
"""


def test_loading_and_predicting_import_neither_scikit_learn_nor_pandas(trained_model):
    done = subprocess.run([sys.executable, "-c", _NO_SKLEARN, str(trained_model)], capture_output=True, text=True,
                          cwd=ROOT, check=True)
    assert done.stdout.strip() == "[]", done.stdout


def test_import_classify_imports_no_scientific_library_beyond_numpy():
    code = ("import sys, classify; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'sklearn', 'pandas', 'scipy'}))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout.strip() == "[]", done.stdout


def test_the_pipeline_is_built_when_something_needs_it(trained_model):
    model = load_model(trained_model)
    explanation = model.explain(TEXTS[0])  # explanations read the pipeline's steps
    assert explanation is not None and model._pipeline is not None


def test_a_tampered_runtime_is_refused_in_one_line(model_copy, capsys):
    path = current_version(model_copy) / RUNTIME_FILE
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(ClassifyError, match="runtime.npz: SHA-256 differs from model.json"):
        load_model(model_copy)
    status, _, err = run(["predict", "--model", model_copy, "-"], capsys)
    one_line_error(status, err, "runtime.npz", "SHA-256 differs")


def test_a_runtime_of_wrong_arrays_is_refused_even_with_a_matching_hash(model_copy):
    path = current_version(model_copy) / RUNTIME_FILE
    with np.load(path, allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    arrays["coef"] = arrays["coef"][:-1]  # one feature short
    np.savez(path, **arrays)
    card = _card(model_copy)
    card["runtime_sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    _write_card(model_copy, card)
    with pytest.raises(ClassifyError, match="runtime.npz: not a classify runtime file .*coefficients of shape"):
        load_model(model_copy)


def test_an_object_array_is_refused_not_unpickled():
    import io

    out = io.BytesIO()
    np.savez(out, spec=np.array([{"version": 1}], dtype=object))
    with pytest.raises(ClassifyError, match="not a classify runtime file"):
        Runtime(out.getvalue())


def test_a_model_folder_without_a_runtime_loads_through_skops(model_copy):
    expected = load_model(model_copy).predict_proba(TEXTS).to_numpy()
    card = _card(model_copy)
    del card["runtime_file"], card["runtime_sha256"]
    _write_card(model_copy, card)
    (current_version(model_copy) / RUNTIME_FILE).unlink()
    model = load_model(model_copy)
    assert model.runtime is None
    np.testing.assert_array_equal(model.predict_proba(TEXTS).to_numpy(), expected)
    # Saving it again writes the runtime.
    save_model(model, model_copy)
    assert load_model(model_copy).runtime is not None


def test_a_card_with_half_a_runtime_entry_is_refused(model_copy):
    card = _card(model_copy)
    del card["runtime_sha256"]
    _write_card(model_copy, card)
    with pytest.raises(ClassifyError, match="both 'runtime_file' and 'runtime_sha256', or neither"):
        load_model(model_copy)


@pytest.mark.parametrize("params", [
    {"features__cues": "cues"},  # a block the runtime does not have
    {"features__char": "reference"},  # scikit-learn's own vectoriser
])
def test_pipelines_of_other_kinds_have_no_runtime_and_still_load(spans, tmp_path, params):
    from classify.model import train

    rows = spans[:60]
    model = train([s[4] for s in rows], [s[3] for s in rows], [s[0] for s in rows],
                  params={"features__char__min_df": 1, **params}, n_splits=2)
    assert export_runtime(model.pipeline) is None
    save_model(model, tmp_path / "m")
    assert "runtime_file" not in _card(tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    assert loaded.runtime is None
    np.testing.assert_array_equal(loaded.predict_proba(TEXTS).to_numpy(), model.predict_proba(TEXTS).to_numpy())


def test_a_structure_block_with_the_expanded_lexicon_predicts_the_same_through_its_runtime(spans):
    from classify.model import train

    rows = spans[:60]
    model = train([s[4] for s in rows], [s[3] for s in rows], [s[0] for s in rows],
                  params={"features__char__min_df": 1, "features__structure__lexicon": "expanded"}, n_splits=2)
    runtime = Runtime(export_runtime(model.pipeline))
    texts = [s[4] for s in spans] + TEXTS
    assert (runtime._fast is not None) == fast.available()  # the compiled kernel reads the expanded lists too
    np.testing.assert_array_equal(runtime.predict_proba(texts), model.pipeline.predict_proba(texts))
    np.testing.assert_array_equal(runtime.reference_proba(texts), model.pipeline.predict_proba(texts))
    codebook = train([s[4] for s in rows], [s[3] for s in rows], [s[0] for s in rows],
                     params={"features__char__min_df": 1}, n_splits=2)
    # The lexicon travels with the model: the two runtimes read the same text differently.
    text = ["وتقصف المدفعية البلدة بينما يفرون من القرية"]
    assert (runtime.transform(text) != Runtime(export_runtime(codebook.pipeline)).transform(text)).nnz > 0


def test_other_classifiers_have_no_runtime(spans):
    from classify.model import train

    rows = spans[:60]
    model = train([s[4] for s in rows], [s[3] for s in rows], [s[0] for s in rows], classifier="nbsvm",
                  params={"features__char__min_df": 1}, n_splits=2)
    assert export_runtime(model.pipeline) is None
