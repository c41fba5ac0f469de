"""The page-aware line model: which lines of a page to keep, learned from marked pages.

Two standardised logistic regressions over :func:`classify.segment.features.page_features`
(the second also sees the first's scores of the neighbouring lines and of the page). It
ships as a small JSON file of numbers (``line_model.json`` beside this module: the
feature names, scalings, weights, the keep thresholds, the SHA-256 of the marks and labels
it was fitted on) whose own SHA-256 is checked on load, so nothing executable is ever loaded. A
threshold is the highest score that still keeps ``KEEP_TARGET`` of the article lines,
chosen on out-of-fold scores of the training pages, grouped by site; there is one for each
part of the model (a page alone, or with its crawl's line counts).
"""

import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from classify.errors import ClassifyError
from classify.segment.features import FEATURE_NAMES, is_listing_url, page_features
from classify.segment.repeats import LineCounts, site_of
from classify.segment.rules import split_lines

MODEL_FILE = Path(__file__).with_name("line_model.json")
FORMAT = 3
#: Share of article (and mixed) lines the threshold keeps on the training pages' out-of-fold scores.
KEEP_TARGET = 0.985
MARKS = ("article", "mixed", "furniture")
#: A line of at most this many words that the line rules call furniture is dropped whatever its score.
SHORT_WORDS = 10
_RULE, _LOG_WORDS = FEATURE_NAMES.index("rule_furniture"), FEATURE_NAMES.index("log_words")
#: The line model's two parts: for a page judged alone, and for a page with its crawl's line counts.
PARTS = ("alone", "crawl")
_NO_CRAWL = FEATURE_NAMES.index("no_crawl")


@dataclass
class Page:
    """One page for training: its lines, whether each is to be kept, and which of them are known.

    A marked page has every line known; a page of ``data/labels.csv`` knows only its
    labelled paragraphs, each read as article text by an annotator.
    """

    doc_id: str
    domain: str
    url: str
    lines: list
    keep: np.ndarray
    known: np.ndarray = None
    #: On how many other pages of the crawl each line stands (see :mod:`classify.segment.repeats`).
    repeats: np.ndarray = None

    def __post_init__(self):
        if self.known is None:
            self.known = np.ones(len(self.lines), dtype=bool)
        self._features = {}

    def features(self, url, crawl=True):
        # Cross-validation refits many times on the same pages: compute each page once.
        key = (url, crawl and self.repeats is not None)
        if key not in self._features:
            self._features[key] = page_features(self.lines, url, self.repeats if key[1] else None)
        return self._features[key]


class LineModel:
    """Scores each line of a page; a line is kept when its score reaches its threshold.

    Two linear stages: the first scores each line from its features; the second adds the
    first's scores of the line's neighbours and of the whole page, because furniture
    comes in runs (a teaser list, a footer) and a listing is furniture throughout. There
    is one such pair for a page judged alone and one for a page with its crawl's line
    counts (:data:`PARTS`), as the other signals weigh differently beside the counts;
    each has its threshold.
    """

    def __init__(self, parts, meta=None):
        self.parts = {name: _Part(**parts[name]) for name in PARTS}
        self.meta = dict(meta or {})

    def _part(self, X):
        return self.parts["crawl" if len(X) and X[0, _NO_CRAWL] == 0 else "alone"]

    def scores(self, lines, url=None, features=None, repeats=None):
        """Probability that each line of a page is article text (``lines``: list of str;
        ``repeats``: the lines' counts over the crawl, :meth:`LineCounts.features`)."""
        X = page_features(lines, url, repeats) if features is None else features
        return self._part(X).scores(X)

    def keep(self, lines, url=None, features=None, repeats=None):
        """Which lines to keep: score at the threshold, unless the rules call a short line furniture.

        Crawled pages glue their furniture into long lines, so the marked pages hold
        almost no short lines to learn from; a page with one element per line (the seed
        article) has many, and for those the rules' verdict stands.
        """
        X = page_features(lines, url, repeats) if features is None else features
        short_furniture = (X[:, _RULE] > 0) & (X[:, _LOG_WORDS] <= np.log1p(SHORT_WORDS))
        part = self._part(X)
        return (part.scores(X) >= part.threshold) & ~short_furniture

    @property
    def thresholds(self):
        """Each part's threshold."""
        return {name: self.parts[name].threshold for name in PARTS}

    def to_dict(self):
        body = {"format": FORMAT, "features": list(FEATURE_NAMES),
                "parts": {name: self.parts[name].to_dict() for name in PARTS}, "meta": self.meta}
        return {**body, "sha256": _digest(body)}

    @classmethod
    def from_dict(cls, data, where="line model"):
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ClassifyError(f"{where}: not a line model of format {FORMAT}")
        body = {k: v for k, v in data.items() if k != "sha256"}
        if data.get("sha256") != _digest(body):
            raise ClassifyError(f"{where}: its sha256 does not match its contents (edited or damaged)")
        if data.get("features") != list(FEATURE_NAMES):
            raise ClassifyError(f"{where}: fitted on other features than this version computes; refit it")
        try:
            return cls(data["parts"], data["meta"])
        except (KeyError, TypeError, ValueError) as err:
            raise ClassifyError(f"{where}: not a complete line model ({type(err).__name__}: {err})") from None


