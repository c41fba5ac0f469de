"""Model folders: what saving may replace, atomic swaps, concurrent use, verified cards."""

import json

import pytest

from classify.cli import main
from classify.errors import ClassifyError
from classify.model import train
from classify.store import is_model_folder, load_model, save_model


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
