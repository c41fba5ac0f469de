"""Model folders: what saving may replace, atomic swaps, concurrent use, verified cards."""

import json
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from classify.cli import main
from classify.errors import ClassifyError
from classify.model import train
from classify.rules import LABELS
from classify.io import umask
from classify.scheme import Scheme, default_scheme
from classify.store import SAVE_STEPS, card_sha256, current_version, is_model_folder, load_model, save_model

CODEBOOK = default_scheme().card()
TWO = Scheme("arrests", ("shelling", "arrest"), {"shelling": ("قصف",), "arrest": ("اعتقال",)}).card()


@pytest.fixture(scope="module")
def small_model(spans):
    rows = spans[:60]
    return train([s[4] for s in rows], [s[3] for s in rows], [s[0] for s in rows],
                 params={"features__char__min_df": 1, "features__char__ngram_range": (2, 3)}, n_splits=2)


def test_saving_refuses_a_folder_that_is_not_a_model(small_model, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "labels.csv").write_text("precious", encoding="utf-8")
    with pytest.raises(ClassifyError, match="not a classify model"):
        save_model(small_model, data)
    assert [p.name for p in data.iterdir()] == ["labels.csv"]
    assert (data / "labels.csv").read_text(encoding="utf-8") == "precious"


@pytest.mark.parametrize("entry,content", [("CURRENT", "my notes"), (".tmp-notes.txt", "x"),
                                           ("model.json", '{"format_version": 1}')])
def test_a_folder_that_only_looks_like_a_model_is_refused(small_model, tmp_path, entry, content):
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / entry).write_text(content, encoding="utf-8")
    with pytest.raises(ClassifyError, match="not a classify model"):
        save_model(small_model, folder)
    assert [p.name for p in folder.iterdir()] == [entry]


def test_saving_refuses_a_file(small_model, tmp_path):
    target = tmp_path / "file"
    target.write_text("x", encoding="utf-8")
    with pytest.raises(ClassifyError, match="not a folder"):
        save_model(small_model, target)
    assert target.read_text(encoding="utf-8") == "x"


