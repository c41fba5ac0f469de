"""Features of each line of a page, seen with the page around it.

A teaser of another story reads like prose, so a line alone does not tell it from the
article; the page does. Each line gets its own shape (the line rules' measurements),
where it stands (position, the densest run of prose, what follows an end-of-article
marker), how much it shares with the main story's words, the same measurements of its
neighbours, since furniture comes in runs (menus, teaser lists, footers), and, when the
page comes with its crawl, on how many other pages the line stands
(:mod:`classify.segment.repeats`).
"""

import math
import re

import numpy as np

from classify.segment.rules import _fold, is_furniture, line_signals

_TOKEN = re.compile(r"[\u0621-\u064a]{3,}")
_ELLIPSIS = re.compile(r"\. \. \.|\.\.\.|…")
_LEADING_TIME = re.compile(r"^\W*\d{1,4}\s?[/:.-]\s?\d{1,2}")
_NEIGHBOURS = (-2, -1, 1, 2)
# Listing pages (codebook: section, tag, topic, video, search, archive pages) name themselves in their address.
_LISTING_URL = re.compile(r"/(tags?|category|categories|section|topics?|search|archive|videoshow|time|page|"
                          r"news-category|listbytags|author|feed)/|[?&](m|cat|tags?|s|paged|start|page)=|"
                          r"/search|search_key|artlist|showposts|/\d{4}/\d{2}(/\d{2})?/?$", re.IGNORECASE)
_ARTICLE_ID = re.compile(r"\d{5,}|[^/?=&]{40,}")
_OWN = ("log_words", "arabic_share", "sentences", "ends_sentence", "strong", "weak", "dates", "teaser",
        "separators", "ellipsis", "leading_time", "rule_furniture", "repeated")


def _own(line, signals, repeated):
    rule = is_furniture(line, signals)
    return [math.log1p(signals["words"]), signals["arabic_share"], min(signals["sentences"], 5),
            float(line.rstrip()[-1:] in ".!?؟"), min(signals["strong"], 3), signals["weak"],
            min(signals["dates"], 3), signals["teaser"], min(signals["separators"], 6) / 2,
            float(bool(_ELLIPSIS.search(line))), float(bool(_LEADING_TIME.match(line))), float(rule), repeated]


def _main_block(words, rule):
    """The run of lines (bridging one-line gaps) holding the most prose words."""
    best, best_span, start, total, gap = -1, (0, -1), None, 0, 0
    for i, (n, furniture) in enumerate(zip(words, rule)):
        if not furniture and n >= 8:
            if start is None:
                start, total = i, 0
            total += n
            gap = 0
            last = i
        elif start is not None:
            gap += 1
            if gap > 1:
                start = None
                continue
        if start is not None and total > best:
            best, best_span = total, (start, last)
    return best_span


def _tokens(line):
    return set(_TOKEN.findall(_fold(line)))


def is_listing_url(url):
    """Whether a page's address names it a listing (tag, section, search, archive page)."""
    return bool(url) and bool(_LISTING_URL.search(url))


def _url_features(url):
    if not url:
        return [0.0, 0.0, 0.0, 1.0]
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    home = parts.path.strip("/") == "" and not parts.query
    article_id = _ARTICLE_ID.search(parts.path + parts.query)
    return [float(bool(_LISTING_URL.search(url))), float(home), float(bool(article_id)), 0.0]


def page_features(lines, url=None, repeats=None):
    """One row of features per line of a page.

    Parameters
    ----------
    lines : list of str
        The page's non-blank lines, in order (:func:`classify.segment.split_lines`).
    url : str, optional
        The page's address: a listing page (tag, section, search, archive) often says so there.
    repeats : ndarray of shape (n_lines, 2), optional
        On how many other pages of the crawl each line stands, in all and on the page's
        site (:meth:`classify.segment.repeats.LineCounts.features`); without it the
        columns are zero and ``no_crawl`` is one.

    Returns
    -------
    ndarray of shape (n_lines, len(FEATURE_NAMES))
    """
    n = len(lines)
    if n == 0:
        return np.zeros((0, len(FEATURE_NAMES)))
    crawl = np.column_stack([np.zeros((n, 2)), np.ones(n)]) if repeats is None else \
        np.column_stack([np.asarray(repeats, dtype=float).reshape(n, 2), np.zeros(n)])
    signals = [line_signals(line) for line in lines]
    heads = [" ".join(line.split()[:6]) for line in lines]
    own = np.array([_own(line, s, float(heads.count(h) > 1 and s["words"] >= 3))
                    for line, s, h in zip(lines, signals, heads)], dtype=float)
    words = [s["words"] for s in signals]
    first, last = _main_block(words, own[:, _OWN.index("rule_furniture")] > 0)
    tokens = [_tokens(line) for line in lines]
    main = {}
    for i in range(first, last + 1):
        for t in tokens[i]:
            main[t] = main.get(t, 0) + 1
    ended = False
    rows = []
    for i in range(n):
        # Share of the line's words found in the main story, the line itself left out.
        shared = sum(1 for t in tokens[i] if main.get(t, 0) - (first <= i <= last) > 0)
        overlap = shared / max(len(tokens[i]), 1)
        if first <= i <= last:
            distance = 0.0
        else:
            distance = math.log1p(first - i if i < first else i - last)
        rows.append([i / max(n - 1, 1), math.log1p(i), math.log1p(n - 1 - i), float(first <= i <= last),
                     distance, float(i < first), float(i > last), overlap, float(ended),
                     float(len(tokens[i]) == 0)])
        ended = ended or (signals[i]["ends_article"] and i > first)
    context = np.array(rows, dtype=float)
    padded = np.vstack([np.zeros((2, own.shape[1])), own, np.zeros((2, own.shape[1]))])
    near = [padded[2 + k:2 + k + n][:, [0, 2, 11]] for k in _NEIGHBOURS]
    shares = own[:, [_OWN.index("ellipsis"), _OWN.index("dates"), _OWN.index("rule_furniture")]].mean(axis=0)
    page = np.tile([math.log1p(n), math.log1p(max(words)), math.log1p(last - first + 1), *shares, *_url_features(url)],
                   (n, 1))
    return np.hstack([own, context, *near, page, crawl])


FEATURE_NAMES = (
    _OWN
    + ("position", "log_index", "log_from_end", "in_main", "log_distance_main", "before_main", "after_main",
       "main_overlap", "after_end_marker", "no_tokens")
    + tuple(f"{name}@{k:+d}" for k in _NEIGHBOURS for name in ("log_words", "sentences", "rule_furniture"))
    + ("page_log_lines", "page_log_max_words", "page_log_main_lines", "page_ellipsis", "page_dates",
       "page_rule_furniture", "url_listing", "url_home", "url_article_id", "url_missing")
    + ("crawl_pages", "crawl_site_pages", "no_crawl")
)
