"""The shared shape of the word-level blocks: map each text to tokens, then TF-IDF of token n-grams."""

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer


class TokenTfidf(TransformerMixin, BaseEstimator):
    """TF-IDF of n-grams over the space-joined tokens that :meth:`_tokens` makes of each text.

    Subclasses define ``_tokens(texts) -> list of str`` and ``prefix`` (feature-name prefix).

    Parameters
    ----------
    ngram_range : tuple of int
    min_df : int
    weight : float
        Scale of the block against the others.
    """

    prefix = "token"

    def __init__(self, ngram_range=(1, 2), min_df=2, weight=1.0):
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.weight = weight

    def fit(self, X, y=None):
        self.vectorizer_ = TfidfVectorizer(analyzer="word", token_pattern=r"\S+", ngram_range=tuple(self.ngram_range),
                                           min_df=self.min_df, sublinear_tf=True, lowercase=False,
                                           dtype=np.float32).fit(self._tokens(X))
        return self

    def transform(self, X):
        out = self.vectorizer_.transform(self._tokens(X))
        return out * self.weight if self.weight != 1.0 else out

    def get_feature_names_out(self, input_features=None):
        return np.array([f"{self.prefix}_{name}" for name in self.vectorizer_.get_feature_names_out()], dtype=object)
