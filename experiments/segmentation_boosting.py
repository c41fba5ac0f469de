"""Gradient-boosted trees as the line model's second stage, measured by site: not kept.

At the same share of article lines kept, the trees drop as much furniture as the logistic
second stage on the 336 marked pages (73.3% against 73.4%), 0.4 to 1.4 points more on the
276 before round s10; with the story blocks, 0.3 more on all pages and 0.6 less on the eval
set (README, "Segmentation").

The first stage stays the standardised logistic regression; the second, which sees the
line's features, its neighbours' and the page's first-stage scores, becomes scikit-learn's
HistGradientBoostingClassifier, optionally with the story-block features and block scores
of :mod:`experiments.segmentation_stories` (which a linear model could not combine).

Every row is out of fold by site with the folds of ``make segmentation`` (5, grouped by
site over the marked pages, the labelled pages and the pages whose labelled paragraphs are
scored; ``experiments.segmentation_ablation`` leaves the last out, so its folds differ
slightly). In each outer fold the trees' settings are chosen from ``GRID`` by inner
cross-validation by site on the training pages alone (most furniture dropped at the
threshold), and the threshold is chosen on those inner out-of-fold scores, as
``classify.segment.model.fit`` does: keeping ``KEEP_TARGET`` of all lines to keep, or (rows
"labelled paragraphs' own target", what ships) the lower of ``KEEP_TARGET`` of the marked
article lines and ``LABELLED_TARGET`` of the labelled paragraphs. The column "dropped at
99.0% kept" is a diagnostic, not a result: one margin over the folds' thresholds, chosen on
the test folds, so that models are compared at the same share of article lines kept.
Page features are cached in ``experiments/cache/`` (never committed). ~20 min on one
thread; ``--only 0,5`` runs some rows. Prints Markdown tables.

    python -m experiments.segmentation_boosting             # linear vs boosted, with and without blocks
    python -m experiments.segmentation_boosting --ablation [--blocks]  # boosted, each signal group dropped
"""

import pickle
import sys
from pathlib import Path

import numpy as np

from classify.corpus import load_corpus
from classify.data import load_labels
from classify.segment.evaluate import _labels_csv_pages, _page_sets
from classify.segment.features import FEATURE_NAMES, is_listing_url
from classify.segment.model import (SHORT_WORDS, _fit_stage, _folds, _Linear, _variants, _with_context,
                                    add_repeats, corpus_counts, keep_threshold, training_pages)

from experiments.segmentation_stories import BLOCK_FEATURES, block_features, block_scores

LABELLED_TARGET = 0.995
MARKED = set()
# Named by the line features' count, so a cache of other features is never read.
CACHE = Path(f"experiments/cache/segmentation_boosting_{len(FEATURE_NAMES)}.pkl")
_RULE, _LOG_WORDS = FEATURE_NAMES.index("rule_furniture"), FEATURE_NAMES.index("log_words")
GRID = [dict(learning_rate=0.1, max_leaf_nodes=leaves, l2_regularization=1.0, max_iter=150, min_samples_leaf=40)
        for leaves in (7, 15)]


def _data():
    """Marked pages, labelled pages, pages to score; each (page, url) variant's features and block features."""
    corpus = load_corpus()
    table = load_labels("data/labels.csv", corpus)
    counts = corpus_counts(corpus)
    marked, extra = training_pages("data/segmentation.csv", corpus, table, counts)
    scored = _labels_csv_pages(table, corpus)
    add_repeats(scored, corpus, counts)
    sets = _page_sets("data/segmentation.csv")
    if CACHE.is_file():
        cache = pickle.loads(CACHE.read_bytes())
    else:
        cache = {}
        for page in marked + extra + scored:
            for url in {page.url, None}:
                key = (page.doc_id, url)
                if key not in cache:
                    X = page.features(url)
                    B = block_features(page.lines, url) if page.lines else np.zeros((0, len(BLOCK_FEATURES)))
                    cache[key] = np.hstack([X, B])
        CACHE.parent.mkdir(exist_ok=True)
        CACHE.write_bytes(pickle.dumps(cache))
    return marked, extra, scored, sets, cache


