"""Model folders: what saving may replace, atomic swaps, concurrent use, verified cards."""

import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from classify.cli import main
from classify.errors import ClassifyError
from classify.model import train
from classify.io import umask
from classify.store import SAVE_STEPS, current_version, is_model_folder, load_model, save_model


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
    assert saves >= 6 and loads >= 6, (saves, loads)
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
