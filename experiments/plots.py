"""Plots for RESULTS.md. Arabic is drawn by matplotlib (>= 3.11 lays it out natively: no reshaping)."""

import numpy as np

from classify.evaluate import _plt
from classify.rules import LABELS

# A font with Arabic glyphs; DejaVu Sans ships with matplotlib and covers Arabic.
FONT = {"family": "DejaVu Sans"}


def plot_top_ngrams(pipeline, path, k=12):
    """The k most positively weighted features of each label of a linear pipeline."""
    plt = _plt()
    clf = pipeline.named_steps["clf"]
    names = pipeline.named_steps["features"].get_feature_names_out()
    fig, axes = plt.subplots(1, len(LABELS), figsize=(4.2 * len(LABELS), 5.2))
    for ax, label, estimator in zip(axes, LABELS, clf.estimators_):
        coef = getattr(estimator, "coef_", None)
        if coef is None:
            ax.set_axis_off()
            continue
        coef = np.asarray(coef).ravel()
        top = np.argsort(coef)[-k:]
        shown = [names[i].split("__", 1)[1].replace(" ", "_") for i in top]  # "_" keeps word edges visible
        ax.barh(range(k), coef[top], color="tab:blue")
        ax.set_yticks(range(k), shown, fontsize=12, **FONT)
        ax.set_title(label)
        ax.set_xlabel("weight")
    fig.suptitle("Most positively weighted n-grams per label (normalised text; _ marks a word edge)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_learning_curve(points, path):
    """Test macro-F1 and CV macro-F1 (mean +- std) against the number of training paragraphs."""
    plt = _plt()
    points = sorted(points)
    sizes = [p[0] for p in points]
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    ax.plot(sizes, [p[1] for p in points], "o-", label="test macro-F1")
    ax.errorbar(sizes, [p[2] for p in points], yerr=[p[3] for p in points], fmt="s--", capsize=3,
                label="CV macro-F1 (mean ± std)")
    ax.set(xscale="log", xlabel="training paragraphs", ylabel="macro-F1", ylim=(0, 1),
           title="Learning curve of the default model")
    ax.set_xticks(sizes, [str(s) for s in sizes])
    ax.minorticks_off()
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
