"""Character n-gram TF-IDF computed with numpy: the same matrix as scikit-learn's, faster.

:class:`CharTfidf` gives the matrix of ``TfidfVectorizer(analyzer="char_wb" or "char", ...)``
(same columns, same order, same values to float tolerance), but

- its vocabulary is two numpy arrays (the alphabet and the sorted n-gram keys), which skops
  saves as ``.npy`` and loads in milliseconds, instead of a dict of strings that skops
  writes as JSON and rebuilds slowly;
- ``transform`` extracts and looks up every n-gram of a batch with array operations over
  the text's code points, never a Python loop per n-gram.

Each n-gram is stored as an exact integer key, not a hash: its characters' ranks in the
alphabet (1..K, 0 for "past the end") read as the digits of a base K+1 number with
``max_n`` digits, left-aligned. Distinct n-grams have distinct keys, and numeric order of
keys is the strings' code-point order, which is scikit-learn's column order. An n-gram
with a character outside the alphabet cannot be in the vocabulary and is skipped.
"""

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import check_is_fitted

# Documents are processed in batches of about this many code points, so that the
# per-position arrays (a few uint64 per n) stay small whatever the input size.
_BATCH_CHARS = 1 << 20
_SPACE = 32


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
        codes, doc_of, seg_end, short = self._layout(docs)
        # A character found in fewer than min_df documents cannot be part of a kept n-gram:
        # leaving it out of the alphabet keeps the key base small.
        chars, char_df, _ = _frequencies(doc_of, codes, n_docs)
        self.alphabet_ = chars[char_df >= min_count].astype(np.uint32)
        self._table = self._slots = None
        if len(self.alphabet_) == 0:
            raise ValueError("empty vocabulary; perhaps the documents are empty")
        self._check_key_space()
        vocab, df, tf = _frequencies(*self._grams(codes, doc_of, seg_end, short), n_docs)
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
        float_dtype = self._float_dtype()
        if self.use_idf:
            # scikit-learn's smoothed idf, in the matrix's float type.
            df_kept = df[mask].astype(float_dtype) + float(self.smooth_idf)
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
        docs = self._prepare(X)
        blocks, start, size = [], 0, 0
        for end, doc in enumerate(docs, 1):
            size += len(doc)
            if size >= _BATCH_CHARS:
                blocks.append(self._transform_batch(docs[start:end]))
                start, size = end, 0
        if start < len(docs) or not blocks:
            blocks.append(self._transform_batch(docs[start:]))
        return blocks[0] if len(blocks) == 1 else sp.vstack(blocks, format="csr")

    def _transform_batch(self, docs):
        if self.analyzer == "char_wb":
            X = self._word_counts(docs)
        else:
            doc_ids, cols = self._grams(*self._layout(docs), lookup=self._lookup)
            # COO -> CSR sums the repeated (document, column) pairs into counts.
            X = sp.coo_matrix((np.ones(len(cols), dtype=self._float_dtype()), (doc_ids, cols)),
                              shape=(len(docs), len(self.keys_))).tocsr()
        if self.sublinear_tf:
            np.log(X.data, out=X.data)
            X.data += 1.0
        if self.use_idf:
            X.data *= self.idf_[X.indices]
        if self.norm is not None and X.shape[0]:  # normalize refuses zero rows
            X = normalize(X, norm=self.norm, copy=False)
        return X if X.dtype == self.dtype else X.astype(self.dtype)

    def _float_dtype(self):
        return np.dtype(self.dtype) if np.dtype(self.dtype) in (np.float32, np.float64) else np.dtype(np.float64)

    def _word_counts(self, docs):
        """The n-gram counts of ``char_wb`` documents, word by distinct word.

        A ``char_wb`` n-gram never crosses a word, so a document's counts are the sum of its
        words' counts: (documents x distinct words) @ (distinct words x n-grams). News text
        repeats its words, so the n-grams are extracted and looked up for far fewer words
        than there are tokens, and the sparse product sums the counts without a sort.
        """
        index = {}
        words = [doc.split() for doc in docs]
        token_ids = [index.setdefault(w, len(index)) for ws in words for w in ws]
        lengths = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
        dtype = self._float_dtype()
        tokens = sp.coo_matrix((np.ones(len(token_ids), dtype=dtype),
                                (np.repeat(np.arange(len(docs)), lengths), np.array(token_ids, dtype=np.int64))),
                               shape=(len(docs), len(index))).tocsr()
        word_ids, cols = self._grams(*self._layout(list(index)), lookup=self._lookup)
        grams = sp.coo_matrix((np.ones(len(cols), dtype=dtype), (word_ids, cols)),
                              shape=(len(index), len(self.keys_))).tocsr()
        # The product's column indices are not sorted within a row; scipy and scikit-learn
        # do not need them to be, and sorting would cost a third of the block's time.
        return (tokens @ grams).tocsr()

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

    def _layout(self, docs):
        """The batch as one code-point array, with each position's document and segment end.

        A segment is a space-padded word (``char_wb``) or a whole document (``char``); an
        n-gram never crosses a segment end. ``short`` marks the segments shorter than the
        smallest n, which scikit-learn's ``char_wb`` still counts once, whole.
        """
        if self.analyzer == "char_wb":
            # " " + "  ".join(words) + " " is each word padded with a space, end to end.
            pieces = [" " + "  ".join(words) + " " if (words := doc.split()) else "" for doc in docs]
        else:
            pieces = [_fold_white_runs(doc) for doc in docs]
        lengths = np.fromiter(map(len, pieces), dtype=np.int64, count=len(pieces))
        codes = np.frombuffer("".join(pieces).encode("utf-32-le"), dtype=np.uint32)
        doc_of = np.repeat(np.arange(len(pieces), dtype=np.int64), lengths)
        if self.analyzer == "char":
            seg_end = np.repeat(np.cumsum(lengths), lengths)
            return codes, doc_of, seg_end, np.zeros(len(codes), dtype=bool)
        # In the padded layout a word opens with a space followed by a non-space and closes
        # with a space preceded by a non-space; words hold no spaces.
        space = codes == _SPACE
        after_nonspace = np.concatenate([[False], ~space[:-1]]) if len(codes) else space
        closes = np.flatnonzero(space & after_nonspace)
        opens = np.flatnonzero(space & ~after_nonspace)
        seg_end = np.repeat(closes + 1, closes + 1 - opens)
        short = np.zeros(len(codes), dtype=bool)
        short[opens[(closes + 1 - opens) < self.ngram_range[0]]] = True
        return codes, doc_of, seg_end, short

    def _rank_table(self):
        # A dense code point -> rank table (0 = outside the alphabet), built once per loaded
        # model and never saved (see __getstate__).
        if getattr(self, "_table", None) is None:
            table = np.zeros(int(self.alphabet_[-1]) + 1, dtype=np.uint32)
            table[self.alphabet_] = np.arange(1, len(self.alphabet_) + 1, dtype=np.uint32)
            self._table = table
        return self._table

    def _grams(self, codes, doc_of, seg_end, short, lookup=None):
        """(document, value) of every n-gram of the batch whose characters are all in the alphabet.

        The value is the n-gram's key, or ``lookup(keys)`` (a column, -1 for none) when
        given; grams with value -1 are dropped. The order is not the documents'.
        """
        min_n, max_n = self.ngram_range
        table = self._rank_table()
        ranks = table[np.minimum(codes, len(table) - 1)].astype(np.uint64)
        ranks[codes >= len(table)] = 0
        n_pos = len(codes)
        positions = np.arange(n_pos, dtype=np.int64)
        # A gram of length n starts at p when the segment and the run of in-alphabet
        # characters both last n more characters.
        room = seg_end - positions
        unknown_at = np.where(ranks == 0, positions, n_pos)
        clean = np.minimum.accumulate(unknown_at[::-1])[::-1] - positions
        limit = np.minimum(room, clean)
        # scikit-learn counts a segment shorter than min_n once, whole.
        short_at = np.flatnonzero(short & (clean >= room))
        base = np.uint64(len(self.alphabet_) + 1)
        key = np.zeros(n_pos, dtype=np.uint64)
        docs, values = [], []
        for n in range(1, min(max_n, n_pos) + 1):
            m = n_pos - n + 1
            key = key[:m] + ranks[n - 1:] * base ** np.uint64(max_n - n)
            at = short_at[room[short_at] == n] if n < min_n else np.flatnonzero(limit[:m] >= n)
            found = key[at]
            if lookup is not None:
                found = lookup(found)
                at, found = at[found >= 0], found[found >= 0]
            docs.append(doc_of[at])
            values.append(found)
        if not values:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint64 if lookup is None else np.int64)
        return np.concatenate(docs), np.concatenate(values)

    def _hash_table(self):
        """Open-addressing table (keys, columns) of the vocabulary, built on first use, never saved."""
        if getattr(self, "_slots", None) is None:
            bits = max(int(np.ceil(np.log2(4 * len(self.keys_) + 1))), 4)
            slot_keys = np.zeros(1 << bits, dtype=np.uint64)  # 0 is no gram's key: an empty slot
            slot_cols = np.full(1 << bits, -1, dtype=np.int64)
            pending = np.arange(len(self.keys_))
            slot = _slot(self.keys_, bits)
            while len(pending):
                free = slot_keys[slot] == 0
                # One winner per free slot; the others, and keys whose slot was taken, probe on.
                claimed, first = np.unique(slot[free], return_index=True)
                winners = pending[free][first]
                slot_keys[claimed], slot_cols[claimed] = self.keys_[winners], winners
                left = np.ones(len(pending), dtype=bool)
                left[np.flatnonzero(free)[first]] = False
                pending, slot = pending[left], (slot[left] + 1) & ((1 << bits) - 1)
            self._slots = (bits, slot_keys, slot_cols)
        return self._slots

    def _lookup(self, keys):
        """The column of each key, -1 for a key outside the vocabulary."""
        bits, slot_keys, slot_cols = self._hash_table()
        mask = (1 << bits) - 1
        # Most keys are settled at their home slot: that round runs on whole arrays.
        slot = _slot(keys, bits)
        found = slot_keys[slot]
        cols = np.where(found == keys, slot_cols[slot], -1)
        # Probe on past occupied slots holding another key; an empty slot ends the search.
        todo = np.flatnonzero((cols < 0) & (found != 0))
        slot = slot[todo]
        while len(todo):
            slot = (slot + 1) & mask
            found = slot_keys[slot]
            hit = found == keys[todo]
            cols[todo[hit]] = slot_cols[slot[hit]]
            go_on = ~hit & (found != 0)
            todo, slot = todo[go_on], slot[go_on]
        return cols

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_table", None)
        state.pop("_slots", None)
        return state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        return tags


def _fold_white_runs(doc):
    # scikit-learn's "char" analyzer folds runs of two or more white-space characters
    # (re "\s\s+") into one space and leaves single ones as they are.
    import re

    return re.sub(r"\s\s+", " ", doc)


def _slot(keys, bits):
    # Fibonacci hashing: the top bits of key * 2^64/phi spread consecutive keys well.
    return ((keys * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(64 - bits)).astype(np.int64)


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
