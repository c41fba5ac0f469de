"""Error analysis of the default model's out-of-fold predictions on the training split (issue 8).

    python -m experiments.errors [--out reports/errors_oof.md]

Only the training split is read: each paragraph is predicted by the model of the grouped
5-fold CV that did not see it, with thresholds chosen on the other folds (as the ledger's
CV score). The test split is never looked at. Prints which labels are confused with which,
and the error rates by paragraph length, number of sentences, denial and modality cues.
"""

import argparse
import sys

import numpy as np
import pandas as pd
from joblib import Memory

from classify.sentences import split_sentences
from classify.features.structure import sentence_features
from classify.io import atomic_write
from classify.model import binarize, choose_thresholds, out_of_fold_proba
from classify.normalise import normalise
from classify.pipeline import make_pipeline
from classify.rules import LABELS
from experiments.run import CACHE, load_data


def oof_predictions(train):
    """Out-of-fold 0/1 predictions of the default model, each fold's thresholds from the other folds."""
    Y = binarize(train.labels)
    proba, folds = out_of_fold_proba(make_pipeline(memory=Memory(CACHE, verbose=0)), train.text.tolist(), Y,
                                     train.group.to_numpy())
    pred = np.zeros_like(Y)
    for k in np.unique(folds):
        inside = folds == k
        pred[inside] = proba[inside] >= choose_thresholds(Y[~inside], proba[~inside])
    return Y, proba, pred


def _f1(Y, P):
    tp, fp, fn = (Y & P).sum(), ((1 - Y) & P).sum(), (Y & (1 - P)).sum()
    return 2 * tp / max(2 * tp + fp + fn, 1)


def tables(train, Y, pred):
    """Markdown tables of the out-of-fold errors."""
    out = []
    fn, fp = Y & (1 - pred), (1 - Y) & pred
    out.append("## Errors per label, and what the model said instead\n")
    out.append("| gold label | paragraphs | missed (FN) | FN given another label instead | "
               + " | ".join(f"FN -> {b}" for b in LABELS) + " | false alarms (FP) | FP whose gold is another label | "
               + " | ".join(f"FP <- {b}" for b in LABELS) + " |")
    out.append("|---|" + "---:|" * (4 + 2 * len(LABELS) + 1))
    for j, label in enumerate(LABELS):
        missed = fn[:, j] == 1
        alarms = fp[:, j] == 1
        out.append(f"| {label} | {Y[:, j].sum()} | {missed.sum()} | {(pred[missed].sum(axis=1) > 0).sum()} | "
                   + " | ".join(str(pred[missed, b].sum()) for b in range(len(LABELS))) + f" | {alarms.sum()} | "
                   + f"{(Y[alarms].sum(axis=1) > 0).sum()} | "
                   + " | ".join(str(Y[alarms, b].sum()) for b in range(len(LABELS))) + " |")
    folded = train.text.map(normalise)
    words = train.text.str.split().map(len)
    sentences = folded.map(lambda t: len(split_sentences(t)))
    structure = folded.map(sentence_features)
    slices = {
        "words < 20": words < 20, "words 20-39": (words >= 20) & (words < 40), "words 40-79": (words >= 40) & (words < 80),
        "words >= 80": words >= 80,
        "1 sentence": sentences == 1, "2 sentences": sentences == 2, "3+ sentences": sentences >= 3,
        "denial cue": structure.map(lambda s: "deny" in s), "modality cue": structure.map(lambda s: "modal" in s),
        "no label (gold)": pd.Series(Y.sum(axis=1) == 0, index=train.index),
        "2+ labels (gold)": pd.Series(Y.sum(axis=1) >= 2, index=train.index),
    }
    out.append("\n## Errors by kind of paragraph\n")
    out.append("| slice | paragraphs | with a label | any error | FN | FP | micro-F1 | "
               + " | ".join(f"{label} F1" for label in LABELS) + " |")
    out.append("|---|" + "---:|" * (6 + len(LABELS)))
    for name, mask in slices.items():
        m = mask.to_numpy()
        y, p = Y[m], pred[m]
        per = [f"{_f1(y[:, j], p[:, j]):.3f} ({y[:, j].sum()})" for j in range(len(LABELS))]
        out.append(f"| {name} | {m.sum()} | {(y.sum(axis=1) > 0).sum()} | {((y != p).any(axis=1)).sum()} | "
                   f"{(y & (1 - p)).sum()} | {((1 - y) & p).sum()} | {_f1(y.ravel(), p.ravel()):.3f} | "
                   + " | ".join(per) + " |")
    return "\n".join(out) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m experiments.errors", description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="reports/errors_oof.md")
    args = parser.parse_args(argv)
    train = load_data()["train"]
    Y, _, pred = oof_predictions(train)
    text = "# Out-of-fold errors of the default model (training split only)\n\n" + tables(train, Y, pred)
    atomic_write(args.out, lambda fh: fh.write(text))
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
