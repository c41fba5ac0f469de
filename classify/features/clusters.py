"""Word clusters learned from the whole corpus without labels, as sparse features: the scikit-learn step.

The table and the transform are in :mod:`classify.runtime.clusters` (no scikit-learn there,
so a model's runtime predicts without it); importable from here too.
"""

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from classify.runtime.clusters import (TABLE, check_table, cluster_grams, cluster_matrix,  # noqa: F401
                                       cluster_tokens, load_table)


class ClusterWords(TransformerMixin, BaseEstimator):
    """TF-IDF (sublinear tf, smoothed idf, l2 rows) of word-cluster uni- and bigrams.

    The table's hash is saved at fit and checked at transform, so a model never runs
    with clusters other than those it was trained with.

    Parameters
    ----------
    min_df : int
        Keep the n-grams of at least this many training texts.
    bigrams : bool
        Also count pairs of neighbouring clusters.
    weight : float
        Scale of the block against the others.
    """

    def __init__(self, min_df=2, bigrams=True, weight=1.0):
        self.min_df = min_df
        self.bigrams = bigrams
        self.weight = weight

    def _table(self):
        """The cluster table, checked against the one this block was fitted with."""
        digest = getattr(self, "table_sha256_", None) or load_table()[2]
        table, self.k_ = check_table(digest)
        self.table_sha256_ = digest
        return table

    def fit(self, X, y=None):
        rows, ids = cluster_grams(X, self._table(), self.k_, self.bigrams)
        pairs = np.unique(rows * (self.k_ + self.k_ * self.k_) + ids)  # each n-gram once per text
        grams, df = np.unique(pairs % (self.k_ + self.k_ * self.k_), return_counts=True)
        keep = df >= self.min_df
        # Columns in scikit-learn's order: the n-grams' names sorted as strings ("c1", "c1 c5", "c10", ...).
        names = np.array([self._name(g) for g in grams[keep]], dtype=object)
        order = np.argsort(names, kind="stable")
        self.grams_ = grams[keep]  # sorted ids, for searchsorted
        self.columns_ = np.empty(len(order), dtype=np.int64)
        self.columns_[order] = np.arange(len(order))
        self.idf_ = np.empty(len(order), dtype=np.float32)  # by column
        self.idf_[self.columns_] = np.log((1 + len(X)) / (1 + df[keep])) + 1
        self.names_ = names[order].astype(str)
        return self

    def _name(self, gram):
        k = self.k_
        return f"c{gram}" if gram < k else f"c{(gram - k) // k} c{(gram - k) % k}"

    def transform(self, X):
        return cluster_matrix(list(X), self._table(), self.k_, self.grams_, self.columns_, self.idf_, self.bigrams,
                              self.weight)

    def get_feature_names_out(self, input_features=None):
        return np.array([f"cluster_{name}" for name in self.names_], dtype=object)
