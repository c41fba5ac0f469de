"""Agreement between two independent labellings of the same paragraphs."""

import numpy as np
import pandas as pd
from sklearn.metrics import cohen_kappa_score, f1_score

from classify.errors import ClassifyError
from classify.model import binarize
from classify.scheme import default_scheme


def agreement(first, second, labels=None):
    """Per-label Cohen's kappa and F1 between two labellings of shared spans.

    Parameters
    ----------
    first, second : pandas.DataFrame
        From :func:`classify.data.parse_spans`; compared on the spans they share.
    labels : sequence of str, optional
        A scheme's labels; default the codebook's.

    Returns
    -------
    pandas.DataFrame
        One row per label plus ``any label`` (none vs some) and ``exact set``.
    """
    both = first.merge(second, on=["doc_id", "start", "end"], suffixes=("_a", "_b"))
    if both.empty:
        raise ClassifyError("the two files share no span (doc_id, start, end)")
    labels = default_scheme().labels if labels is None else labels
    A, B = binarize(both.labels_a, labels), binarize(both.labels_b, labels)
    rows = []
    for j, label in enumerate(labels):
        rows.append({"label": label, "n": len(both), "positives_a": int(A[:, j].sum()),
                     "positives_b": int(B[:, j].sum()), "agree": float((A[:, j] == B[:, j]).mean()),
                     "kappa": _kappa(A[:, j], B[:, j]), "f1": float(f1_score(A[:, j], B[:, j], zero_division=1))})
    some_a, some_b = A.any(axis=1).astype(int), B.any(axis=1).astype(int)
    rows.append({"label": "any label", "n": len(both), "positives_a": int(some_a.sum()),
                 "positives_b": int(some_b.sum()), "agree": float((some_a == some_b).mean()),
                 "kappa": _kappa(some_a, some_b), "f1": float(f1_score(some_a, some_b, zero_division=1))})
    rows.append({"label": "exact set", "n": len(both), "positives_a": None, "positives_b": None,
                 "agree": float((A == B).all(axis=1).mean()), "kappa": None, "f1": None})
    return pd.DataFrame(rows)


def _kappa(a, b):
    # Both annotators constant and equal: perfect agreement, which sklearn reports as nan.
    if len(set(a) | set(b)) == 1:
        return 1.0
    return float(cohen_kappa_score(a, b))


def agreement_table(table):
    """The agreement frame as a Markdown table."""
    def fmt(value, column):
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return ""
        return f"{value:.3f}" if column in ("agree", "kappa", "f1") else str(int(value)) if column != "label" else value
    lines = ["| label | n | positives (A) | positives (B) | raw agreement | Cohen's kappa | F1 (A as reference) |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for row in table.to_dict("records"):
        lines.append("| " + " | ".join(fmt(row[c], c) for c in table.columns) + " |")
    return "\n".join(lines)
