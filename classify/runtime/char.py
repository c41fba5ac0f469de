"""Character n-gram TF-IDF of a fitted vocabulary: the transform of
:class:`classify.features.char.CharTfidf`, with NumPy and SciPy's sparse matrices only.

See :mod:`classify.features.char` for the key encoding: each n-gram is an exact integer key,
its characters' ranks in the alphabet (1..K, 0 for "past the end") read as the digits of a
base K+1 number with ``max_n`` digits, left-aligned.
"""

import functools
import re
import threading
from itertools import chain, compress, repeat

import numpy as np
import scipy.sparse as sp

# Documents are processed in batches of about this many code points, so that the
# per-position arrays (a few uint64 per n) stay small whatever the input size.
BATCH_CHARS = 1 << 20
# Words remembered with their n-gram columns, across batches, up to this many (then all are
# forgotten, so memory stays bounded): news text repeats its words, so most words of a batch
# were seen before and cost one dict lookup instead of an extraction and a lookup per n-gram.
MEMO_WORDS = 1 << 17
_SPACE = 32
_WHITE_RUNS = re.compile(r"\s\s+")


def layout(docs, analyzer, min_n, words=False):
    """The batch as one code-point array, with each position's document and segment end.

    A segment is a space-padded word (``char_wb``) or a whole document (``char``); an
    n-gram never crosses a segment end. ``short`` marks the segments shorter than
    ``min_n``, which scikit-learn's ``char_wb`` still counts once, whole. ``words``:
    each document is one word (no white space), for ``char_wb``.
    """
    if words:
        pieces = [" " + word + " " for word in docs]
    elif analyzer == "char_wb":
        # " " + "  ".join(words) + " " is each word padded with a space, end to end.
        pieces = [" " + "  ".join(words) + " " if (words := doc.split()) else "" for doc in docs]
    else:
        # scikit-learn's "char" analyzer folds runs of two or more white-space characters
        # (re "\s\s+") into one space and leaves single ones as they are.
        pieces = [_WHITE_RUNS.sub(" ", doc) for doc in docs]
    lengths = np.fromiter(map(len, pieces), dtype=np.int64, count=len(pieces))
    codes = np.frombuffer("".join(pieces).encode("utf-32-le"), dtype=np.uint32)
    doc_of = np.repeat(np.arange(len(pieces), dtype=np.int64), lengths)
    if analyzer == "char":
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
    short[opens[(closes + 1 - opens) < min_n]] = True
    return codes, doc_of, seg_end, short


def rank_table(alphabet):
    """A dense code point -> rank table (0 = outside the alphabet)."""
    table = np.zeros(int(alphabet[-1]) + 1, dtype=np.uint32)
    table[alphabet] = np.arange(1, len(alphabet) + 1, dtype=np.uint32)
    return table


def ngrams(codes, doc_of, seg_end, short, table, ngram_range, lookup=None):
    """(document, value) of every n-gram of the batch whose characters are all in the alphabet.

    ``table`` is :func:`rank_table` of the alphabet. The value is the n-gram's key, or
    ``lookup(keys)`` (a column, -1 for none) when given; grams with value -1 are dropped.
    The order is not the documents'.
    """
    min_n, max_n = ngram_range
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
    base = np.uint64(int(table.max()) + 1)
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


