"""Which signals the line model needs: each group of features switched off, cross-validated by site.

A group is switched off by holding its columns at zero (standardised, they carry
nothing); "second stage" holds the first stage's neighbour and page scores at zero; "no
labelled pages" trains on the marked pages alone. Every row is out of fold by site,
like ``make segmentation``. Prints a Markdown table.

    python -m experiments.segmentation_ablation
"""

import numpy as np

from classify.segment import model as line_model
from classify.corpus import load_corpus
from classify.data import load_labels
from classify.segment.features import FEATURE_NAMES
from classify.segment.model import Page, out_of_fold, training_pages

GROUPS = {
    "address (url_*)": [n for n in FEATURE_NAMES if n.startswith("url_")],
    "main story (block, overlap, position)": ["in_main", "log_distance_main", "before_main", "after_main",
                                              "main_overlap", "position", "log_index", "log_from_end",
                                              "after_end_marker", "page_log_main_lines"],
    "neighbours' features (@±1, @±2)": [n for n in FEATURE_NAMES if "@" in n],
    "page shape (page_*)": [n for n in FEATURE_NAMES if n.startswith("page_")],
    "line rules (rule_furniture, strong, weak, teaser)": ["rule_furniture", "strong", "weak", "teaser"],
    "the crawl's line counts (crawl_pages, crawl_site_pages)": ["crawl_pages", "crawl_site_pages"],
}


def _score(marked, kept):
    keep = np.concatenate([p.keep for p in marked])
    k = np.concatenate(kept[:len(marked)])
    return k[keep].mean(), 1 - k[~keep].mean()


def main():
    corpus = load_corpus()
    table = load_labels("data/labels.csv", corpus)
    marked, extra = training_pages("data/segmentation.csv", corpus, table)
    rows = [("all signals", _score(marked, out_of_fold(marked + extra)))]
    original = Page.features
    for name, columns in GROUPS.items():
        off = [FEATURE_NAMES.index(c) for c in columns]

        def features(page, url, crawl=True, off=off):
            X = original(page, url, crawl).copy()
            X[:, off] = 0
            return X

        Page.features = features
        try:
            rows.append((f"without {name}", _score(marked, out_of_fold(marked + extra))))
        finally:
            Page.features = original
    context = line_model._with_context
    line_model._with_context = lambda X, logit: context(X, np.zeros_like(logit))
    try:
        rows.append(("without the second stage", _score(marked, out_of_fold(marked + extra))))
    finally:
        line_model._with_context = context
    rows.append(("without labelled pages (marked pages only)", _score(marked, out_of_fold(marked))))
    print("| line model | article lines kept | furniture lines dropped |\n|---|---:|---:|")
    for name, (kept, dropped) in rows:
        print(f"| {name} | {kept:.1%} | {dropped:.1%} |")


if __name__ == "__main__":
    main()
