"""How to mix a paragraph's probability with its best sentence's: sentence pooling's rule, by paired CV.

    python -m experiments.pooling_mix [--repeats 3] [--out experiments/POOLING_MIX.md]

On the paired folds of ``experiments.paired`` (training split only; the ledger's grouped
5-fold split, then shuffled groups), the default pipeline is fitted on each fold's training
part and scores the held-out paragraphs and each of their sentences. From those two
scores per label, each rule below is scored as the ledger scores (thresholds chosen on
the other folds) and compared with the shipped rule, the mean (w = 0.5), fold by fold:

- ``w``: ``(1 - w) * p(paragraph) + w * max p(sentence)``, for w in 0 (the paragraph alone) to 1;
- ``noisy-or``: ``1 - (1 - p(paragraph)) * (1 - max p(sentence))``;
- ``w per label``: each label's w chosen, with its threshold, on the other folds' scores
  (a learned mix; the held-out fold never chooses).

The test split is never read. Prints (and with ``--out`` writes) a Markdown table.
"""

import argparse
import sys
from pathlib import Path

import numpy as np
from sklearn.base import clone

from classify.evaluate import metrics
from classify.io import atomic_write
from classify.model import best_threshold, binarize, fold_scores, quietly
from classify.pipeline import make_pipeline
from classify.pooling import normaliser_of
from classify.rules import LABELS
from classify.sentences import split_sentences
from experiments.paired import compare, splits
from experiments.run import load_data

WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)


def _scores(pipeline, texts, Y, train, test):
    """p(paragraph) and max p(sentence) of the ``test`` rows, from the pipeline fitted on ``train``."""
    fitted = quietly(clone(pipeline).fit, [texts[i] for i in train], Y[train])
    held = [texts[i] for i in test]
    paragraph = fitted.predict_proba(held)
    normalise = normaliser_of(fitted)
    sentences, owners = [], []
    for i, text in enumerate(held):
        parts = split_sentences(normalise(text))
        sentences += parts
        owners += [i] * len(parts)
    best = np.zeros_like(paragraph)
    np.maximum.at(best, np.asarray(owners), fitted.predict_proba(sentences))
    return paragraph, best


def _per_label_mix(Y, paragraph, best, fold_of):
    """Per held-out fold: each label's w and threshold chosen on the other folds; the fold's metrics."""
    out = []
    for k in np.unique(fold_of):
        inside = fold_of == k
        decided = np.zeros((inside.sum(), Y.shape[1]), dtype=int)
        for j in range(Y.shape[1]):
            def f1_at(w):
                s = (1 - w) * paragraph[~inside, j] + w * best[~inside, j]
                t = best_threshold(Y[~inside, j], s)
                tp = ((s >= t) & (Y[~inside, j] == 1)).sum()
                return 2 * tp / max((s >= t).sum() + Y[~inside, j].sum(), 1), t
            w, t = max(((w, *f1_at(w)) for w in WEIGHTS), key=lambda x: (x[1], -abs(x[0] - 0.5)))[::2]
            decided[:, j] = ((1 - w) * paragraph[inside, j] + w * best[inside, j]) >= t
        out.append(metrics(Y[inside], decided))
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m experiments.pooling_mix", description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", help="also write the table here (Markdown)")
    args = parser.parse_args(argv)
    train = load_data()["train"]
    texts, Y = train.text.tolist(), binarize(train.labels)
    pipeline = make_pipeline()
    rules = {f"w = {w}": (lambda p, b, w=w: (1 - w) * p + w * b) for w in WEIGHTS}
    rules["noisy-or"] = lambda p, b: 1 - (1 - p) * (1 - b)
    per_fold = {name: [] for name in [*rules, "w per label"]}
    for r in range(args.repeats):
        paragraph, best, fold_of = np.zeros(Y.shape), np.zeros(Y.shape), np.zeros(len(Y), dtype=int)
        for rr, k, tr, te in splits(train, 5, args.repeats):
            if rr == r:
                paragraph[te], best[te] = _scores(pipeline, texts, Y, tr, te)
                fold_of[te] = k
                print(f"repeat {r} fold {k} done", file=sys.stderr)
        for name, rule in rules.items():
            per_fold[name] += fold_scores(Y, rule(paragraph, best), fold_of)
        per_fold["w per label"] += _per_label_mix(Y, paragraph, best, fold_of)
    base = per_fold["w = 0.5"]
    lines = [f"Paired against the shipped rule (w = 0.5), {len(base)} folds ({args.repeats} repeats of grouped 5-fold "
             "CV, training split only; `python -m experiments.pooling_mix`):", "",
             "| rule | CV macro-F1 | diff vs w = 0.5 | folds won | p sign-flip | p corrected t | "
             + " | ".join(LABELS) + " |", "|---|---:|---:|---:|---:|---:|" + "---:|" * len(LABELS)]
    for name, folds in per_fold.items():
        c = compare(base, folds, 5)
        labels = " | ".join(f"{np.mean([m['per_label'][label]['f1'] for m in folds]):.3f}" for label in LABELS)
        lines.append(f"| {name} | {c['candidate_mean']:.4f} ± {np.std([m['macro_f1'] for m in folds]):.4f} | "
                     f"{c['mean']:+.4f} ± {c['std']:.4f} | {c['wins']}/{c['n']} | {c['sign_flip_p']:.3g} | "
                     f"{c['corrected_t_p']:.3g} | {labels} |")
    table = "\n".join(lines) + "\n"
    print(table)
    if args.out:
        atomic_write(Path(args.out), lambda fh: fh.write(table))
    return 0


if __name__ == "__main__":
    sys.exit(main())