class _Part:
    """One pair of stages and its threshold."""

    def __init__(self, first, second, threshold):
        self.first, self.second = _Linear(**first), _Linear(**second)
        self.threshold = float(threshold)

    def scores(self, X):
        return 1 / (1 + np.exp(-self.second.logit(_with_context(X, self.first.logit(X)))))

    def to_dict(self):
        return {"first": self.first.to_dict(), "second": self.second.to_dict(), "threshold": self.threshold}


class _Linear:
    """A standardised linear function: ``((X - mean) / scale) @ coef + intercept``."""

    def __init__(self, mean, scale, coef, intercept):
        self.mean, self.scale, self.coef = (np.asarray(v, dtype=float) for v in (mean, scale, coef))
        self.intercept = float(intercept)

    def logit(self, X):
        return ((X - self.mean) / self.scale) @ self.coef + self.intercept

    def to_dict(self):
        return {"mean": self.mean.tolist(), "scale": self.scale.tolist(), "coef": self.coef.tolist(),
                "intercept": self.intercept}


def _with_context(X, logit):
    """The features plus the first stage's scores of the two lines either side and of the page."""
    n = len(logit)
    padded = np.concatenate([[0.0, 0.0], logit, [0.0, 0.0]])
    near = [padded[2 + k:2 + k + n] for k in (-2, -1, 1, 2)]
    page = [np.full(n, logit.mean() if n else 0.0), np.full(n, (logit > 0).mean() if n else 0.0)]
    return np.column_stack([X, *near, *page])


def _digest(body):
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=True).encode()).hexdigest()


_LOADED = {}


def load_line_model(path=MODEL_FILE):
    """The shipped line model (cached), or None when the file does not exist."""
    path = Path(path)
    if path not in _LOADED:
        if not path.is_file():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise ClassifyError(f"{path}: cannot read the line model ({err})") from None
        _LOADED[path] = LineModel.from_dict(data, str(path))
    return _LOADED[path]


def save_line_model(model, path=MODEL_FILE):
    """Write the line model's JSON atomically."""
    from classify.io import atomic_write

    text = json.dumps(model.to_dict(), indent=1, ensure_ascii=False)
    atomic_write(path, lambda fh: fh.write(text + "\n"))
    _LOADED.pop(Path(path), None)


