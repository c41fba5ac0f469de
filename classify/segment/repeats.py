"""On how many pages of a crawl each line stands: site templates, sidebars, other stories.

A site prints its menus, its "most read" list and the text of its other stories on many
of its pages, while an article's own lines stand on its page alone (or on the pages that
copy the same story). No single page tells the two apart; the crawl does. Lines are
matched by their first ten folded words, so a teaser cut off at a different length still
meets its story, and only lines of four words or more are counted (a line of "Share" or
a date would match everywhere and say nothing).
"""

import hashlib
import re

import numpy as np

from classify.segment.rules import _fold, split_lines

KEY_WORDS, MIN_WORDS = 10, 4
_PREFIX = 400
_WORD = re.compile(r"\w+")


def _hash(text):
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little", signed=True)


def line_key(line):
    """A 64-bit key of a line's first words (folded), or None for a line too short to count."""
    # Crawled lines run to thousands of characters: fold only as much as the key reads.
    words = _WORD.findall(_fold(line[:_PREFIX]))
    if len(words) <= KEY_WORDS and len(line) > _PREFIX:
        words = _WORD.findall(_fold(line))
    return _hash(" ".join(words[:KEY_WORDS])) if len(words) >= MIN_WORDS else None


def _site_keys(keys, site):
    # One key per (site, line): the line's key mixed with the site's, in 64-bit arithmetic.
    return np.asarray(keys, dtype=np.int64) ^ np.int64(_hash("site:" + (site or "")))


_EMPTY = (np.zeros(0, np.int64), np.zeros(0, np.int64))
_BATCH = 1 << 20


def _merge(tally, keys):
    """``tally`` (sorted keys, counts) with each key of the arrays ``keys`` counted once more."""
    keys = np.concatenate([tally[0], *keys])
    weights = np.concatenate([tally[1], np.ones(len(keys) - len(tally[0]), np.int64)])
    unique, inverse = np.unique(keys, return_inverse=True)
    return unique, np.bincount(inverse, weights=weights, minlength=len(unique)).astype(np.int64)


class LineCounts:
    """How many pages of a crawl hold each line, in all and on each site.

    Build it with :meth:`count` over every page of the crawl, the page to judge among
    them; :meth:`features` then says, for each line of a page, on how many *other* pages
    (of any site, and of the page's own site) it stands. Only 64-bit keys are kept, never
    text, in two sorted arrays: 16 bytes per distinct line.
    """

    def __init__(self, keys, counts, site_keys, site_counts, pages):
        self.keys, self.counts = np.asarray(keys, dtype=np.int64), np.asarray(counts, dtype=np.int64)
        self.site_keys, self.site_counts = (np.asarray(site_keys, dtype=np.int64),
                                            np.asarray(site_counts, dtype=np.int64))
        self.pages = int(pages)

    @classmethod
    def count(cls, pages):
        """Count the lines of ``pages``: an iterable of ``(lines, site)``, ``lines`` a list of str
        and ``site`` the page's domain (or None: pages without one count as one site)."""
        tallies, pending, n = [_EMPTY, _EMPTY], [[], []], 0
        for lines, site in pages:
            # A line printed twice on one page is one page's worth.
            mine = np.fromiter({k for k in map(line_key, lines) if k is not None}, dtype=np.int64)
            pending[0].append(mine)
            pending[1].append(_site_keys(mine, site))
            n += 1
            if sum(map(len, pending[0])) > _BATCH:  # memory stays with the distinct lines, not every line read
                tallies, pending = [_merge(t, p) for t, p in zip(tallies, pending)], [[], []]
        (keys, counts), (site_keys, site_counts) = (_merge(t, p) for t, p in zip(tallies, pending))
        return cls(keys, counts, site_keys, site_counts, n)

    @classmethod
    def of_articles(cls, articles):
        """Count the lines of ``articles``: an iterable of ``(text, url, domain)``, each text cut
        into lines as the segmenter cuts it, its site by :func:`site_of` (url and domain may be None)."""
        return cls.count(([p.text for p in split_lines(text)], site_of(url, domain)) for text, url, domain in articles)

    @staticmethod
    def _lookup(keys, counts, wanted):
        if len(keys) == 0:
            return np.zeros(len(wanted), dtype=np.int64)
        at = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
        return np.where(keys[at] == wanted, counts[at], 0)

    def features(self, lines, site=None):
        """For each line, log(1 + other pages holding it) and log(1 + other pages of ``site`` holding it).

        Returns
        -------
        ndarray of shape (len(lines), 2)
        """
        keys = [line_key(line) for line in lines]
        counted = np.array([k is not None for k in keys], dtype=bool)
        wanted = np.array([k if k is not None else 0 for k in keys], dtype=np.int64)
        # The page itself is one of the pages counted: the others are one fewer.
        anywhere = np.maximum(self._lookup(self.keys, self.counts, wanted) - 1, 0)
        on_site = np.maximum(self._lookup(self.site_keys, self.site_counts, _site_keys(wanted, site)) - 1, 0)
        return np.log1p(np.column_stack([anywhere, on_site]) * counted[:, None]).reshape(len(lines), 2)


def site_of(url=None, domain=None):
    """The site a page belongs to: its ``domain`` field, else its address's host, else None."""
    if domain:
        return str(domain).lower()
    if url:
        from urllib.parse import urlsplit

        host = urlsplit(url).hostname or ""
        return host.removeprefix("www.") or None
    return None

