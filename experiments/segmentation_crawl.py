"""What the crawl's line counts add to the line model, at equal article lines kept.

Each part of the line model (a page judged alone; a page with its lines' counts over the
corpus as its crawl) scores every marked page out of fold by site, the folds of
``experiments.segmentation_ablation``. The shipped thresholds are chosen per part on the
training pages, so the two parts keep slightly different shares of article lines; here
both are read at the same shares (98%, 98.5%, 99%), each threshold set on these
out-of-fold scores themselves: a comparison of the two parts, not a figure to quote as
the segmenter's. Prints a Markdown table.

    python -m experiments.segmentation_crawl
"""

import numpy as np

from classify.corpus import load_corpus
from classify.data import load_labels
from classify.segment.model import _folds, fit, training_pages

SHARES = (0.98, 0.985, 0.99)


def out_of_fold_scores(marked, pages, crawl):
    """Each marked page's line scores from the part (``crawl`` or alone) fitted out of fold by site, end to end."""
    groups = [p.domain for p in pages]
    scores = [None] * len(marked)
    for train, test in _folds(groups, 5).split(pages, groups=groups):
        model = fit([pages[i] for i in train], only=crawl)
        for i in test[test < len(marked)]:
            scores[i] = model.scores(pages[i].lines, features=pages[i].features(pages[i].url, crawl))
    return np.concatenate(scores)


def main():
    corpus = load_corpus()
    marked, extra = training_pages("data/segmentation.csv", corpus, load_labels("data/labels.csv", corpus))
    pages = marked + extra
    keep = np.concatenate([p.keep for p in marked])
    print("| line model part | " + " | ".join(f"furniture dropped at {s:.1%} kept" for s in SHARES) + " |")
    print("|---|" + "---:|" * len(SHARES))
    for crawl in (False, True):
        s = out_of_fold_scores(marked, pages, crawl)
        kept = np.sort(s[keep])
        dropped = [(s[~keep] < kept[int(np.floor((1 - share) * kept.size))]).mean() for share in SHARES]
        print(f"| {'with the crawl' if crawl else 'page alone'} | " + " | ".join(f"{d:.1%}" for d in dropped) + " |")


if __name__ == "__main__":
    main()