def _slot(keys, bits):
    # Fibonacci hashing: the top bits of key * 2^64/phi spread consecutive keys well.
    return ((keys * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(64 - bits)).astype(np.int64)


def hash_table(keys):
    """Open-addressing table ``(bits, slot keys, slot columns)`` of the sorted vocabulary ``keys``."""
    bits = max(int(np.ceil(np.log2(4 * len(keys) + 1))), 4)
    slot_keys = np.zeros(1 << bits, dtype=np.uint64)  # 0 is no gram's key: an empty slot
    slot_cols = np.full(1 << bits, -1, dtype=np.int64)
    pending = np.arange(len(keys))
    slot = _slot(keys, bits)
    while len(pending):
        free = slot_keys[slot] == 0
        # One winner per free slot; the others, and keys whose slot was taken, probe on.
        claimed, first = np.unique(slot[free], return_index=True)
        winners = pending[free][first]
        slot_keys[claimed], slot_cols[claimed] = keys[winners], winners
        left = np.ones(len(pending), dtype=bool)
        left[np.flatnonzero(free)[first]] = False
        pending, slot = pending[left], (slot[left] + 1) & ((1 << bits) - 1)
    return bits, slot_keys, slot_cols


def lookup(slots, keys):
    """The column of each key in a :func:`hash_table`, -1 for a key outside the vocabulary."""
    bits, slot_keys, slot_cols = slots
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


def float_dtype(dtype):
    """The float type the counts are computed in: ``dtype`` if it is a float type, else float64."""
    dtype = np.dtype(dtype)
    return dtype if dtype in (np.float32, np.float64) else np.dtype(np.float64)


def normalize_rows(X, norm="l2"):
    """Scale the rows of a CSR matrix in place to unit ``norm`` ("l2" or "l1"); zero rows stay zero.

    As ``sklearn.preprocessing.normalize(X, norm, copy=False)``, to float rounding.
    """
    rows = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
    # As scikit-learn's Cython loop: each square in the data's type, summed and divided in float64.
    norms = np.bincount(rows, weights=X.data * X.data if norm == "l2" else np.abs(X.data), minlength=X.shape[0])
    if norm == "l2":
        norms = np.sqrt(norms)
    norms[norms == 0.0] = 1.0
    X.data[:] = X.data / norms[rows]
    return X


class CharKernel:
    """The transform of a fitted :class:`~classify.features.char.CharTfidf`, from its arrays.

    Parameters
    ----------
    alphabet : ndarray of uint32
    keys : ndarray of uint64
    idf : ndarray or None
        ``None`` for no idf weighting.
    analyzer, ngram_range, sublinear_tf, norm, lowercase, dtype
        As for :class:`~classify.features.char.CharTfidf`.
    """

    def __init__(self, alphabet, keys, idf, analyzer="char_wb", ngram_range=(3, 6), sublinear_tf=True, norm="l2",
                 lowercase=False, dtype=np.float32):
        self.alphabet, self.keys, self.idf = alphabet, keys, idf
        self.analyzer, self.ngram_range, self.sublinear_tf = analyzer, tuple(ngram_range), sublinear_tf
        self.norm, self.lowercase, self.dtype = norm, lowercase, np.dtype(dtype)
        self.table = rank_table(alphabet)
        self._lock = threading.Lock()
        self._forget()

    def _forget(self):
        # The remembered words: word -> row of a CSR matrix (words x vocabulary) of their n-gram counts.
        self._row, self._cols, self._indptr, self._grams = {}, np.zeros(0, np.int32), np.zeros(1, np.int64), None

    def transform(self, docs):
        """The TF-IDF matrix (CSR, ``len(docs)`` x ``len(keys)``) of a list of strings."""
        if self.lowercase:
            docs = [doc.lower() for doc in docs]
        blocks, start, size = [], 0, 0
        for end, doc in enumerate(docs, 1):
            size += len(doc)
            if size >= BATCH_CHARS:
                blocks.append(self._transform_batch(docs[start:end]))
                start, size = end, 0
        if start < len(docs) or not blocks:
            blocks.append(self._transform_batch(docs[start:]))
        return blocks[0] if len(blocks) == 1 else sp.vstack(blocks, format="csr")

    @functools.cached_property
    def slots(self):
        # Built on first use, not at load: a model predicting through the compiled kernel
        # (classify.runtime.fast) never needs it, and it is most of the load call.
        return hash_table(self.keys)

    def _lookup(self, keys):
        return lookup(self.slots, keys)

    def _transform_batch(self, docs):
        if self.analyzer == "char_wb":
            X = self._word_counts(docs)
        else:
            doc_ids, cols = ngrams(*layout(docs, self.analyzer, self.ngram_range[0]), self.table, self.ngram_range,
                                   lookup=self._lookup)
            # COO -> CSR sums the repeated (document, column) pairs into counts.
            X = sp.coo_matrix((np.ones(len(cols), dtype=float_dtype(self.dtype)), (doc_ids, cols)),
                              shape=(len(docs), len(self.keys))).tocsr()
        if self.sublinear_tf:
            np.log(X.data, out=X.data)
            X.data += 1.0
        if self.idf is not None:
            X.data *= self.idf[X.indices]
        if self.norm is not None:
            normalize_rows(X, self.norm)
        return X if X.dtype == self.dtype else X.astype(self.dtype)

    def _word_counts(self, docs):
        """The n-gram counts of ``char_wb`` documents, word by word.

        A ``char_wb`` n-gram never crosses a word, so a document's counts are the sum of its
        words' counts: (documents x words) @ (words x n-grams). The n-grams of a word are
        extracted and looked up once, when it is first seen (see :data:`MEMO_WORDS`), and
        the sparse product sums the counts without a sort.
        """
        words = [doc.split() for doc in docs]
        tokens = list(chain.from_iterable(words))
        dtype = float_dtype(self.dtype)
        with self._lock:  # one thread at a time reads and extends the remembered words (Dask workers run threads)
            rows = np.fromiter(map(self._row.get, tokens, repeat(-1)), dtype=np.int32, count=len(tokens))
            if (rows < 0).any():  # words not seen yet
                new = list(dict.fromkeys(compress(tokens, (rows < 0).tolist())))
                if len(self._row) + len(new) > MEMO_WORDS:
                    self._forget()
                    new = list(dict.fromkeys(tokens))
                self._remember(new)
                rows = np.fromiter(map(self._row.__getitem__, tokens), dtype=np.int32, count=len(tokens))
            if self._grams is None or self._grams.dtype != dtype:
                self._grams = sp.csr_matrix((np.ones(len(self._cols), dtype=dtype), self._cols, self._indptr),
                                            shape=(len(self._row), len(self.keys)))
            grams = self._grams  # replaced, never changed in place, by a later batch
        indptr = np.zeros(len(docs) + 1, dtype=np.int64)
        np.cumsum(np.fromiter(map(len, words), dtype=np.int64, count=len(words)), out=indptr[1:])
        # A word twice in a document is two entries of its row: the product adds both.
        counts = sp.csr_matrix((np.ones(len(tokens), dtype=dtype), rows, indptr), shape=(len(docs), grams.shape[0]))
        # The product's column indices are not sorted within a row; scipy and scikit-learn
        # do not need them to be, and sorting would cost a third of the block's time.
        return (counts @ grams).tocsr()

    def _remember(self, new):
        """Extract and look up the n-grams of words not seen yet, and add them to the remembered ones."""
        word_ids, cols = ngrams(*layout(new, self.analyzer, self.ngram_range[0], words=True), self.table,
                                self.ngram_range, lookup=self._lookup)
        # Grouped by word; within a word, in the order found (by n, then place): a stable sort.
        order = np.argsort(word_ids, kind="stable")
        per_word = np.bincount(word_ids, minlength=len(new))
        first = len(self._row)
        self._row.update(zip(new, range(first, first + len(new))))
        self._cols = np.concatenate([self._cols, cols[order].astype(np.int32)])
        self._indptr = np.concatenate([self._indptr, self._indptr[-1] + np.cumsum(per_word)])
        self._grams = None
