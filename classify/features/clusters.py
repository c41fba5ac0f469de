"""Word clusters learned from the whole corpus without labels, as sparse features.

``clusters.tsv.gz`` (built by ``python -m experiments.build_clusters``) maps the corpus'
60,000 most frequent normalised words to 800 clusters of their fastText skip-gram vectors.
A paragraph becomes a bag of cluster ids and cluster bigrams, so a verb of retreat never
seen in the labels still fires the cluster of the ones that were. Averaged word vectors
were measured before and did not help: clusters keep the structure that averaging loses.

The block is TF-IDF over those ids exactly as scikit-learn's ``TfidfVectorizer`` computes it
over the ids written as words (a test holds the two equal), but with the vocabulary kept as
two numpy arrays and n-grams as integers: it loads in no time and needs no string per n-gram.
"""

import gzip
import hashlib
import re
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.preprocessing import normalize

from classify.errors import ClassifyError

TABLE = Path(__file__).with_name("clusters.tsv.gz")
_WORD = re.compile(r"\w+")
_LOADED = {}


def load_table(path=TABLE):
    """``(word -> cluster number, number of clusters, SHA-256 of the file)``, read once per process."""
    path = Path(path)
    if path not in _LOADED:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ClassifyError(f"word cluster table {path} is missing ({exc.strerror}); "
                                "run 'python -m experiments.build_clusters'") from None
        table = _parse_table(gzip.decompress(data).decode("utf-8"))
        _LOADED[path] = (table, max(table.values()) + 1, hashlib.sha256(data).hexdigest())
    return _LOADED[path]


# A well-formed table: lines of a word (no tab, no line break) and a number, split at \n only.
_WELL_FORMED = re.compile(r"(?:[^\t\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]*\t[0-9]+\n)*")


def _parse_table(text):
    """``word -> cluster number`` of the table's text (``word<TAB>number`` lines)."""
    if text.endswith("\n") and _WELL_FORMED.fullmatch(text):
        # One split for the whole table, about five times as fast as one per line (load_model time).
        flat = text[:-1].replace("\n", "\t").split("\t")
        return dict(zip(flat[0::2], map(int, flat[1::2])))
    rows = [line.split("\t") for line in text.splitlines()]
    return {w: int(c) for w, c in rows}


def cluster_tokens(text, table=None):
    """The cluster numbers of a normalised text's words, in order; words outside the table are skipped."""
    table = table if table is not None else load_table()[0]
    return [c for c in map(table.get, _WORD.findall(text)) if c is not None]


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

    def _counts(self, X):
        """(row, n-gram id) pairs of every n-gram occurrence; bigram (a, b) is k + a * k + b."""
        table, k, digest = load_table()
        if getattr(self, "table_sha256_", digest) != digest:
            raise ClassifyError("the word cluster table differs from the one this model was trained with")
        self.table_sha256_, self.k_ = digest, k
        rows, ids = [], []
        for i, text in enumerate(X):
            seq = np.asarray(cluster_tokens(text, table), dtype=np.int64)
            grams = np.concatenate([seq, k + seq[:-1] * k + seq[1:]]) if self.bigrams and len(seq) > 1 else seq
            ids.append(grams)
            rows.append(np.full(len(grams), i, dtype=np.int64))
        return (np.concatenate(rows) if rows else np.zeros(0, np.int64),
                np.concatenate(ids) if ids else np.zeros(0, np.int64))

    def fit(self, X, y=None):
        rows, ids = self._counts(X)
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
        rows, ids = self._counts(X)
        at = np.searchsorted(self.grams_, ids)
        known = (at < len(self.grams_)) & (self.grams_[np.minimum(at, len(self.grams_) - 1)] == ids)
        cols = self.columns_[at[known]]
        counts = sp.csr_matrix((np.ones(known.sum(), np.float32), (rows[known], cols)),
                               shape=(len(X), len(self.columns_)))
        counts.sum_duplicates()
        counts.data = np.log(counts.data) + 1  # sublinear tf, as TfidfVectorizer(sublinear_tf=True)
        out = normalize(counts.multiply(self.idf_).tocsr(), norm="l2", copy=False)
        return out * self.weight if self.weight != 1.0 else out

    def get_feature_names_out(self, input_features=None):
        return np.array([f"cluster_{name}" for name in self.names_], dtype=object)
