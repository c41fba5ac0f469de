"""Character n-gram TF-IDF computed with numpy: the same matrix as scikit-learn's, faster.

:class:`CharTfidf` gives the matrix of ``TfidfVectorizer(analyzer="char_wb" or "char", ...)``
(same columns, same order, same values to float tolerance), but

- its vocabulary is two numpy arrays (the alphabet and the sorted n-gram keys), which skops
  saves as ``.npy`` and loads in milliseconds, instead of a dict of strings that skops
  writes as JSON and rebuilds slowly;
- ``transform`` extracts and looks up every n-gram of a batch with array operations over
  the text's code points, never a Python loop per n-gram
  (:class:`classify.runtime.char.CharKernel`, which a saved model's runtime uses too).

Each n-gram is stored as an exact integer key, not a hash: its characters' ranks in the
alphabet (1..K, 0 for "past the end") read as the digits of a base K+1 number with
``max_n`` digits, left-aligned. Distinct n-grams have distinct keys, and numeric order of
keys is the strings' code-point order, which is scikit-learn's column order. An n-gram
with a character outside the alphabet cannot be in the vocabulary and is skipped.
"""

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import check_is_fitted

from classify.runtime.char import CharKernel, float_dtype, layout, ngrams, rank_table


class CharTfidf(TransformerMixin, BaseEstimator):
    """TF-IDF of character n-grams, equal to scikit-learn's ``TfidfVectorizer`` for these parameters.

    Parameters
    ----------
    analyzer : {"char_wb", "char"}
        ``"char_wb"``: n-grams inside words padded with a space; ``"char"``: n-grams over
        the whole text, white-space runs folded to one space.
    ngram_range : tuple of (int, int)
        Smallest and largest n.
    min_df, max_df : int or float
        Keep n-grams found in at least ``min_df`` and at most ``max_df`` documents
        (a float is a share of the documents).
    max_features : int, optional
        Keep only the most frequent n-grams (scikit-learn's tie order).
    sublinear_tf : bool
        Use ``1 + log(tf)`` instead of the raw count.
    lowercase : bool
        Lowercase the text first.
    norm : {"l2", "l1"} or None
    use_idf, smooth_idf : bool
    dtype : numpy dtype
        Of the returned matrix.

    Attributes
    ----------
    alphabet_ : ndarray of uint32
        The code points that occur in some vocabulary n-gram, sorted.
    keys_ : ndarray of uint64
        The vocabulary's n-gram keys, sorted: column ``j`` is the n-gram of ``keys_[j]``.
    idf_ : ndarray
        Inverse document frequency of each column.
    """

    # The same checks as scikit-learn's TfidfVectorizer, so a bad configuration fails before any fit.
    _parameter_constraints = {
        key: TfidfVectorizer._parameter_constraints[key]
        for key in ("ngram_range", "min_df", "max_df", "max_features", "sublinear_tf", "lowercase", "norm", "use_idf",
                    "smooth_idf", "dtype")
    } | {"analyzer": [StrOptions({"char", "char_wb"})]}

    def __init__(self, analyzer="char_wb", ngram_range=(3, 6), min_df=2, max_df=1.0, max_features=None,
                 sublinear_tf=True, lowercase=False, norm="l2", use_idf=True, smooth_idf=True, dtype=np.float32):
        self.analyzer = analyzer
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.max_df = max_df
        self.max_features = max_features
        self.sublinear_tf = sublinear_tf
        self.lowercase = lowercase
        self.norm = norm
        self.use_idf = use_idf
        self.smooth_idf = smooth_idf
        self.dtype = dtype

    # -- fitting -------------------------------------------------------------------------

    def fit(self, X, y=None):
        """Learn the vocabulary and the idf of each n-gram from the documents ``X``."""
        self._check_params()
        docs = self._prepare(X)
        n_docs = len(docs)
        min_count = self.min_df if isinstance(self.min_df, int) else self.min_df * n_docs
        max_count = self.max_df if isinstance(self.max_df, int) else self.max_df * n_docs
        if max_count < min_count:
            raise ValueError("max_df corresponds to < documents than min_df")
        codes, doc_of, seg_end, short = layout(docs, self.analyzer, self.ngram_range[0])
        # A character found in fewer than min_df documents cannot be part of a kept n-gram:
        # leaving it out of the alphabet keeps the key base small.
        chars, char_df, _ = _frequencies(doc_of, codes, n_docs)
        self.alphabet_ = chars[char_df >= min_count].astype(np.uint32)
        self._kernel = None
        if len(self.alphabet_) == 0:
            raise ValueError("empty vocabulary; perhaps the documents are empty")
        self._check_key_space()
        vocab, df, tf = _frequencies(*ngrams(codes, doc_of, seg_end, short, rank_table(self.alphabet_),
                                             self.ngram_range), n_docs)
        mask = (df >= min_count) & (df <= max_count)
        if self.max_features is not None and mask.sum() > self.max_features:
            # The same call as scikit-learn's _limit_features, on the same array, for the same ties.
            tfs = tf.astype(self.dtype)
            picked = (-tfs[mask]).argsort()[:self.max_features]
            keep = np.zeros(len(mask), dtype=bool)
            keep[np.where(mask)[0][picked]] = True
            mask = keep
        if not mask.any():
            raise ValueError("After pruning, no terms remain. Try a lower min_df or a higher max_df.")
        self.keys_ = vocab[mask]
        if self.use_idf:
            # scikit-learn's smoothed idf, in the matrix's float type.
            df_kept = df[mask].astype(float_dtype(self.dtype)) + float(self.smooth_idf)
            self.idf_ = np.full_like(df_kept, n_docs + int(self.smooth_idf)) / df_kept
            np.log(self.idf_, out=self.idf_)
            self.idf_ += 1.0
        return self

    # -- transforming --------------------------------------------------------------------

    def transform(self, X):
        """The TF-IDF matrix of the documents ``X``, one row each, in vocabulary column order.

        Returns
        -------
        scipy.sparse.csr_matrix of shape (len(X), len(keys_))
            Without duplicate entries; for ``char_wb``, the column indices within a row are
            not sorted (call ``sort_indices()`` where that matters).
        """
        check_is_fitted(self, "keys_")
        return self.kernel().transform(self._prepare(X))

    def kernel(self):
        """The :class:`~classify.runtime.char.CharKernel` of this vocabulary and these parameters.

        Built on first use (its lookup tables take a moment) and kept while the parameters
        stay the same; never saved (see ``__getstate__``).
        """
        params = (self.analyzer, tuple(self.ngram_range), self.sublinear_tf, self.norm, self.lowercase,
                  np.dtype(self.dtype), self.use_idf)
        if getattr(self, "_kernel", None) is None or self._kernel_params != params:
            self._kernel = CharKernel(self.alphabet_, self.keys_, self.idf_ if self.use_idf else None,
                                      self.analyzer, self.ngram_range, self.sublinear_tf, self.norm,
                                      lowercase=False, dtype=self.dtype)
            self._kernel_params = params
        return self._kernel

    def get_feature_names_out(self, input_features=None):
        """The n-gram of each column, as scikit-learn's vectorizer names them."""
        check_is_fitted(self, "keys_")
        base, max_n = np.uint64(len(self.alphabet_) + 1), self.ngram_range[1]
        lookup = np.concatenate([[0], self.alphabet_]).astype(np.uint32)
        digits = np.empty((len(self.keys_), max_n), dtype=np.uint32)
        rest = self.keys_.copy()
        for i in range(max_n - 1, -1, -1):
            digits[:, i] = lookup[(rest % base).astype(np.int64)]
            rest //= base
        # Trailing NULs (the padding digits) are dropped by numpy's fixed-width strings.
        return np.array(digits.view(f"<U{max_n}").ravel().tolist(), dtype=object)

    # -- shared steps --------------------------------------------------------------------

    def _check_params(self):
        min_n, max_n = self.ngram_range
        if not 1 <= min_n <= max_n:
            raise ValueError(f"invalid ngram_range {self.ngram_range!r}")
        if self.analyzer not in ("char_wb", "char"):
            raise ValueError(f"CharTfidf analyzer must be 'char_wb' or 'char', not {self.analyzer!r}")

    def _check_key_space(self):
        if float(len(self.alphabet_) + 1) ** self.ngram_range[1] >= 2.0 ** 64:
            raise ValueError(f"{len(self.alphabet_)} distinct characters do not fit {self.ngram_range[1]}-gram keys "
                             "in 64 bits; use the reference vectorizer (features__char = \"reference\")")

    def _prepare(self, X):
        if isinstance(X, str):
            raise ValueError("Iterable over raw text documents expected, string object received.")
        docs = [str(doc) for doc in X]
        return [doc.lower() for doc in docs] if self.lowercase else docs

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_kernel", None)
        state.pop("_kernel_params", None)
        return state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        return tags


def _frequencies(docs, values, n_docs):
    """The distinct ``values``, sorted, with their document frequency and total count.

    ``docs`` gives the document of each value. One sort of (value, document) pairs, packed
    in one uint64 when they fit.
    """
    if len(values) == 0:
        return values[:0], np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    if (float(values.max()) + 1) * max(n_docs, 1) < 2.0 ** 64:
        packed = values.astype(np.uint64) * np.uint64(n_docs) + docs.astype(np.uint64)
        pairs, counts = np.unique(packed, return_counts=True)
        pair_values = pairs // np.uint64(n_docs)
    else:
        order = np.lexsort((docs, values))
        d, v = docs[order], values[order]
        new = np.concatenate([[True], (d[1:] != d[:-1]) | (v[1:] != v[:-1])])
        starts = np.flatnonzero(new)
        pair_values, counts = v[starts], np.diff(np.append(starts, len(v)))
    firsts = np.flatnonzero(np.concatenate([[True], pair_values[1:] != pair_values[:-1]]))
    df = np.diff(np.append(firsts, len(pair_values)))
    return pair_values[firsts], df, np.add.reduceat(counts, firsts)
