"""Word clusters learned from the whole corpus without labels, as sparse features.

``clusters.tsv.gz`` (built by ``python -m experiments.build_clusters``) maps the corpus'
60,000 most frequent normalised words to 800 clusters of their fastText skip-gram vectors.
A paragraph becomes a bag of cluster ids (and their bigrams), so a verb of retreat never
seen in the labels still fires the cluster of the ones that were. Averaged word vectors
were measured before and did not help: clusters keep the structure that averaging loses.
"""

import gzip
import hashlib
import re
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer

from classify.errors import ClassifyError

TABLE = Path(__file__).with_name("clusters.tsv.gz")
_WORD = re.compile(r"\w+")
_LOADED = {}


def load_table(path=TABLE):
    """``(word -> cluster id, SHA-256 of the file)``, read once per process."""
    path = Path(path)
    if path not in _LOADED:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ClassifyError(f"word cluster table {path} is missing ({exc.strerror}); "
                                "run 'python -m experiments.build_clusters'") from None
        rows = (line.split("\t") for line in gzip.decompress(data).decode("utf-8").splitlines())
        _LOADED[path] = ({w: f"c{c}" for w, c in rows}, hashlib.sha256(data).hexdigest())
    return _LOADED[path]


class ClusterWords(TransformerMixin, BaseEstimator):
    """TF-IDF of word-cluster uni- and bigrams; words outside the table are skipped.

    The table's hash is saved at fit and checked at transform, so a model never runs
    with clusters other than those it was trained with.

    Parameters
    ----------
    ngram_range : tuple of int
    min_df : int
    weight : float
    """

    def __init__(self, ngram_range=(1, 2), min_df=2, weight=1.0):
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.weight = weight

    def _clusters(self, X):
        table, digest = load_table()
        if getattr(self, "table_sha256_", digest) != digest:
            raise ClassifyError("the word cluster table differs from the one this model was trained with")
        return [" ".join(table[w] for w in _WORD.findall(t) if w in table) for t in X], digest

    def fit(self, X, y=None):
        docs, self.table_sha256_ = self._clusters(X)
        self.vectorizer_ = TfidfVectorizer(analyzer="word", token_pattern=r"\S+", ngram_range=tuple(self.ngram_range),
                                           min_df=self.min_df, sublinear_tf=True, lowercase=False,
                                           dtype=np.float32).fit(docs)
        return self

    def transform(self, X):
        out = self.vectorizer_.transform(self._clusters(X)[0])
        return out * self.weight if self.weight != 1.0 else out

    def get_feature_names_out(self, input_features=None):
        return np.array([f"cluster_{name}" for name in self.vectorizer_.get_feature_names_out()], dtype=object)