def read_marks(marks_path, corpus):
    """The marked pages of ``marks_path`` (``doc_id,start,end,mark,set,sha1``), lines in page order.

    Every line of a marked page must be marked, by the page's own line offsets.
    """
    import pandas as pd

    from classify.data import read_text, span_sha1

    marks = pd.read_csv(io.StringIO(read_text(marks_path)), dtype={"sha1": str, "doc_id": str})
    missing = {"doc_id", "start", "end", "mark", "sha1"} - set(marks.columns)
    if missing:
        raise ClassifyError(f"{marks_path}: missing column(s) {', '.join(sorted(missing))}")
    pages = []
    for doc_id, rows in marks.groupby("doc_id", sort=False):
        if doc_id not in corpus:
            raise ClassifyError(f"{marks_path}: unknown doc_id {doc_id!r}")
        article = corpus[doc_id]
        by_span = {(r.start, r.end): r for r in rows.itertuples()}
        lines, keep = [], []
        for p in split_lines(article.text):
            row = by_span.pop((p.start, p.end), None)
            if row is None:
                raise ClassifyError(f"{marks_path}: {doc_id} line {p.start}:{p.end} is not marked")
            if row.mark not in MARKS:
                raise ClassifyError(f"{marks_path}: {doc_id} {p.start}:{p.end}: mark {row.mark!r}, expected one of "
                                    + ", ".join(MARKS))
            if span_sha1(p.text) != row.sha1:
                raise ClassifyError(f"{marks_path}: sha1 mismatch for {doc_id} {p.start}:{p.end}")
            lines.append(p.text)
            keep.append(row.mark != "furniture")
        if by_span:
            start, end = next(iter(by_span))
            raise ClassifyError(f"{marks_path}: {doc_id} {start}:{end} is not a line of the page")
        meta = article.meta
        pages.append(Page(doc_id, str(meta.get("domain") or doc_id), meta.get("url"), lines, np.array(keep)))
    return pages


def labelled_pages(table, corpus, skip=()):
    """Pages of ``data/labels.csv`` paragraphs, each labelled paragraph a line to keep.

    SaudiNewsNet's clean articles are among them, so that the model keeps pages of
    that shape too. Pages in ``skip`` (the marked ones) are left out, and so are pages whose address
    names them a listing: there a labelled paragraph is another story's text, furniture
    under codebook v3, and would teach the model to keep listings.
    """
    pages = []
    for doc_id, rows in table.groupby("doc_id", sort=False):
        article = corpus[doc_id]
        if doc_id in skip or is_listing_url(article.meta.get("url")):
            continue
        lines = split_lines(article.text)
        spans = {(r.start, r.end) for r in rows.itertuples()}
        known = np.array([(p.start, p.end) in spans for p in lines])
        pages.append(Page(doc_id, str(article.meta.get("domain") or doc_id), article.meta.get("url"),
                          [p.text for p in lines], known.copy(), known))
    return pages


def training_pages(marks_path, corpus, table, counts=None):
    """The marked pages, and the pages of ``table``'s labelled paragraphs not among them,
    each with its lines' counts over the whole corpus as the crawl (or over ``counts``)."""
    marked = read_marks(marks_path, corpus)
    labelled = labelled_pages(table, corpus, skip={p.doc_id for p in marked})
    add_repeats(marked + labelled, corpus, counts)
    return marked, labelled


def corpus_counts(corpus):
    """:class:`LineCounts` of every page of ``corpus`` (dict of Article), each page's site by
    :func:`~classify.segment.repeats.site_of`."""
    return LineCounts.of_articles((a.text, a.meta.get("url"), a.meta.get("domain")) for a in corpus.values())


def add_repeats(pages, corpus, counts=None):
    """Give each page its lines' counts over ``corpus`` (or over ``counts``, when given)."""
    counts = counts or corpus_counts(corpus)
    for page in pages:
        meta = corpus[page.doc_id].meta
        page.repeats = counts.features(page.lines, site_of(meta.get("url"), meta.get("domain")))
        page._features = {}


def _variants(pages):
    # Each page with its address and without, since a model fitted only on pages with
    # addresses would misjudge a page given alone (the seed article, a .txt); and each of
    # those with its crawl's counts (for the crawl part) and without (for the alone part).
    urls = [(p, url) for p in pages for url in ((p.url, None) if p.url else (None,))]
    return [(p, url, crawl) for p, url in urls for crawl in ((True, False) if p.repeats is not None else (False,))]


def _logistic(X, y, C):
    from sklearn.linear_model import LogisticRegression

    mean, scale = X.mean(axis=0), X.std(axis=0)
    scale[scale == 0] = 1
    clf = LogisticRegression(C=C, max_iter=2000, class_weight="balanced").fit((X - mean) / scale, y)
    return {"mean": mean, "scale": scale, "coef": clf.coef_[0], "intercept": clf.intercept_[0]}


def _fit_stage(variants, matrices, C):
    X = np.vstack([M[p.known] for (p, *_), M in zip(variants, matrices)])
    y = np.concatenate([p.keep[p.known] for p, *_ in variants]).astype(int)
    return _logistic(X, y, C)