class Config:
    """Which columns the second stage sees and what fits it."""

    def __init__(self, boosted=True, blocks=True, block_scores=True, drop=(), grid=GRID, labelled_target=None):
        self.boosted, self.blocks, self.block_scores, self.drop, self.grid = boosted, blocks, block_scores, drop, grid
        # None: one threshold for all lines to keep; else the lower of KEEP_TARGET of the marked pages'
        # article lines and this share of the labelled paragraphs.
        self.labelled_target = labelled_target
        n = len(FEATURE_NAMES)
        self.first_cols = [i for i in range(n)]
        self.cols = [i for i in range(n + (len(BLOCK_FEATURES) if blocks else 0)) if i not in drop]

    def first(self, M):
        X = M[:, :len(FEATURE_NAMES)].copy()
        X[:, [d for d in self.drop if isinstance(d, int) and d < len(FEATURE_NAMES)]] = 0
        return X

    def second(self, M, logit):
        X = self.first(M)
        ctx = _with_context(X, logit)[:, len(FEATURE_NAMES):]
        if "context" in self.drop:
            ctx = np.zeros_like(ctx)
        parts = [M[:, self.cols], ctx]
        if self.block_scores and len(logit):
            parts += [np.column_stack(block_scores(M, logit))]
        elif self.block_scores:
            parts += [np.zeros((0, 4))]
        return np.hstack(parts)


def _fit_second(X, y, params, boosted):
    if not boosted:
        mean, scale = X.mean(axis=0), X.std(axis=0)
        scale[scale == 0] = 1
        from sklearn.linear_model import LogisticRegression

        clf = LogisticRegression(C=0.1, max_iter=2000, class_weight="balanced").fit((X - mean) / scale, y)
        return lambda Z: clf.decision_function((Z - mean) / scale)
    from sklearn.ensemble import HistGradientBoostingClassifier

    clf = HistGradientBoostingClassifier(early_stopping=False, class_weight="balanced", random_state=0,
                                         **params).fit(X, y)
    return clf.decision_function


def _first_oof(variants, mats, cfg, folds):
    feats = [cfg.first(M) for M in mats]
    oof = [None] * len(variants)
    for train, test in folds:
        first = _Linear(**_fit_stage([variants[i] for i in train], [feats[i] for i in train], 0.1))
        for i in test:
            oof[i] = first.logit(feats[i])
    return feats, oof


def _stack(variants, mats, idx):
    X = np.vstack([mats[i][variants[i][0].known] for i in idx])
    y = np.concatenate([variants[i][0].keep[variants[i][0].known] for i in idx]).astype(int)
    return X, y


def fit(pages, mats_of, cfg, n_splits=5):
    """A fitted two-stage model: (first stage, second stage's decision function, threshold, chosen params)."""
    # Pages judged with their crawl's counts (as make segmentation does), with and without addresses.
    variants = [(p, url) for p, url, crawl in _variants(pages) if crawl == (p.repeats is not None)]
    mats = [mats_of[(p.doc_id, url)] for p, url in variants]
    groups = [p.domain for p, _ in variants]
    folds = list(_folds(groups, n_splits).split(variants, groups=groups))
    feats, oof = _first_oof(variants, mats, cfg, folds)
    second_X = [cfg.second(M, s) for M, s in zip(mats, oof)]
    best = None
    for params in (cfg.grid if cfg.boosted else [{}]):
        keep, scores, marked = [], [], []
        for train, test in folds:
            f = _fit_second(*_stack(variants, second_X, train), params, cfg.boosted)
            for i in test:
                p = variants[i][0]
                keep.append(p.keep[p.known])
                scores.append(f(second_X[i][p.known]))
                marked.append(np.full(p.known.sum(), p.doc_id in MARKED))
        keep, scores, marked = np.concatenate(keep), np.concatenate(scores), np.concatenate(marked)
        threshold = keep_threshold(keep, scores)
        if cfg.labelled_target is not None:
            threshold = min(keep_threshold(keep[marked], scores[marked]),
                            keep_threshold(keep[~marked], scores[~marked], cfg.labelled_target))
        dropped = (scores[~keep] < threshold).mean()
        if best is None or dropped > best[0]:
            best = (dropped, params, threshold)
    _, params, threshold = best
    first = _Linear(**_fit_stage(variants, feats, 0.1))
    second = _fit_second(*_stack(variants, second_X, range(len(variants))), params, cfg.boosted)
    return first, second, threshold, params


def keep(model, M, cfg):
    first, second, threshold, _ = model
    if len(M) == 0:
        return np.zeros(0, dtype=bool)
    X = cfg.first(M)
    scores = second(cfg.second(M, first.logit(X)))
    short = (M[:, _RULE] > 0) & (M[:, _LOG_WORDS] <= np.log1p(SHORT_WORDS))
    # The margin over the fold's threshold, comparable across folds (short furniture far below).
    return np.where(short, -np.inf, scores - threshold)


def out_of_fold(pages, score_only, mats, cfg, n_splits=5):
    everything = list(pages) + list(score_only)
    groups = [p.domain for p in everything]
    kept, chosen = [None] * len(everything), []
    for k, (train, test) in enumerate(_folds(groups, n_splits).split(everything, groups=groups)):
        print(f"fold {k}", file=sys.stderr, flush=True)
        model = fit([everything[i] for i in train if i < len(pages)], mats, cfg, n_splits)
        chosen.append(model[3])
        for i in test:
            p = everything[i]
            kept[i] = keep(model, mats[(p.doc_id, p.url)], cfg)
    return kept, chosen


