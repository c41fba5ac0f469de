"""Word n-grams over clitic-split, light-stemmed tokens, so "وطردوهم" and "طرد" meet.

Character n-grams already share stems across inflections, but only inside one word;
stems make word bigrams ("طرد عناصر", "انسحاب من") comparable across the clitics and
suffixes that Arabic glues onto words. The stemmer is Snowball's Arabic light stemmer.
"""

import functools
import re

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer

_WORD = re.compile(r"\w+")


@functools.lru_cache(maxsize=1)
def _stemmer():
    import snowballstemmer

    return snowballstemmer.stemmer("arabic")


@functools.lru_cache(maxsize=500_000)
def _stem(word):
    # Memoised: Snowball in pure Python is the slow part of this block, and news vocabulary repeats.
    return _stemmer().stemWord(word)


def stem_text(text):
    """The space-joined light stems of a normalised text's words."""
    return " ".join(_stem(w) for w in _WORD.findall(text))


class StemWords(TransformerMixin, BaseEstimator):
    """TF-IDF of word uni- and bigrams over light stems.

    Parameters
    ----------
    ngram_range : tuple of int
    min_df : int
    weight : float
        Scale of the block against the others.
    """

    def __init__(self, ngram_range=(1, 2), min_df=2, weight=1.0):
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.weight = weight

    def fit(self, X, y=None):
        self.vectorizer_ = TfidfVectorizer(analyzer="word", token_pattern=r"\S+", ngram_range=tuple(self.ngram_range),
                                           min_df=self.min_df, sublinear_tf=True, lowercase=False,
                                           dtype=np.float32).fit([stem_text(t) for t in X])
        return self

    def transform(self, X):
        out = self.vectorizer_.transform([stem_text(t) for t in X])
        return out * self.weight if self.weight != 1.0 else out

    def get_feature_names_out(self, input_features=None):
        return np.array([f"stem_{name}" for name in self.vectorizer_.get_feature_names_out()], dtype=object)
