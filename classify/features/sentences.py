"""Sentences, not only paragraphs: character n-grams max-pooled over a paragraph's sentences.

A crawled "paragraph" is often several sentences or stories glued together, and one event
sentence is diluted in the paragraph's long unit-norm TF-IDF vector. Here each sentence
gets its own unit-norm vector and the paragraph takes, feature by feature, the largest
value over its sentences: an n-gram that carries one short sentence keeps the weight it
has there (multi-instance learning, with max as the pooling, inside a linear model).
"""

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin

from classify.features.char import CharTfidf
from classify.sentences import split_sentences


def max_pool(matrix, owners, n_rows):
    """Row-wise maximum of ``matrix``'s rows grouped by ``owners`` (sorted), as a CSR matrix."""
    coo = matrix.tocoo()
    rows = owners[coo.row]
    order = np.lexsort((coo.col, rows))
    rows, cols, vals = rows[order], coo.col[order], coo.data[order]
    if not len(vals):
        return sp.csr_matrix((n_rows, matrix.shape[1]), dtype=matrix.dtype)
    starts = np.flatnonzero(np.r_[True, (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])])
    return sp.csr_matrix((np.maximum.reduceat(vals, starts), (rows[starts], cols[starts])),
                         shape=(n_rows, matrix.shape[1]))


class SentenceMaxTfidf(TransformerMixin, BaseEstimator):
    """Character n-gram TF-IDF of each sentence, max-pooled per paragraph.

    Expects normalised text. The vectoriser's IDF is learned over sentences.

    Parameters
    ----------
    ngram_range : tuple of int
    min_df : int
    weight : float
        Scale of the pooled block against the others.
    """

    def __init__(self, ngram_range=(3, 5), min_df=2, weight=1.0):
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.weight = weight

    def _split(self, X):
        sentences, owners = [], []
        for i, text in enumerate(X):
            parts = split_sentences(text)
            sentences += parts
            owners += [i] * len(parts)
        return sentences, np.asarray(owners, dtype=np.int64)

    def fit(self, X, y=None):
        sentences, _ = self._split(X)
        # The numpy vectoriser of the char block: the same matrix as TfidfVectorizer, several times faster.
        self.vectorizer_ = CharTfidf(analyzer="char_wb", ngram_range=tuple(self.ngram_range), min_df=self.min_df,
                                     sublinear_tf=True, lowercase=False, dtype=np.float32).fit(sentences)
        return self

    def transform(self, X):
        sentences, owners = self._split(X)
        pooled = max_pool(self.vectorizer_.transform(sentences), owners, len(X))
        return pooled * self.weight if self.weight != 1.0 else pooled

    def get_feature_names_out(self, input_features=None):
        return np.array([f"sent_{name}" for name in self.vectorizer_.get_feature_names_out()], dtype=object)