def summary(marked, scored, sets, margins):
    kept = [m >= 0 for m in margins]
    rows = {}
    for name in ("all pages", "eval", "dev", "new"):
        sel = [i for i, p in enumerate(marked) if name == "all pages" or sets[i] == name]
        k = np.concatenate([kept[i] for i in sel])
        y = np.concatenate([marked[i].keep for i in sel])
        rows[name] = (k[y].mean(), 1 - k[~y].mean())
    lab = {"nl": [0, 0], "nl_label": [0, 0]}
    for p, k in zip(scored, kept[len(kept) - len(scored):]):
        if is_listing_url(p.url):
            continue
        lab["nl"][0] += int(k[p.known].sum())
        lab["nl"][1] += int(p.known.sum())
        lab["nl_label"][0] += int((k & p.keep)[p.known].sum())
        lab["nl_label"][1] += int((p.keep & p.known).sum())
    rows["labelled"] = (lab["nl"][0] / lab["nl"][1], lab["nl_label"][0] / lab["nl_label"][1])
    # Diagnostic only (tuned on the test folds): furniture dropped at one margin keeping 99.0% of article lines.
    m = np.concatenate(margins[:len(marked)])
    y = np.concatenate([p.keep for p in marked])
    at = np.sort(m[y])[int(np.floor(0.01 * y.sum()))]
    rows["at 99.0%"] = (m[~y] < at).mean()
    return rows


def _line(name, rows, chosen=""):
    cells = " | ".join(f"{rows[s][0]:.1%} / {rows[s][1]:.1%}" for s in ("all pages", "eval", "dev", "new"))
    return (f"| {name} | {cells} | {rows['labelled'][0]:.2%} / {rows['labelled'][1]:.2%} | {rows['at 99.0%']:.1%} "
            f"| {chosen} |")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    marked, extra, scored, sets, mats = _data()
    MARKED.update(p.doc_id for p in marked)
    n = len(FEATURE_NAMES)
    if "--ablation" in argv:
        groups = {
            "address (url_*)": [FEATURE_NAMES.index(c) for c in FEATURE_NAMES if c.startswith("url_")],
            "main story": [FEATURE_NAMES.index(c) for c in ("in_main", "log_distance_main", "before_main",
                                                            "after_main", "main_overlap", "position", "log_index",
                                                            "log_from_end", "after_end_marker",
                                                            "page_log_main_lines")],
            "neighbours' features": [FEATURE_NAMES.index(c) for c in FEATURE_NAMES if "@" in c],
            "page shape (page_*)": [FEATURE_NAMES.index(c) for c in FEATURE_NAMES if c.startswith("page_")],
            "line rules": [FEATURE_NAMES.index(c) for c in ("rule_furniture", "strong", "weak", "teaser")],
            "first-stage context scores": ["context"],
        }
        blocks = "--blocks" in argv
        if blocks:
            groups["story blocks and block scores"] = list(range(n, n + len(BLOCK_FEATURES)))
        # The "boosted" row with 15 leaves (what most folds chose), to cost half as much.
        common = dict(blocks=blocks, grid=GRID[1:])
        configs = [("all signals", Config(block_scores=blocks, **common))]
        configs += [(f"without {k}", Config(block_scores=blocks and k != "story blocks and block scores",
                                            drop=tuple(v), **common)) for k, v in groups.items()]
    else:
        configs = [("linear (shipped)", Config(boosted=False, blocks=False, block_scores=False)),
                   ("boosted", Config(blocks=False, block_scores=False)),
                   ("boosted + story blocks", Config(block_scores=False)),
                   ("boosted + story blocks + block scores", Config()),
                   ("linear, labelled paragraphs' own target", Config(boosted=False, blocks=False, block_scores=False,
                                                                       labelled_target=LABELLED_TARGET)),
                   ("boosted, labelled paragraphs' own target", Config(blocks=False, block_scores=False,
                                                                        labelled_target=LABELLED_TARGET))]
        if "--only" in argv:
            configs = [configs[int(k)] for k in argv[argv.index("--only") + 1].split(",")]
    print("| second stage | all | eval | dev | new | labelled kept (not listing / with label) | dropped at 99.0% kept "
          "(diagnostic) | chosen |\n|---|---:|---:|---:|---:|---:|---:|---|", flush=True)
    for name, cfg in configs:
        kept, chosen = out_of_fold(marked + extra, scored, mats, cfg)
        rows = summary(marked, scored, sets, kept)
        print(_line(name, rows, "; ".join(",".join(f"{v}" for v in c.values()) for c in chosen)), flush=True)


if __name__ == "__main__":
    main()