def test_saving_replaces_a_model_and_fills_an_empty_folder(small_model, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    save_model(small_model, empty)
    assert is_model_folder(empty)
    save_model(small_model, empty)
    assert load_model(empty).thresholds == small_model.thresholds


def test_train_out_on_a_data_folder_is_one_line_and_keeps_the_files(tmp_path, labels_file, corpus_dir, capsys):
    before = labels_file.read_bytes()
    status = main(["train", "--labels", str(labels_file), "--corpus", str(corpus_dir), "--out", str(tmp_path),
                   "--config", str(_config(tmp_path / "cfg"))])
    err = capsys.readouterr().err
    assert status == 2 and "not a classify model" in err and err.count("\n") == 1 and "training" not in err
    assert labels_file.read_bytes() == before and (tmp_path / "cfg" / "small.toml").is_file()


def _config(folder):
    from conftest import write_config

    folder.mkdir()
    return write_config(folder)


WORKER = Path(__file__).with_name("store_worker.py")


def _start(*args):
    return subprocess.Popen([sys.executable, str(WORKER), *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _finish(process):
    out, err = process.communicate(timeout=120)
    return process.returncode, out, err


def test_parallel_writers_and_readers_never_fail(small_model, tmp_path):
    src, dst = tmp_path / "src", tmp_path / "dst"
    save_model(small_model, src)
    save_model(small_model, dst)
    workers = [_start("write", src, dst, 4) for _ in range(2)] + [_start("read", dst, 4) for _ in range(2)]
    results = [_finish(p) for p in workers]
    for status, out, err in results:
        assert status == 0, err
    saves = sum(int(out) for _, out, _ in results[:2])
    loads = sum(int(out) for _, out, _ in results[2:])
    assert saves >= 3 and loads >= 3, (saves, loads)  # both sides really ran, overlapping
    print(f"{saves} saves, {loads} loads")
    final = load_model(dst)
    texts = [s for s in ["قصفت الطائرات الحربية مواقع في حلب", "نزح آلاف المدنيين"]]
    assert final.predict(texts) == small_model.predict(texts)
    names = sorted(p.name for p in dst.iterdir())
    versions = [n for n in names if n.startswith("v-")]
    assert 1 <= len(versions) <= 2 and not [n for n in names if n.startswith(".tmp-")]


def test_a_kill_at_every_step_of_a_save_leaves_a_loadable_model(small_model, tmp_path):
    src = tmp_path / "src"
    save_model(small_model, src)
    targets = {step: tmp_path / f"dst{i}" for i, step in enumerate(SAVE_STEPS)}
    for dst in targets.values():
        save_model(small_model, dst)
    before = {step: current_version(dst) for step, dst in targets.items()}
    killed = {step: _start("kill", src, dst, step) for step, dst in targets.items()}
    texts = ["قصفت الطائرات الحربية مواقع في حلب"]
    for step, process in killed.items():
        status, _, err = _finish(process)
        assert status == 9, (step, err)
        dst = targets[step]
        assert load_model(dst).predict(texts) == small_model.predict(texts), step
        switched = SAVE_STEPS.index(step) >= SAVE_STEPS.index("pointer replaced")
        assert (current_version(dst) != before[step]) == switched, step
        save_model(small_model, dst)  # the next save cleans up what the killed one left
        names = [p.name for p in dst.iterdir()]
        assert not [n for n in names if n.startswith(".tmp-")], (step, names)
        assert len([n for n in names if n.startswith("v-")]) == 2, (step, names)


def test_a_symlinked_folder_is_followed_not_replaced(small_model, tmp_path):
    real = tmp_path / "real"
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)  # dangling until the first save
    save_model(small_model, link)
    save_model(small_model, link)
    assert link.is_symlink() and (real / "CURRENT").is_file()
    assert load_model(link).thresholds == small_model.thresholds


def test_the_flat_layout_still_loads_and_is_converted_by_the_next_save(small_model, tmp_path):
    folder = tmp_path / "m"
    save_model(small_model, folder)
    version = current_version(folder)
    flat = tmp_path / "flat"
    shutil.copytree(version, flat)
    assert current_version(flat) == flat
    assert load_model(flat).thresholds == small_model.thresholds
    save_model(small_model, flat)
    assert current_version(flat) != flat and not (flat / "model.json").exists()
    assert load_model(flat).thresholds == small_model.thresholds


@pytest.mark.parametrize("pointer", ["../../etc", "v-1", "", "\xff"])
def test_a_bad_pointer_is_one_error(small_model, tmp_path, pointer):
    folder = tmp_path / "m"
    save_model(small_model, folder)
    (folder / "CURRENT").write_bytes(pointer.encode("latin-1"))
    with pytest.raises(ClassifyError, match="not a model version name"):
        load_model(folder)


def test_files_written_get_the_umask_default(small_model, tmp_path):
    folder = save_model(small_model, tmp_path / "m")
    mask = umask()
    assert stat.S_IMODE((folder / "CURRENT").stat().st_mode) == 0o666 & ~mask
    assert stat.S_IMODE(current_version(folder).stat().st_mode) == 0o777 & ~mask
    assert stat.S_IMODE((current_version(folder) / "model.json").stat().st_mode) == 0o666 & ~mask


def _edit_card(folder, text=None, **changes):
    """Rewrite the card of the model in use: with ``text`` as it is, else with ``changes`` applied."""
    path = current_version(folder) / "model.json"
    if text is None:
        card = json.loads(path.read_text(encoding="utf-8"))
        card.update(changes)
        text = json.dumps(card)
    path.write_text(text, encoding="utf-8")


@pytest.fixture()
def saved(small_model, tmp_path):
    return save_model(small_model, tmp_path / "m")


def test_an_edited_card_is_refused(saved):
    card = json.loads((current_version(saved) / "model.json").read_text(encoding="utf-8"))
    _edit_card(saved, thresholds={**card["thresholds"], "shelling": 0.01})
    with pytest.raises(ClassifyError, match="model card was changed after it was saved"):
        load_model(saved)


@pytest.mark.parametrize("changes,message", [
    ({"thresholds": {"shelling": -1}}, "'thresholds' must be a table of one number strictly between 0 and 1"),
    ({"thresholds": dict.fromkeys(LABELS, 1.5)}, "'thresholds' must be a table"),
    ({"thresholds": dict.fromkeys(LABELS, "0.5")}, "'thresholds' must be a table"),
    ({"thresholds": dict.fromkeys(LABELS, None)}, "'thresholds' must be a table"),
    ({"thresholds": None}, "'thresholds' must be a table"),
    ({"labels": "shelling"}, "'labels' must be the list"),
    ({"pipeline_file": "../../etc/passwd"}, "'pipeline_file' must be 'model.skops'"),
    ({"pipeline_sha256": None}, "'pipeline_sha256' must be 64 lowercase hex digits"),
    ({"cv": {"macro_f1": "high"}}, "'cv' must be a table"),
    ({"n_train": True}, "'n_train' must be a count"),
    ({"format_version": "2"}, "'format_version' must be one of 1, 2"),
    ({"created": 5}, "'created' must be an ISO 8601 time"),
    ({"pooling": "max"}, "'pooling' must be \"none\" or \"sentence\", got 'max'"),
    ({"owner": "me"}, "unknown field 'owner'"),
    ({"card_sha256": "0" * 64}, "model card was changed"),
    ({"scheme": "codebook"}, "'scheme' must be a table of name, labels, cues and sha256"),
    ({"scheme": {"name": "codebook"}}, "field 'scheme' lacks 'labels'"),
    ({"scheme": {**CODEBOOK, "sha256": "0" * 64}}, "field 'scheme': sha256 is not that of the scheme's content"),
    ({"scheme": {**CODEBOOK, "cues": {**CODEBOOK["cues"], "shelling": ["قصف", ""]}}},
     "field 'scheme': labels.shelling.cues[1] is empty"),
    ({"scheme": {**CODEBOOK, "labels": ["shelling", "shelling"]}}, "field 'scheme': labels must be a list of distinct"),
    ({"scheme": {**CODEBOOK, "labels": ["shelling", "Bad"], "cues": {"shelling": [], "Bad": []}}},
     "field 'scheme': bad label name 'Bad'"),
    # The card's labels, thresholds and per-label scores must be those of its own scheme.
    ({"scheme": TWO}, "field 'labels' must be the list shelling, arrest (the labels of scheme 'arrests')"),
    ({"scheme": TWO, "labels": ["shelling", "arrest"]}, "field 'thresholds' must be a table of one number"),
    ({"scheme": TWO, "labels": ["shelling", "arrest"], "thresholds": {"shelling": 0.5, "arrest": 0.5}},
     "field 'cv' must have per_label_f1 for the labels shelling, arrest"),
])
def test_every_card_field_is_checked(saved, changes, message):
    _edit_card(saved, **changes)
    with pytest.raises(ClassifyError, match=re.escape(message)):
        load_model(saved)


def test_a_card_without_a_scheme_loads_as_the_codebooks(saved, small_model, spans):
    # Cards written before schemes have no "scheme" field: their labels are the codebook's.
    card = json.loads((current_version(saved) / "model.json").read_text(encoding="utf-8"))
    assert card["scheme"] == CODEBOOK
    del card["scheme"]
    _edit_card(saved, text=json.dumps({**card, "card_sha256": card_sha256(card)}))
    loaded = load_model(saved)
    assert loaded.scheme == default_scheme() and loaded.labels == LABELS
    texts = [s[4] for s in spans[:20]]
    np.testing.assert_array_equal(loaded.predict_proba(texts).to_numpy(), small_model.predict_proba(texts).to_numpy())
    # Saved again, it records the codebook's scheme.
    save_model(loaded, saved)
    assert json.loads((current_version(saved) / "model.json").read_text(encoding="utf-8"))["scheme"] == CODEBOOK


@pytest.mark.parametrize("text,message", [
    ("[1, 2]", "must be a JSON object, got list"),
    ('"model"', "must be a JSON object, got str"),
    ("null", "must be a JSON object, got NoneType"),
    ('{"thresholds": NaN}', "not valid JSON (NaN is not a JSON number)"),
    ("[" * 100_000 + "]" * 100_000, "not valid JSON"),
    ("{", "not valid JSON"),
])
def test_a_card_that_is_not_an_object_is_one_error(saved, text, message):
    _edit_card(saved, text=text)
    with pytest.raises(ClassifyError, match=re.escape(message)):
        load_model(saved)


def test_a_card_without_its_hash_is_refused_in_a_versioned_folder(saved):
    card = json.loads((current_version(saved) / "model.json").read_text(encoding="utf-8"))
    del card["card_sha256"]
    _edit_card(saved, text=json.dumps(card))
    with pytest.raises(ClassifyError, match="lacks the field 'card_sha256'"):
        load_model(saved)
    card["format_version"] = 1  # the older format has no hash, but only in the flat layout
    _edit_card(saved, text=json.dumps(card))
    with pytest.raises(ClassifyError, match="format version 1 in a versioned model folder"):
        load_model(saved)


def test_a_format_1_flat_model_still_loads(saved, small_model, tmp_path):
    flat = tmp_path / "flat"
    shutil.copytree(current_version(saved), flat)
    card = json.loads((flat / "model.json").read_text(encoding="utf-8"))
    del card["card_sha256"]
    (flat / "model.json").write_text(json.dumps({**card, "format_version": 1}), encoding="utf-8")
    assert load_model(flat).thresholds == small_model.thresholds


def test_saving_an_invalid_card_is_refused_before_writing(small_model, tmp_path):
    from classify.model import Model

    bad = Model(small_model.pipeline, {**small_model.thresholds, "shelling": float("nan")})
    with pytest.raises(ClassifyError, match="'thresholds' must be"):
        save_model(bad, tmp_path / "m")
    assert not [p for p in (tmp_path / "m").iterdir() if p.name != ".lock"]


def test_a_trusted_object_of_the_wrong_shape_is_refused(small_model, spans, tmp_path):
    from sklearn.linear_model import LogisticRegression

    from classify.model import Model
    from classify.pipeline import make_pipeline

    thresholds = dict.fromkeys(LABELS, 0.5)
    save_model(Model(LogisticRegression(), thresholds), tmp_path / "lr")
    with pytest.raises(ClassifyError, match="holds a LogisticRegression, not a scikit-learn Pipeline"):
        load_model(tmp_path / "lr")
    rows = spans[:40]
    three = make_pipeline(params={"features__char__min_df": 1, "features__cues": "drop"})
    three.fit([s[4] for s in rows], np.array([[int(lab in s[3]) for lab in LABELS[:3]] for s in rows]))
    save_model(Model(three, thresholds), tmp_path / "three")
    with pytest.raises(ClassifyError, match=re.escape("probabilities of shape (2, 3), expected (2, 5)")):
        load_model(tmp_path / "three")
    save_model(Model(make_pipeline(), thresholds), tmp_path / "unfitted")
    with pytest.raises(ClassifyError, match="the pipeline cannot predict"):
        load_model(tmp_path / "unfitted")


def test_an_edited_card_is_one_line_on_the_command_line(saved, tmp_path, capsys):
    _edit_card(saved, thresholds=dict.fromkeys(LABELS, -1))
    article = tmp_path / "a.txt"
    article.write_text("قصفت الطائرات الحربية مواقع في حلب بعدة غارات جوية صباح اليوم.\n", encoding="utf-8")
    status = main(["predict", "--model", str(saved), str(article)])
    err = capsys.readouterr().err
    assert status == 2 and "'thresholds' must be" in err and err.count("\n") == 1


def test_a_model_left_aside_by_an_older_save_is_pointed_out(saved, tmp_path):
    aside = tmp_path / ".gone.old"
    shutil.copytree(current_version(saved), aside)
    with pytest.raises(ClassifyError, match=r"interrupted save of an older classify left one in .*\.gone\.old"):
        load_model(tmp_path / "gone")
    with pytest.raises(ClassifyError, match="run 'classify train' first"):
        load_model(tmp_path / "other")
