"""Multi-label metrics, the evaluation report, and its plots."""

import io
import json

import numpy as np
from sklearn.metrics import (f1_score, hamming_loss, multilabel_confusion_matrix, precision_recall_curve,
                             precision_recall_fscore_support)

from classify.corpus import file_sha256
from classify.errors import ClassifyError
from classify.io import atomic_write
from classify.rules import LABELS


def check_labels_file(meta, labels_file, allow_other=False):
    """Refuse to score a model against a labels file other than the one it was trained on.

    With another file the split can differ: test paragraphs may have been trained on,
    and the score would be inflated without a sign of it.

    Parameters
    ----------
    meta : dict
        The model card (``model.meta``), with ``labels_file_sha256``.
    labels_file : str or Path
    allow_other : bool
        Return a warning instead of refusing.

    Returns
    -------
    str or None
        A warning to show when ``allow_other`` let a difference through, else ``None``.

    Raises
    ------
    ClassifyError
        If the file's SHA-256 differs from the recorded one (or none was recorded) and
        ``allow_other`` is false.
    """
    recorded = meta.get("labels_file_sha256")
    try:
        actual = file_sha256(labels_file)
    except OSError as exc:
        raise ClassifyError(f"cannot read {labels_file}: {exc.strerror}") from None
    if recorded == actual:
        return None
    problem = (f"{labels_file} is not the labels file the model was trained on (SHA-256 {actual[:12]}, "
               f"model.json records {recorded[:12]})" if recorded else
               f"the model records no labels file, so {labels_file} cannot be checked against it")
    if not allow_other:
        raise ClassifyError(f"{problem}: its test split may overlap the training data; "
                            "pass --allow-other-labels to evaluate anyway")
    return f"warning: {problem}; the scores may be inflated"


def metrics(Y_true, Y_pred, labels=LABELS):
    """Per-label and averaged scores of 0/1 label matrices.

    Parameters
    ----------
    Y_true, Y_pred : ndarray of shape (n, n_labels)
    labels : sequence of str
        The column names (a scheme's labels); default the codebook's.

    Returns
    -------
    dict
        ``per_label`` (precision, recall, f1, support), ``micro_f1``, ``macro_f1``,
        ``samples_f1``, ``hamming_loss``, ``exact_match`` and ``n``.
    """
    p, r, f, s = precision_recall_fscore_support(Y_true, Y_pred, average=None, zero_division=0)
    return {
        "n": int(len(Y_true)),
        "per_label": {label: {"precision": float(p[j]), "recall": float(r[j]), "f1": float(f[j]),
                              "support": int(s[j])} for j, label in enumerate(labels)},
        "micro_f1": float(f1_score(Y_true, Y_pred, average="micro", zero_division=0)),
        "macro_f1": float(f1_score(Y_true, Y_pred, average="macro", zero_division=0)),
        # A paragraph with no true and no predicted label is a perfect answer, not 0/0.
        "samples_f1": float(np.mean([1.0 if t.sum() == 0 and q.sum() == 0 else
                                     f1_score(t, q, zero_division=0) for t, q in zip(Y_true, Y_pred)])),
        "hamming_loss": float(hamming_loss(Y_true, Y_pred)),
        "exact_match": float((Y_true == Y_pred).all(axis=1).mean()),
    }


def metrics_table(result, labels=None):
    """The metrics as a Markdown table (one row per label of ``result``, or of ``labels``)."""
    labels = list(result["per_label"]) if labels is None else labels
    lines = ["| label | precision | recall | F1 | support |", "|---|---:|---:|---:|---:|"]
    for label in labels:
        m = result["per_label"][label]
        lines.append(f"| {label} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} | {m['support']} |")
    lines += ["", "| average | value |", "|---|---:|"]
    for key in ("micro_f1", "macro_f1", "samples_f1", "hamming_loss", "exact_match"):
        lines.append(f"| {key} | {result[key]:.3f} |")
    return "\n".join(lines)


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_confusion(Y_true, Y_pred, path, labels=LABELS):
    """One 2x2 confusion matrix per label, in one PNG."""
    plt = _plt()
    matrices = multilabel_confusion_matrix(Y_true, Y_pred)
    fig, axes = plt.subplots(1, len(labels), figsize=(3.2 * len(labels), 3.4))
    for ax, label, m in zip(axes, labels, matrices):
        ax.imshow(m, cmap="Blues")
        for (i, j), v in np.ndenumerate(m):
            ax.text(j, i, str(v), ha="center", va="center", color="white" if v > m.max() / 2 else "black")
        ax.set(title=label, xticks=[0, 1], yticks=[0, 1], xticklabels=["no", "yes"], yticklabels=["no", "yes"],
               xlabel="predicted", ylabel="true")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_pr_curves(Y_true, proba, thresholds, path, labels=LABELS):
    """Precision-recall curve per label, with the chosen threshold marked."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.5, 5))
    for j, label in enumerate(labels):
        if Y_true[:, j].sum() == 0:
            continue
        precision, recall, cuts = precision_recall_curve(Y_true[:, j], proba[:, j])
        line, = ax.plot(recall, precision, label=label)
        k = min(np.searchsorted(cuts, thresholds[label]), len(cuts) - 1)
        ax.plot(recall[k], precision[k], "o", color=line.get_color())
    ax.set(xlabel="recall", ylabel="precision", xlim=(0, 1.01), ylim=(0, 1.01),
           title="Precision-recall per label (dot: chosen threshold)")
    ax.legend(loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_report(result, folder, title, Y_true=None, Y_pred=None, proba=None, thresholds=None):
    """Write ``metrics.json``, ``metrics.md`` and (given the matrices) the two PNG plots."""
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write(folder / "metrics.json", lambda fh: json.dump(result, fh, ensure_ascii=False, indent=2))
    body = f"# {title}\n\n{metrics_table(result)}\n"
    if Y_true is not None:
        labels = list(result["per_label"])  # the model's scheme's, in column order
        plot_confusion(Y_true, Y_pred, folder / "confusion.png", labels)
        plot_pr_curves(Y_true, proba, thresholds, folder / "pr_curves.png", labels)
        body += "\n![confusion matrices](confusion.png)\n\n![precision-recall curves](pr_curves.png)\n"
    atomic_write(folder / "metrics.md", lambda fh: fh.write(body))
