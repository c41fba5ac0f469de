"""The paired per-fold comparison (experiments.paired): point selection, the tests over folds, a tiny run."""

import numpy as np
import pytest

from conftest import labels_csv
from experiments.paired import compare, corrected_t_p, main, select, sign_flip_p

SMALL = 'n_splits = 3\n[params]\n"features__char__min_df" = 1\n"features__char__ngram_range" = [2, 4]\n'


def test_sign_flip_is_exact_and_two_sided():
    # Five positive differences: only all-plus and all-minus are as extreme, 2 of 32 sign vectors.
    assert sign_flip_p([0.01, 0.02, 0.03, 0.01, 0.02]) == pytest.approx(2 / 32)
    assert sign_flip_p([0.01, -0.01, 0.02, -0.02]) == 1.0
    assert sign_flip_p(-np.arange(1, 6) / 100) == pytest.approx(2 / 32)


def test_the_corrected_t_test_is_more_cautious_than_the_plain_one():
    from scipy import stats

    d = np.array([0.01, 0.004, 0.012, -0.002, 0.008, 0.006])
    plain = stats.ttest_1samp(d, 0).pvalue
    assert corrected_t_p(d, 0.25) > plain
    assert corrected_t_p(d, 0.0) == pytest.approx(plain)
    assert corrected_t_p([0.0, 0.0], 0.25) == 1.0


def test_compare_counts_wins_and_per_label_differences():
    def fold(f1, shelling):
        return {"macro_f1": f1, "per_label": {k: {"f1": shelling if k == "shelling" else 0.5} for k in
                                              ("shelling", "ground_advance", "withdrawal", "humanitarian", "claim_denial")}}

    base = [fold(0.70, 0.8), fold(0.71, 0.8), fold(0.69, 0.8)]
    cand = [fold(0.72, 0.9), fold(0.70, 0.9), fold(0.70, 0.9)]
    c = compare(base, cand, n_splits=3)
    assert c["n"] == 3 and c["wins"] == 2 and c["mean"] == pytest.approx(0.02 / 3)
    assert c["per_label"]["shelling"] == pytest.approx(0.1) and c["per_label"]["withdrawal"] == 0


def test_a_point_is_chosen_by_its_keys_and_a_bad_one_is_one_line(tmp_path):
    from classify.errors import ClassifyError

    path = tmp_path / "g.toml"
    path.write_text('classifier = "logreg"\n[[grid]]\n"clf__estimator__C" = [3.0, 30.0]\n'
                    '[[grid]]\n"clf__estimator__C" = 30.0\n"features__cues" = "cues"\n', encoding="utf-8")
    label, _, point = select(f"{path}:C=30")
    assert point == {"clf__estimator__C": 30.0} and label == "g:C=30"
    assert select(f"{path}:C=30,cues=cues")[2] == {"clf__estimator__C": 30.0, "features__cues": "cues"}
    for bad, why in [(str(path), "no grid point"), (f"{path}:C=10", "no grid point"), (f"{path}:C", "key=value")]:
        with pytest.raises(ClassifyError, match=why):
            select(bad)


def test_a_tiny_paired_run_pairs_the_same_folds(tmp_path, corpus_dir, spans, capsys):
    (tmp_path / "labels.csv").write_text(labels_csv(spans), encoding="utf-8")
    (tmp_path / "a.toml").write_text('classifier = "logreg"\n' + SMALL, encoding="utf-8")
    (tmp_path / "b.toml").write_text('classifier = "logreg_perlabel"\n' + SMALL +
                                     '"perlabel__Cs" = [0.1, 10.0]\n"perlabel__inner_splits" = 2\n', encoding="utf-8")
    out = tmp_path / "P.md"
    args = ["--labels", str(tmp_path / "labels.csv"), "--corpus", str(corpus_dir), "--no-cache", "--repeats", "2"]
    assert main([str(tmp_path / "a.toml"), str(tmp_path / "a.toml"), str(tmp_path / "b.toml"), *args,
                 "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert text == capsys.readouterr().out.rstrip("\n") + "\n"
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    # The baseline against itself: the same folds give six zero differences.
    assert rows[0].startswith("| `a` |") and "+0.0000 ± 0.0000 | 0 / 6 | 1.0000 | 1.000 |" in rows[0]
    assert rows[1].startswith("| `b` |") and len(rows) == 4
    assert main([str(tmp_path / "a.toml"), str(tmp_path / "a.toml") + ":C=3", *args]) == 2
    assert "no grid point matches" in capsys.readouterr().err
