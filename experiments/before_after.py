"""Like-for-like scores of the model before and after issue 8 on the paragraphs both test splits share.

    git show caabacc:data/labels.csv > /tmp/labels_v2.csv
    python -m experiments.before_after --old-labels /tmp/labels_v2.csv

Trains four models (old or new labels x old or new features) on their training splits and
scores each on the original test paragraphs, against their codebook v3 labels, and on the
whole current test split. Nothing here chooses anything: it only separates the levers.
"""

import argparse
import sys

from classify.corpus import load_corpus
from classify.data import load_labels
from classify.evaluate import metrics
from classify.model import binarize, train
from classify.rules import LABELS

OLD_FEATURES = {"features__cues": "cues", "features__structure": "drop", "features__clusters": "drop",
                "features__sentences": "drop"}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m experiments.before_after", description=__doc__.splitlines()[0])
    parser.add_argument("--old-labels", required=True, help="the labels file before codebook v3")
    parser.add_argument("--labels", default="data/labels.csv")
    args = parser.parse_args(argv)
    corpus = load_corpus()
    old, new = load_labels(args.old_labels, corpus), load_labels(args.labels, corpus)
    key = lambda t: list(zip(t.doc_id, t.start, t.end))
    old_test = set(key(old[old.split == "test"]))
    test = new[new.split == "test"]
    shared = test[[k in old_test for k in key(test)]]
    print(f"original test paragraphs still in the test split: {len(shared)} of {len(old_test)}; "
          f"current test split: {len(test)}\n")
    print("| training labels | features | test paragraphs | macro-F1 | " + " | ".join(LABELS) + " |")
    print("|---|---|---|---:|" + "---:|" * len(LABELS))
    for name, table in (("v2 (3,155)", old), ("v3 + R4 (current)", new)):
        part = table[table.split == "train"]
        for features, params in (("char + cues", OLD_FEATURES), ("default", {})):
            model = train(part.text.tolist(), part.labels.tolist(), part.group.tolist(), params=params, n_jobs=1)
            for where, rows in (("original, v3 labels", shared), ("current split", test)):
                m = metrics(binarize(rows.labels), binarize(model.predict(rows.text.tolist())))
                per = " | ".join(f"{m['per_label'][label]['f1']:.3f}" for label in LABELS)
                print(f"| {name} | {features} | {where} ({len(rows)}) | {m['macro_f1']:.3f} | {per} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