def keep_threshold(keep, scores, target=KEEP_TARGET):
    """The highest threshold that keeps at least ``target`` of the lines to keep."""
    kept = np.sort(scores[keep.astype(bool)])
    if kept.size == 0:
        return 0.5
    # Keep all but floor((1 - target) * n) of them: drop only the lowest-scored few.
    return float(kept[int(np.floor((1 - target) * kept.size))])


def _folds(groups, n_splits):
    from sklearn.model_selection import GroupKFold

    return GroupKFold(n_splits=min(n_splits, len(set(groups))))


def out_of_fold(pages, score_only=(), C=0.1, n_splits=5, target=KEEP_TARGET, blind=False, crawl=True):
    """Each page's line decisions from a model that never saw the page's site.

    ``score_only`` pages are judged but never trained on. The threshold of each fold is
    itself chosen on out-of-fold scores of the fold's training pages (grouped by site),
    so no page's marks tune its own decision.

    Returns
    -------
    list of ndarray of bool
        Per page of ``pages`` then of ``score_only``, which lines are kept (judged with
        the page's address when it has one, unless ``blind``, and with its lines' counts
        over the crawl when it has them, unless not ``crawl``).
    """
    everything = list(pages) + list(score_only)
    groups = [p.domain for p in everything]
    kept = [None] * len(everything)
    for train, test in _folds(groups, n_splits).split(everything, groups=groups):
        model = fit([everything[i] for i in train if i < len(pages)], C=C, n_splits=n_splits, target=target,
                    only=crawl)
        for i in test:
            page = everything[i]
            kept[i] = model.keep(page.lines, features=page.features(None if blind else page.url, crawl))
    return kept


def fit(pages, C=0.1, n_splits=5, target=KEEP_TARGET, meta=None, only=None):
    """Fit the line model on pages; the thresholds from out-of-fold scores grouped by site.

    Each part (:data:`PARTS`) is fitted on the pages as that part meets them: alone, or
    with their crawl's counts (pages without counts make the crawl part the alone part).
    ``only`` (True for the crawl part, False for the other) fits just that part and
    copies it to the other, for an evaluation that needs one.
    """
    variants = _variants(pages)
    wanted = [crawl for crawl in (False, True) if any(v[2] == crawl for v in variants)]
    parts = {crawl: _fit_part([v for v in variants if v[2] == crawl], C, n_splits, target)
             for crawl in ([only] if only in wanted else wanted)}
    alone = parts.get(False) or parts[True]
    meta = {"pages": len(pages), "lines": int(sum(p.known.sum() for p in pages)), "C": C, "keep_target": target,
            **(meta or {})}
    return LineModel({"alone": alone, "crawl": parts.get(True, alone)}, meta)


def _fit_part(variants, C, n_splits, target):
    """Two stages fitted on ``variants``, and the threshold that keeps ``target`` of their article lines.

    The second stage learns from the first stage's out-of-fold scores, as it will meet
    scores of pages the first stage never saw. One threshold serves pages with and without
    their addresses: one each would keep fewer labelled paragraphs of pages with addresses.
    """
    features = [p.features(url, crawl) for p, url, crawl in variants]
    groups = [p.domain for p, *_ in variants]
    folds = list(_folds(groups, n_splits).split(variants, groups=groups))
    first_oof = [None] * len(variants)
    for train, test in folds:
        first = _Linear(**_fit_stage([variants[i] for i in train], [features[i] for i in train], C))
        for i in test:
            first_oof[i] = first.logit(features[i])
    context = [_with_context(X, s) for X, s in zip(features, first_oof)]
    oof = []
    for train, test in folds:
        second = _Linear(**_fit_stage([variants[i] for i in train], [context[i] for i in train], C))
        oof += [(variants[i][0].keep[variants[i][0].known], second.logit(context[i])[variants[i][0].known])
                for i in test]
    keep = np.concatenate([k for k, _ in oof])
    scores = 1 / (1 + np.exp(-np.concatenate([s for _, s in oof])))
    return {"first": _fit_stage(variants, features, C), "second": _fit_stage(variants, context, C),
            "threshold": keep_threshold(keep, scores, target)}
