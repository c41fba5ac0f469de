# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
# distutils: extra_compile_args = -O2 -ffp-contract=off
"""The compiled predict path of :class:`classify.runtime.Runtime`: raw texts in, probabilities out.

One pass per document does what the NumPy kernels do in several (normalise, then each
feature block's matrix, then the product with the coefficients), without building any
matrix: the normalised text's words are looked up in a memo of words seen before, which
holds each word's character n-gram columns, structure codes and word clusters; a new word
is analysed once. The arithmetic is the reference kernels', step for step and in their
order (float32 where they round to float32, the same summation order), so the
probabilities are equal to theirs, not merely close: ``tests/test_kernel.py`` holds that.

:mod:`classify.runtime.fast` builds a :class:`Kernel` from a runtime's arrays.
"""

cimport cython
from libc.math cimport exp, sqrt
from libc.stdint cimport int32_t, int64_t, uint16_t, uint32_t, uint64_t
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memcmp, memcpy, memset

import numpy as np


cdef extern from *:
    int __builtin_ctzll(unsigned long long x) nogil


cdef extern from "Python.h":
    enum: PyUnicode_4BYTE_KIND
    int PyUnicode_KIND(object o)
    void *PyUnicode_DATA(object o)
    Py_ssize_t PyUnicode_GET_LENGTH(object o)
    Py_UCS4 PyUnicode_READ(int kind, void *data, Py_ssize_t index)
    object PyUnicode_FromKindAndData(int kind, const void *buffer, Py_ssize_t size)
    bint Py_UNICODE_ISSPACE(Py_UCS4 ch)
    bint Py_UNICODE_ISALNUM(Py_UCS4 ch)
    bint Py_UNICODE_ISDECIMAL(Py_UCS4 ch)


# Structure codes of a word-or-end token: bits 0-9 its families (FAMILIES' order), then these.
FAMILIES = ("shell", "air", "advance", "withdraw", "harm", "deny", "modal", "civilian", "from", "truth")
# The structure features in the order the bits of the sentence reader's mask name them.
FEATURES = tuple([f"{e}@{frame}" for e in FAMILIES[:5] for frame in ("plain", "denied", "modal")] +
                 ["civilian+harm", "harm-civilian", "withdraw+from", "deny", "modal", "deny+advance+withdraw",
                  "air+shell"])
ENDS = ".!?؟؛\n"
# classify.sentences' splitter: a sentence ends after a run of these; a shorter piece joins the one before.
SENTENCE_ENDS = ".!?؟؛"
MIN_SENTENCE_CHARS = 12
DELETE = 0xFFFFFFFF  # in the character map: the character is removed
cdef uint32_t _DELETE = 0xFFFFFFFF
cdef uint64_t LOW32 = 0xFFFFFFFF, HIGH32 = 0xFFFFFFFF00000000
cdef uint64_t FNV_OFFSET = 1469598103934665603, FNV_PRIME = 1099511628211, FIB = 0x9E3779B97F4A7C15
cdef uint16_t AIR = 1 << 1, SHELL = 1 << 0, ADVANCE = 1 << 2, WITHDRAW = 1 << 3, HARM = 1 << 4, DENY = 1 << 5
cdef uint16_t MODAL = 1 << 6, CIVILIAN = 1 << 7, FROM = 1 << 8, TRUTH = 1 << 9, NEG = 1 << 10, END = 1 << 11


# -- growable arrays --------------------------------------------------------------------------

cdef struct Buf:
    char *p
    Py_ssize_t n, cap, size  # n items of size bytes


cdef int buf_reserve(Buf *b, Py_ssize_t n) except -1:
    cdef Py_ssize_t cap = b.cap if b.cap else 16
    cdef void *q
    if n <= b.cap:
        return 0
    while cap < n:
        cap *= 2
    q = realloc(b.p, cap * b.size)
    if q == NULL:
        raise MemoryError()
    b.p, b.cap = <char *>q, cap
    return 0


cdef inline int push32(Buf *b, int32_t x) except -1:
    if b.n == b.cap:
        buf_reserve(b, b.n + 1)
    (<int32_t *>b.p)[b.n] = x
    b.n += 1
    return 0


cdef inline int push16(Buf *b, uint16_t x) except -1:
    if b.n == b.cap:
        buf_reserve(b, b.n + 1)
    (<uint16_t *>b.p)[b.n] = x
    b.n += 1
    return 0


cdef inline int push64(Buf *b, int64_t x) except -1:
    if b.n == b.cap:
        buf_reserve(b, b.n + 1)
    (<int64_t *>b.p)[b.n] = x
    b.n += 1
    return 0


cdef void buf_init(Buf *b, Py_ssize_t size):
    b.p, b.n, b.cap, b.size = NULL, 0, 0, size


# -- a hash table of code-point strings -------------------------------------------------------

cdef inline uint64_t str_hash(const Py_UCS4 *s, Py_ssize_t n) noexcept nogil:
    cdef uint64_t h = FNV_OFFSET
    cdef Py_ssize_t i
    for i in range(n):
        h = (h ^ <uint64_t>s[i]) * FNV_PRIME
    return h ^ (h >> 29)


@cython.final
cdef class StrTable:
    """Code-point strings -> int32, by open addressing; entry ``i`` is the ``i``-th string added."""
    cdef Buf chars  # Py_UCS4, the strings end to end
    cdef Buf starts  # int64, n + 1
    cdef Buf values  # int32
    cdef Buf hashes  # int64 (as uint64)
    cdef uint64_t *slots  # the hash's top 32 bits and entry + 1 below; 0 for empty
    cdef Py_ssize_t mask

    def __cinit__(self):
        buf_init(&self.chars, sizeof(Py_UCS4))
        buf_init(&self.starts, sizeof(int64_t))
        buf_init(&self.values, sizeof(int32_t))
        buf_init(&self.hashes, sizeof(int64_t))
        self.slots, self.mask = NULL, -1
        self.clear()

    def __dealloc__(self):
        free(self.chars.p)
        free(self.starts.p)
        free(self.values.p)
        free(self.hashes.p)
        free(self.slots)

    cdef int clear(self) except -1:
        self.chars.n, self.starts.n, self.values.n, self.hashes.n = 0, 0, 0, 0
        push64(&self.starts, 0)
        free(self.slots)
        self.mask = 1023
        self.slots = <uint64_t *>malloc((self.mask + 1) * sizeof(uint64_t))
        if self.slots == NULL:
            raise MemoryError()
        memset(self.slots, 0, (self.mask + 1) * sizeof(uint64_t))
        return 0

    cdef inline Py_ssize_t size(self) noexcept:
        return self.values.n

    cdef inline int32_t find(self, const Py_UCS4 *s, Py_ssize_t n, uint64_t h) noexcept:
        """The entry of ``s``, -1 if absent."""
        cdef Py_ssize_t at = <Py_ssize_t>(h & <uint64_t>self.mask), i
        cdef int32_t e
        cdef int64_t a, b
        cdef uint64_t slot
        cdef const Py_UCS4 *t
        while True:
            slot = self.slots[at]
            if slot == 0:
                return -1
            e = <int32_t>(slot & LOW32) - 1
            if (slot >> 32) == (h >> 32):  # most other words are told apart here, without reading them
                a, b = (<int64_t *>self.starts.p)[e], (<int64_t *>self.starts.p)[e + 1]
                if b - a == n:
                    t = (<Py_UCS4 *>self.chars.p) + a
                    for i in range(n):
                        if t[i] != s[i]:
                            break
                    else:
                        return e
            at = (at + 1) & self.mask

    cdef int32_t add(self, const Py_UCS4 *s, Py_ssize_t n, uint64_t h, int32_t value) except -1:
        """Add a string known to be absent; returns its entry."""
        cdef int32_t e = <int32_t>self.values.n
        cdef Py_ssize_t i
        buf_reserve(&self.chars, self.chars.n + n)
        for i in range(n):
            (<Py_UCS4 *>self.chars.p)[self.chars.n + i] = s[i]
        self.chars.n += n
        push64(&self.starts, self.chars.n)
        push32(&self.values, value)
        push64(&self.hashes, <int64_t>h)
        if 2 * (e + 1) > self.mask:
            self._grow()
        else:
            self._place(e, h)
        return e

    cdef void _place(self, int32_t e, uint64_t h) noexcept:
        cdef Py_ssize_t at = <Py_ssize_t>(h & <uint64_t>self.mask)
        while self.slots[at]:
            at = (at + 1) & self.mask
        self.slots[at] = (h & HIGH32) | <uint64_t>(e + 1)

    cdef int _grow(self) except -1:
        cdef int32_t e
        free(self.slots)
        self.mask = 2 * self.mask + 1
        self.slots = <uint64_t *>malloc((self.mask + 1) * sizeof(uint64_t))
        if self.slots == NULL:
            raise MemoryError()
        memset(self.slots, 0, (self.mask + 1) * sizeof(uint64_t))
        for e in range(<int32_t>self.values.n):
            self._place(e, (<uint64_t *>self.hashes.p)[e])
        return 0

    def put(self, str key, int32_t value):
        """Set ``key`` (a str) to ``value``, from Python (building the tables)."""
        cdef Buf tmp
        cdef Py_ssize_t n = len(key)
        cdef int32_t e
        buf_init(&tmp, sizeof(Py_UCS4))
        try:
            _read(key, &tmp)
            h = str_hash(<Py_UCS4 *>tmp.p, n)
            e = self.find(<Py_UCS4 *>tmp.p, n, h)
            if e < 0:
                self.add(<Py_UCS4 *>tmp.p, n, h, value)
            else:
                (<int32_t *>self.values.p)[e] = value
        finally:
            free(tmp.p)

    def put_many(self, str keys, const int64_t[::1] lengths, const int32_t[::1] values):
        """Set each key to its value: ``keys`` the keys end to end, ``lengths`` theirs (at load time, fast)."""
        cdef Buf tmp
        cdef Py_ssize_t i, at = 0, n
        cdef int32_t e
        cdef uint64_t h
        cdef Py_UCS4 *p
        buf_init(&tmp, sizeof(Py_UCS4))
        try:
            _read(keys, &tmp)
            if lengths.shape[0] != values.shape[0] or (lengths.shape[0] and at + sum(lengths) != tmp.n):
                raise ValueError("keys, lengths and values do not match")
            for i in range(lengths.shape[0]):
                p, n = (<Py_UCS4 *>tmp.p) + at, lengths[i]
                h = str_hash(p, n)
                e = self.find(p, n, h)
                if e < 0:
                    self.add(p, n, h, values[i])
                else:
                    (<int32_t *>self.values.p)[e] = values[i]
                at += n
        finally:
            free(tmp.p)

    def get(self, str key):
        """The value of ``key``, ``None`` if absent."""
        cdef Buf tmp
        cdef int32_t e
        buf_init(&tmp, sizeof(Py_UCS4))
        try:
            _read(key, &tmp)
            e = self.find(<Py_UCS4 *>tmp.p, tmp.n, str_hash(<Py_UCS4 *>tmp.p, tmp.n))
            return None if e < 0 else (<int32_t *>self.values.p)[e]
        finally:
            free(tmp.p)

    def __len__(self):
        return self.values.n


cdef int _read(str text, Buf *out) except -1:
    """The code points of ``text`` into ``out`` (replacing its content)."""
    cdef Py_ssize_t n = PyUnicode_GET_LENGTH(text), i
    cdef int kind = PyUnicode_KIND(text)
    cdef void *data = PyUnicode_DATA(text)
    buf_reserve(out, n)
    for i in range(n):
        (<Py_UCS4 *>out.p)[i] = PyUnicode_READ(kind, data, i)
    out.n = n
    return 0


cdef inline bint is_word(Py_UCS4 c) noexcept:
    # re's \w on str patterns
    return Py_UNICODE_ISALNUM(c) or c == 95


cdef inline bint is_end(Py_UCS4 c) noexcept:
    return c == 46 or c == 33 or c == 63 or c == 0x061F or c == 0x061B or c == 10


cdef extern from *:
    """
    /* A cheap clock for profiling: the time-stamp counter where there is one (a system call per
       reading would cost more than the steps it times), else the monotonic clock in ns. */
    #if defined(__x86_64__) || defined(__i386__)
    #include <x86intrin.h>
    static inline unsigned long long classify_ticks(void) { return __rdtsc(); }
    #else
    #include <time.h>
    static inline unsigned long long classify_ticks(void) {
        struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts);
        return (unsigned long long)ts.tv_sec * 1000000000ULL + (unsigned long long)ts.tv_nsec; }
    #endif
    """
    unsigned long long classify_ticks() noexcept nogil


cdef inline double _now() noexcept:
    return <double>classify_ticks()


def ticks():
    """The profiling clock (Kernel.timings' unit): time-stamp counter ticks, or ns."""
    return classify_ticks()


# -- sentences: classify.sentences.sentence_spans on a normalised text ----------------------------

cdef Py_ssize_t _split(const Py_UCS4 *t, Py_ssize_t n, Buf *pieces, Buf *sents) except -1:
    """The sentences of ``t``: each piece (start, end) into ``pieces``, each sentence (first piece, count) into ``sents``.

    The regular expression ``[^ENDS\\n]+[ENDS]*`` as re.finditer scans, each match stripped, an
    empty one skipped, one under MIN_SENTENCE_CHARS joined to the sentence before. Returns the
    number of sentences (0 for none: the text is its own sentence).
    """
    cdef Py_ssize_t i = 0, j, a, b, count = 0
    pieces.n = sents.n = 0
    while i < n:
        if is_end(t[i]):  # [.!?؟؛\n]
            i += 1
            continue
        j = i
        while j < n and not is_end(t[j]):
            j += 1
        while j < n and is_end(t[j]) and t[j] != 10:
            j += 1
        a, b, i = i, j, j
        while a < b and Py_UNICODE_ISSPACE(t[a]):
            a += 1
        while b > a and Py_UNICODE_ISSPACE(t[b - 1]):
            b -= 1
        if a == b:
            continue
        push64(pieces, a)
        push64(pieces, b)
        if count and b - a < MIN_SENTENCE_CHARS:
            (<int64_t *>sents.p)[2 * count - 1] += 1
        else:
            push64(sents, pieces.n // 2 - 1)
            push64(sents, 1)
            count += 1
    return count


cdef int _join(const Py_UCS4 *t, const int64_t *pieces, Py_ssize_t first, Py_ssize_t count, Buf *out) except -1:
    """A sentence's text: its pieces of ``t`` joined by one space, into ``out``."""
    cdef Py_ssize_t k, a, b
    cdef Py_ssize_t size = count - 1
    for k in range(first, first + count):
        size += pieces[2 * k + 1] - pieces[2 * k]
    buf_reserve(out, size)
    out.n = 0
    for k in range(first, first + count):
        if k > first:
            (<Py_UCS4 *>out.p)[out.n] = 32
            out.n += 1
        a, b = pieces[2 * k], pieces[2 * k + 1]
        memcpy(out.p + out.n * sizeof(Py_UCS4), t + a, (b - a) * sizeof(Py_UCS4))
        out.n += b - a
    return 0


def split_sentences(str text):
    """The kernel's sentences of a normalised ``text`` (for tests: the reference is
    :func:`classify.sentences.split_sentences`)."""
    cdef Buf t, pieces, sents, out
    cdef Py_ssize_t j, count
    buf_init(&t, sizeof(Py_UCS4))
    buf_init(&pieces, 8)
    buf_init(&sents, 8)
    buf_init(&out, sizeof(Py_UCS4))
    try:
        _read(text, &t)
        count = _split(<Py_UCS4 *>t.p, t.n, &pieces, &sents)
        if count == 0:
            return [text]
        result = []
        for j in range(count):
            _join(<Py_UCS4 *>t.p, <int64_t *>pieces.p, (<int64_t *>sents.p)[2 * j], (<int64_t *>sents.p)[2 * j + 1],
                  &out)
            result.append(PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, out.p, out.n))
        return result
    finally:
        free(t.p)
        free(pieces.p)
        free(sents.p)
        free(out.p)


# What Kernel.timings() names; the clock is read between the steps only when Kernel.timing is set.
STEPS = ("normalise", "words: look-up", "words: new (n-grams, families, clusters)", "features+scores: char",
         "features+scores: structure", "features+scores: clusters", "probabilities",
         "sentence pooling: split, normalise again, words")


# -- the kernel -------------------------------------------------------------------------------

@cython.final
cdef class Kernel:
    """Probabilities of raw texts for one runtime: see :func:`classify.runtime.fast.kernel`."""
    # normalise
    cdef object _cmap_arr
    cdef const uint32_t[::1] cmap
    cdef bint punctuation
    # character n-grams (has_char: the block is there)
    cdef bint has_char
    cdef object _keep  # the arrays the views below read
    cdef const uint32_t[::1] rank
    cdef uint64_t[::1] slots  # the vocabulary's hash table (see _slots)
    cdef uint64_t[::1] pows  # the place values of a gram's characters
    cdef int col_bits
    cdef uint64_t col_mask
    cdef double[:, ::1] char_tab  # per column: its count (int32) and idf (float32), then its coefficients
    cdef int bits, min_n, max_n
    cdef uint64_t base
    cdef Py_ssize_t char_off
    # structure
    cdef bint has_struct
    cdef StrTable prefixes, negators
    cdef const int32_t[::1] struct_col  # column of each FEATURES bit
    cdef const int32_t[::1] struct_bit  # the bit of each column, by column
    cdef float struct_weight
    cdef Py_ssize_t struct_off
    # clusters
    cdef bint has_clusters, bigrams
    cdef StrTable cluster_of
    cdef const int32_t[::1] gram_col
    cdef double[:, ::1] cl_tab
    cdef uint64_t[::1] cl_seen  # a bit per column: the columns of a document, in order
    cdef int64_t k
    cdef float cl_weight
    cdef bint cl_weighted
    cdef Py_ssize_t cl_off
    # the classifier
    cdef const double[:, ::1] coef
    cdef const double[::1] intercept
    cdef Py_ssize_t n_labels
    cdef float[::1] logs  # logs[c - 1] = float32 log(c), as NumPy computes it
    # the memo of words: per word, its n-gram columns, structure codes and clusters
    cdef StrTable words
    cdef Buf w_cols, w_cols_at, w_codes, w_codes_at, w_ids, w_ids_at
    cdef public Py_ssize_t max_words
    # scratch
    cdef Buf text, tokens, order, vals
    # sentence pooling: the paragraph's text, tokens and their starts, its sentences, one sentence's text, scores
    cdef Buf para, para_tokens, starts, pieces, sents, raw, scores
    # profiling (see STEPS)
    cdef public bint timing
    cdef double spent[8]
    cdef Py_ssize_t stride  # of the tables' rows, in bytes

    def __cinit__(self):
        buf_init(&self.w_cols, 4)
        buf_init(&self.w_cols_at, 8)
        buf_init(&self.w_codes, 2)
        buf_init(&self.w_codes_at, 8)
        buf_init(&self.w_ids, 4)
        buf_init(&self.w_ids_at, 8)
        buf_init(&self.text, sizeof(Py_UCS4))
        buf_init(&self.tokens, 4)
        buf_init(&self.order, 4)
        buf_init(&self.vals, 4)
        buf_init(&self.para, sizeof(Py_UCS4))
        buf_init(&self.para_tokens, 4)
        buf_init(&self.starts, 8)
        buf_init(&self.pieces, 8)
        buf_init(&self.sents, 8)
        buf_init(&self.raw, sizeof(Py_UCS4))
        buf_init(&self.scores, 8)

    def __dealloc__(self):
        free(self.w_cols.p)
        free(self.w_cols_at.p)
        free(self.w_codes.p)
        free(self.w_codes_at.p)
        free(self.w_ids.p)
        free(self.w_ids_at.p)
        free(self.text.p)
        free(self.tokens.p)
        free(self.order.p)
        free(self.vals.p)
        free(self.para.p)
        free(self.para_tokens.p)
        free(self.starts.p)
        free(self.pieces.p)
        free(self.sents.p)
        free(self.raw.p)
        free(self.scores.p)

    def __init__(self, cmap, bint punctuation, coef, intercept, chars=None, structure=None, clusters=None,
                 Py_ssize_t max_words=1 << 17):
        self._keep = [cmap, coef, intercept, chars, structure, clusters]
        self.cmap, self.punctuation = cmap, punctuation
        self.coef, self.intercept, self.n_labels = coef, intercept, coef.shape[1]
        self.max_words = max_words
        self.has_char = chars is not None
        # Each column's count, idf and coefficients side by side, 64 bytes for 7 labels or fewer:
        # a document's columns are scattered over the vocabulary, and then each costs one cache line.
        self.stride = 8 * (8 if self.n_labels <= 7 else self.n_labels + 1)
        if self.has_char:
            self.rank, self.char_off = chars["rank"], chars["offset"]
            self.min_n, self.max_n, self.base = chars["min_n"], chars["max_n"], chars["base"]
            self._slots(chars["keys"])
            self.char_tab = self._table(chars["idf"], coef[self.char_off:self.char_off + len(chars["idf"])])
        self.has_struct = structure is not None
        if self.has_struct:
            self.prefixes, self.negators = StrTable(), StrTable()
            for key, mask in structure["prefixes"].items():
                self.prefixes.put(key, mask)
            for word in structure["negators"]:
                self.negators.put(word, 1)
            self.struct_col, self.struct_weight = structure["columns"], structure["weight"]
            self.struct_bit = np.argsort(structure["columns"]).astype(np.int32)
            self.struct_off = structure["offset"]
        self.has_clusters = clusters is not None
        if self.has_clusters:
            self.k, self.bigrams = clusters["k"], clusters["bigrams"]
            self.cluster_of = StrTable()
            self.cluster_of.put_many(clusters["words"], clusters["lengths"], clusters["numbers"])
            self.gram_col, self.cl_off = clusters["gram_col"], clusters["offset"]
            self.cl_weight, self.cl_weighted = clusters["weight"], clusters["weight"] != 1.0
            self.cl_tab = self._table(clusters["idf"], coef[self.cl_off:self.cl_off + len(clusters["idf"])])
            self.cl_seen = np.zeros((len(clusters["idf"]) + 63) // 64, dtype=np.uint64)
        self._logs(1 << 12)
        buf_reserve(&self.scores, 2 * self.n_labels)
        self.reset_timings()
        self.words = StrTable()
        self.forget()

    def _table(self, idf, coef):
        table = np.zeros((len(idf), self.stride // 8), dtype=np.float64)
        table[:, 1:1 + self.n_labels] = coef
        table.view(np.float32)[:, 1] = idf
        return table

    def _slots(self, const uint64_t[::1] keys):
        # An open-addressing table of the vocabulary (classify.runtime.char.hash_table's hashing),
        # each slot a key and its column in 64 bits: 4 MB for 150,000 grams, one cache line a look-up.
        cdef Py_ssize_t j, n = keys.shape[0]
        cdef uint64_t slot, mask
        cdef uint64_t[::1] table
        self.col_bits = max(int(n).bit_length(), 1)
        self.col_mask = (<uint64_t>1 << self.col_bits) - 1
        if n and int(np.max(keys)).bit_length() + self.col_bits > 64:
            raise ValueError("n-gram keys too long to pack with their columns")
        self.bits = max(int(np.ceil(np.log2(2 * n + 1))), 4)
        mask = (<uint64_t>1 << self.bits) - 1
        table = self.slots = np.zeros(1 << self.bits, dtype=np.uint64)
        for j in range(n):
            if keys[j] == 0:
                raise ValueError("an n-gram key of 0")
            slot = (keys[j] * FIB) >> (64 - self.bits)
            while table[slot] != 0:
                slot = (slot + 1) & mask
            table[slot] = (keys[j] << self.col_bits) | <uint64_t>j
        self.pows = np.array([self.base ** (self.max_n - 1 - i) for i in range(self.max_n)], dtype=np.uint64)

    def _logs(self, Py_ssize_t n):
        # The reference kernels take np.log of float32 counts: the same function, so the same bits.
        self.logs = np.log(np.arange(1, n + 1, dtype=np.float32))

    def forget(self):
        """Forget the remembered words."""
        self.words.clear()
        self.w_cols.n = self.w_codes.n = self.w_ids.n = 0
        self.w_cols_at.n = self.w_codes_at.n = self.w_ids_at.n = 0
        push64(&self.w_cols_at, 0)
        push64(&self.w_codes_at, 0)
        push64(&self.w_ids_at, 0)

    @property
    def n_words(self):
        return self.words.size()

    def normalise(self, str text):
        """``text`` normalised (for tests: the reference is :func:`classify.normalise.normalise`)."""
        self._normalise(text)
        return PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, self.text.p, self.text.n)

    def predict_proba(self, list texts, double[:, ::1] out, bint pool=False):
        """Write each label's probability for each raw text into ``out`` (len(texts) x labels).

        With ``pool``, each label's probability is pooled over the text's sentences
        (:func:`classify.pooling.pool`): the mean of the text's and its best sentence's.
        """
        cdef Py_ssize_t i
        cdef double *s
        cdef double t0 = 0.0, t1, learnt, scored
        for i in range(len(texts)):
            if self.words.size() > self.max_words:  # bounded memory: start again
                self.forget()
            if self.timing:
                t0 = _now()
            self._normalise(texts[i])
            if self.timing:
                t0 = self._clock(0, t0)
                learnt = self.spent[2]
            self._tokenise()
            if self.timing:
                t1 = _now()
                self.spent[1] += t1 - t0 - (self.spent[2] - learnt)
            s = &out[i, 0]
            self._score(<int32_t *>self.tokens.p, self.tokens.n, s)
            if pool:
                if self.timing:
                    t0 = _now()
                    scored = self.spent[2] + self.spent[3] + self.spent[4] + self.spent[5] + self.spent[6]
                self._pool(s)
                if self.timing:  # the sentences' new words and scores are in their own steps
                    t1 = _now()
                    self.spent[7] += t1 - t0 - (self.spent[2] + self.spent[3] + self.spent[4] + self.spent[5]
                                                + self.spent[6] - scored)

    cdef int _score(self, const int32_t *tok, Py_ssize_t n, double *s) except -1:
        """Each label's probability for the words ``tok[:n]`` (memo entries) into ``s``."""
        cdef Py_ssize_t l
        cdef double t0 = 0.0
        if self.timing:
            t0 = _now()
        for l in range(self.n_labels):
            s[l] = 0.0
        # The blocks' entries in the pipeline's column order, as the product X @ coef adds them.
        if self.has_char:
            self._char(tok, n, s)
            if self.timing:
                t0 = self._clock(3, t0)
        if self.has_struct:
            self._structure(tok, n, s)
            if self.timing:
                t0 = self._clock(4, t0)
        if self.has_clusters:
            self._clusters(tok, n, s)
            if self.timing:
                t0 = self._clock(5, t0)
        for l in range(self.n_labels):
            # 1 / (1 + exp(-v)): as the reference, C's exp; an overflow gives inf and so 0.
            s[l] = 1.0 / (1.0 + exp(-(s[l] + self.intercept[l])))
        if self.timing:
            self._clock(6, t0)
        return 0

    cdef int _pool(self, double *s) except -1:
        """classify.pooling.pool for the text in ``text`` and ``tokens``, whose probabilities are ``s``.

        Each sentence is normalised again and scored as a text of its own, as the reference
        does. When that leaves it as it stood in the paragraph, cut at word boundaries (84% of
        the labelled paragraphs' sentences; a decimal point "6.4" cuts a word), its words are
        the paragraph's: their memo entries are reused, not looked up again.
        """
        cdef Py_ssize_t n = self.text.n, count, j, first, size, a, b, k, t = 0, n_tok, l, L = self.n_labels
        cdef Py_UCS4 *para
        cdef int64_t *pieces
        cdef int64_t *sents
        cdef int64_t *starts
        cdef double *best = <double *>self.scores.p
        cdef double *cur = best + L
        cdef bint whole
        count = _split(<Py_UCS4 *>self.text.p, n, &self.pieces, &self.sents)
        pieces, sents = <int64_t *>self.pieces.p, <int64_t *>self.sents.p
        if count == 0:
            return 0  # the text is its own one sentence: the mean of its score and itself
        if count == 1:
            _join(<Py_UCS4 *>self.text.p, pieces, 0, sents[1], &self.raw)
            if self.raw.n == n and memcmp(self.raw.p, self.text.p, n * sizeof(Py_UCS4)) == 0:
                return 0
        # The paragraph's text and words, kept while each sentence takes their buffers.
        buf_reserve(&self.para, n)
        memcpy(self.para.p, self.text.p, n * sizeof(Py_UCS4))
        para = <Py_UCS4 *>self.para.p
        n_tok = self.tokens.n
        buf_reserve(&self.para_tokens, n_tok)
        memcpy(self.para_tokens.p, self.tokens.p, n_tok * sizeof(int32_t))
        # Where each of its words starts (split at single spaces, as _tokenise does).
        self.starts.n = 0
        while t < n:
            k = t
            while k < n and para[k] != 32:
                k += 1
            if k > t:
                push64(&self.starts, t)
            t = k + 1
        starts, t = <int64_t *>self.starts.p, 0
        for j in range(count):
            first, size = sents[2 * j], sents[2 * j + 1]
            a, b = pieces[2 * first], pieces[2 * (first + size) - 1]
            _join(para, <int64_t *>self.pieces.p, first, size, &self.raw)
            self._normalise_data(PyUnicode_4BYTE_KIND, self.raw.p, self.raw.n)
            # Its text is the paragraph's a..b when the pieces were one space apart; it starts and ends a word.
            whole = (self.raw.n == b - a and (a == 0 or para[a - 1] == 32) and (b == n or para[b] == 32)
                     and self.text.n == self.raw.n
                     and memcmp(self.text.p, self.raw.p, self.raw.n * sizeof(Py_UCS4)) == 0
                     and memcmp(self.raw.p, para + a, self.raw.n * sizeof(Py_UCS4)) == 0)
            if whole:
                while t < self.starts.n and starts[t] < a:
                    t += 1
                k = t
                while t < self.starts.n and starts[t] < b:
                    t += 1
                self._score(<int32_t *>self.para_tokens.p + k, t - k, cur)
            else:
                self._tokenise()
                self._score(<int32_t *>self.tokens.p, self.tokens.n, cur)
            for l in range(L):
                if j == 0 or cur[l] > best[l]:
                    best[l] = cur[l]
        for l in range(L):
            s[l] = (s[l] + best[l]) / 2.0
        return 0

    cdef inline double _clock(self, int step, double since) noexcept:
        cdef double t = _now()
        self.spent[step] += t - since
        return t

    def timings(self):
        """Ticks (:func:`ticks`) spent in each of :data:`STEPS` since :meth:`reset_timings`, while ``timing`` was set."""
        return {name: self.spent[j] for j, name in enumerate(STEPS)}

    def reset_timings(self):
        for j in range(len(STEPS)):
            self.spent[j] = 0.0

    # -- normalise: classify.normalise.normalise, with white space collapsed ---------------------

    cdef int _normalise(self, str text) except -1:
        return self._normalise_data(PyUnicode_KIND(text), PyUnicode_DATA(text), PyUnicode_GET_LENGTH(text))

    cdef int _normalise_data(self, int kind, void *data, Py_ssize_t n) except -1:
        """The text of ``n`` code points of this kind at ``data``, normalised, into ``text``."""
        cdef Py_ssize_t i, o = 0, word_start
        cdef Py_UCS4 c, m
        cdef Py_UCS4 *out
        cdef Py_ssize_t ncmap = self.cmap.shape[0]
        cdef bint in_word = False
        word_start = 0
        buf_reserve(&self.text, n + 1)
        out = <Py_UCS4 *>self.text.p
        # Split at white space, map each character (or drop it), join the non-empty words with one space.
        for i in range(n):
            c = PyUnicode_READ(kind, data, i)
            if Py_UNICODE_ISSPACE(c):
                if in_word and o > word_start:
                    out[o] = 32
                    o += 1
                in_word = False
                continue
            if not in_word:
                in_word, word_start = True, o
            m = self.cmap[c] if c < ncmap else c
            if m != _DELETE:
                out[o] = m
                o += 1
        if o and out[o - 1] == 32:
            o -= 1
        self.text.n = o
        if self.punctuation and o:
            self._punctuation()
        return 0

    cdef int _punctuation(self) except -1:
        """classify.normalise.unspace_punctuation(single_spaced=True), each re.sub a scan."""
        cdef Py_UCS4 *t = <Py_UCS4 *>self.text.p
        cdef Py_ssize_t n = self.text.n, i, o, j, close
        cdef Py_UCS4 c, prev
        cdef bint dots = False, seps = False, before = False, brackets = False, quotes = False
        # Which passes can change anything: each needs some characters, and most texts lack them.
        # (No pass makes a space before a mark or a spaced separator the scan did not see.)
        for i in range(n):
            c = t[i]
            if c == 32:
                if i + 1 < n and _is_closing(t[i + 1]):
                    before = True
                if i + 2 < n and t[i + 2] == 32 and _is_sep(t[i + 1]):
                    seps = True
            elif c == 46:
                dots = True
            elif c == 40 or c == 91 or c == 123 or c == 0xAB:
                brackets = True
            elif c == 34:
                quotes = True
        # \.(?: \.)+ -> "..." (it can only grow "..." from ". .", two characters at least, so in place)
        if dots:
            i = o = 0
            while i < n:
                if t[i] == 46 and i + 2 < n and t[i + 1] == 32 and t[i + 2] == 46:
                    j = i + 3
                    while j + 1 < n and t[j] == 32 and t[j + 1] == 46:
                        j += 2
                    t[o] = t[o + 1] = t[o + 2] = 46
                    o += 3
                    i = j
                else:
                    t[o] = t[i]
                    o += 1
                    i += 1
            n = o
        # (?<=\d) ([:/.,]) (?=\d) -> the separator; the look-behind reads the input (prev), not what was written
        if seps:
            i = o = 0
            prev = 0
            while i < n:
                c = t[i]
                if (c == 32 and i + 3 < n and t[i + 2] == 32 and _is_sep(t[i + 1]) and i > 0
                        and Py_UNICODE_ISDECIMAL(prev) and Py_UNICODE_ISDECIMAL(t[i + 3])):
                    t[o] = t[i + 1]
                    o += 1
                    prev = 32
                    i += 3
                else:
                    t[o] = c
                    o += 1
                    prev = c
                    i += 1
            n = o
        # " ([.,،؛;:!?؟)\]}»])" -> the mark
        if before:
            i = o = 0
            while i < n:
                if t[i] == 32 and i + 1 < n and _is_closing(t[i + 1]):
                    t[o] = t[i + 1]
                    o += 1
                    i += 2
                else:
                    t[o] = t[i]
                    o += 1
                    i += 1
            n = o
        # ([(\[{«])\s+ -> the bracket
        if brackets:
            i = o = 0
            while i < n:
                c = t[i]
                t[o] = c
                o += 1
                i += 1
                if c == 40 or c == 91 or c == 123 or c == 0xAB:
                    while i < n and Py_UNICODE_ISSPACE(t[i]):
                        i += 1
            n = o
        # "([^"]*)" -> the quotation, stripped
        if quotes:
            i = o = 0
            while i < n:
                c = t[i]
                if c == 34:
                    j = i + 1
                    while j < n and t[j] != 34:
                        j += 1
                    if j < n:  # a pair: strip what is between
                        close = j
                        t[o] = 34
                        o += 1
                        i += 1
                        while i < j and Py_UNICODE_ISSPACE(t[i]):
                            i += 1
                        while j > i and Py_UNICODE_ISSPACE(t[j - 1]):
                            j -= 1
                        while i < j:
                            t[o] = t[i]
                            o += 1
                            i += 1
                        t[o] = 34
                        o += 1
                        i = close + 1
                        continue
                t[o] = c
                o += 1
                i += 1
            n = o
        self.text.n = n
        return 0

    # -- the memo of words -----------------------------------------------------------------------

    cdef int _tokenise(self) except -1:
        """The words of the normalised text (split at its single spaces), as memo entries, into tokens."""
        cdef Py_UCS4 *t = <Py_UCS4 *>self.text.p
        cdef Py_ssize_t n = self.text.n, i = 0, j
        cdef uint64_t h
        cdef int32_t e
        cdef double t0
        self.tokens.n = 0
        while i < n:
            j = i
            while j < n and t[j] != 32:
                j += 1
            if j == i:
                i += 1
                continue
            h = str_hash(t + i, j - i)
            e = self.words.find(t + i, j - i, h)
            if e < 0:
                e = self.words.add(t + i, j - i, h, 0)
                if self.timing:
                    t0 = _now()
                    self._learn(t + i, j - i)
                    self._clock(2, t0)
                else:
                    self._learn(t + i, j - i)
            push32(&self.tokens, e)
            i = j + 1
        return 0

    cdef int _learn(self, const Py_UCS4 *w, Py_ssize_t n) except -1:
        """Add a new word's n-gram columns, structure codes and clusters to the memo."""
        if self.has_char:
            self._learn_grams(w, n)
        push64(&self.w_cols_at, self.w_cols.n)
        if self.has_struct or self.has_clusters:
            self._learn_tokens(w, n)
        push64(&self.w_codes_at, self.w_codes.n)
        push64(&self.w_ids_at, self.w_ids.n)
        return 0

    cdef int _learn_grams(self, const Py_UCS4 *w, Py_ssize_t n) except -1:
        # classify.runtime.char.ngrams of " " + w + " ": by length n, then place; grams with a
        # character outside the alphabet are skipped; a segment shorter than min_n counts whole.
        # keys[p] grows from the gram of length size - 1 at p to the one of length size.
        cdef Py_ssize_t L = n + 2, p, size, nrank = self.rank.shape[0]
        cdef int64_t col
        cdef uint32_t r[64]
        cdef uint64_t k[64]
        cdef uint32_t *ranks = r
        cdef uint64_t *keys = k
        cdef uint64_t digit
        cdef Py_UCS4 c
        if L > 64:
            ranks = <uint32_t *>malloc(L * sizeof(uint32_t))
            keys = <uint64_t *>malloc(L * sizeof(uint64_t))
            if ranks == NULL or keys == NULL:
                free(ranks)
                free(keys)
                raise MemoryError()
        try:
            for p in range(L):
                c = 32 if p == 0 or p == L - 1 else w[p - 1]
                ranks[p] = self.rank[c] if c < nrank else 0
                keys[p] = 0
            for size in range(1, min(self.max_n, L) + 1):
                digit = self.pows[size - 1]
                for p in range(L - size + 1):
                    if ranks[p + size - 1] == 0:
                        keys[p] = 0  # a gram past an unknown character: none from p any longer
                    elif keys[p] != 0 or size == 1:
                        keys[p] += ranks[p + size - 1] * digit
                if size < self.min_n and L != size:
                    continue
                for p in range(L - size + 1):
                    if keys[p] != 0:
                        col = self._column(keys[p])
                        if col >= 0:
                            push32(&self.w_cols, <int32_t>col)
        finally:
            if ranks != r:
                free(ranks)
                free(keys)
        return 0

    cdef inline int64_t _column(self, uint64_t key) noexcept:
        # classify.runtime.char.lookup, in a table of key << col_bits | column (0 for empty):
        # Fibonacci hashing, linear probing.
        cdef uint64_t mask = (<uint64_t>1 << self.bits) - 1
        cdef uint64_t slot = (key * FIB) >> (64 - self.bits)
        cdef uint64_t found
        cdef uint64_t *table = &self.slots[0]
        while True:
            found = table[slot]
            if found == 0:
                return -1
            if (found >> self.col_bits) == key:
                return <int64_t>(found & self.col_mask)
            slot = (slot + 1) & mask

    cdef int _learn_tokens(self, const Py_UCS4 *w, Py_ssize_t n) except -1:
        # Its tokens (\w+ or a sentence end): each with its structure families
        # (classify.runtime.structure._find_families), and the clusters of the \w+ ones
        # in the table (classify.runtime.clusters._ids_of_words).
        cdef Py_ssize_t i = 0, j, m, size
        cdef int32_t e, v
        cdef uint64_t raw
        cdef uint16_t code
        while i < n:
            if is_end(w[i]):
                if self.has_struct:
                    push16(&self.w_codes, END)
                i += 1
            elif is_word(w[i]):
                j = i
                while j < n and is_word(w[j]):
                    j += 1
                m = j - i
                if self.has_clusters:
                    e = self.cluster_of.find(w + i, m, str_hash(w + i, m))
                    if e >= 0:
                        push32(&self.w_ids, (<int32_t *>self.cluster_of.values.p)[e])
                if self.has_struct:
                    code = 0
                    # Every prefix of a family word (with its proclitic) is in the table, with the
                    # families of the whole ones (0 for the others): the first absent prefix ends the search.
                    raw = FNV_OFFSET
                    for size in range(1, m + 1):
                        raw = (raw ^ <uint64_t>w[i + size - 1]) * FNV_PRIME
                        e = self.prefixes.find(w + i, size, raw ^ (raw >> 29))
                        if e < 0:
                            break
                        v = (<int32_t *>self.prefixes.values.p)[e]
                        if size < m:  # "from" only as the whole word
                            v &= ~(<int32_t>FROM)
                        code |= <uint16_t>v
                    if self.negators.find(w + i, m, str_hash(w + i, m)) >= 0:
                        code |= NEG
                    push16(&self.w_codes, code)
                i = j
            else:
                i += 1
        return 0

    # -- the blocks ------------------------------------------------------------------------------

    cdef int _need_logs(self, Py_ssize_t count) except -1:
        if count > self.logs.shape[0]:
            self._logs(max(count, 2 * self.logs.shape[0]))
        return 0

    cdef int _char(self, const int32_t *tok, Py_ssize_t n_tok, double *s) except -1:
        # CharKernel._word_counts then sublinear tf, idf and l2 rows: the counts by the sparse
        # product (documents x words) @ (words x n-grams), whose row lists its columns in the
        # reverse order of their first appearance; the norm adds the squares in that order.
        cdef int64_t *at = <int64_t *>self.w_cols_at.p
        cdef int32_t *cols = <int32_t *>self.w_cols.p
        cdef char *tab = <char *>&self.char_tab[0, 0]
        cdef Py_ssize_t stride = self.stride
        cdef int32_t *count
        cdef Py_ssize_t t, a, n_seen = 0, total = 0, l, L = self.n_labels
        cdef int32_t c, w
        cdef int32_t *order
        cdef float *vals
        cdef float x
        cdef double sq = 0.0, norm, v
        cdef const double *row
        for t in range(n_tok):
            w = tok[t]
            total += at[w + 1] - at[w]
        self._need_logs(total)
        buf_reserve(&self.order, total)
        buf_reserve(&self.vals, total)
        order, vals = <int32_t *>self.order.p, <float *>self.vals.p
        for t in range(n_tok):
            w = tok[t]
            for a in range(at[w], at[w + 1]):
                c = cols[a]
                count = <int32_t *>(tab + c * stride)
                if count[0] == 0:
                    order[n_seen] = c
                    n_seen += 1
                count[0] += 1
        for a in range(n_seen - 1, -1, -1):
            count = <int32_t *>(tab + order[a] * stride)
            x = self.logs[count[0] - 1] + <float>1.0
            x = x * (<float *>count)[1]
            vals[a] = x
            sq += <double>(x * x)
            count[0] = 0
        norm = sqrt(sq)
        if norm == 0.0:
            norm = 1.0
        for a in range(n_seen - 1, -1, -1):
            v = <double><float>(<double>vals[a] / norm)
            row = <double *>(tab + order[a] * stride) + 1
            for l in range(L):
                s[l] += v * row[l]
        return 0

    cdef int _structure(self, const int32_t *tok, Py_ssize_t n_tok, double *s) except -1:
        # classify.runtime.structure.sentence_features over the words' codes.
        cdef int64_t *at = <int64_t *>self.w_codes_at.p
        cdef uint16_t *codes = <uint16_t *>self.w_codes.p
        cdef Py_ssize_t t, a, pos = 0, start = 0, last_w = -1, l, L = self.n_labels, j
        cdef Py_ssize_t first[10]
        cdef uint32_t feats = 0, present = 0, fresh, b
        cdef uint16_t code, m
        cdef bint prev_neg = False, w_from = False
        cdef const double *row
        cdef double v
        for t in range(n_tok):
            for a in range(at[tok[t]], at[tok[t] + 1]):
                code = codes[a]
                if code & END:
                    feats |= _sentence(present, first, w_from)
                    present, w_from, last_w, start = 0, False, -1, pos + 1
                else:
                    m = code & 0x3FF
                    if m:
                        if (m & TRUTH) and pos > start and prev_neg:  # "عدم صحة": a denial
                            m |= DENY
                        fresh = m & ~present
                        for b in range(10):
                            if fresh & (1 << b):
                                first[b] = pos
                        present |= m
                        if (m & FROM) and last_w >= 0 and pos - last_w <= 3:
                            w_from = True
                        if m & WITHDRAW:
                            last_w = pos
                prev_neg = (code & NEG) != 0
                pos += 1
        feats |= _sentence(present, first, w_from)
        if feats:
            v = <double>(<float>self.struct_weight)
            for j in range(self.struct_bit.shape[0]):  # by column
                if feats & (1 << self.struct_bit[j]):
                    row = &self.coef[self.struct_off + j, 0]
                    for l in range(L):
                        s[l] += v * row[l]
        return 0

    cdef int _clusters(self, const int32_t *tok, Py_ssize_t n_tok, double *s) except -1:
        # classify.runtime.clusters.cluster_matrix: unigrams and bigrams of the known words'
        # clusters, counted, sublinear tf, idf, l2 rows, times the weight; columns sorted.
        cdef int64_t *at = <int64_t *>self.w_ids_at.p
        cdef int32_t *ids = <int32_t *>self.w_ids.p
        cdef char *tab = <char *>&self.cl_tab[0, 0]
        cdef uint64_t *seen = &self.cl_seen[0]
        cdef Py_ssize_t stride = self.stride
        cdef int32_t *count
        cdef Py_ssize_t t, a, n_seen = 0, total = 0, l, L = self.n_labels
        cdef int64_t prev = -1, g
        cdef int32_t c
        cdef int32_t *order
        cdef float *vals
        cdef float x
        cdef double sq = 0.0, norm, v
        cdef const double *row
        for t in range(n_tok):
            total += at[tok[t] + 1] - at[tok[t]]
        self._need_logs(2 * total)
        buf_reserve(&self.order, 2 * total)
        buf_reserve(&self.vals, 2 * total)
        order, vals = <int32_t *>self.order.p, <float *>self.vals.p
        for t in range(n_tok):
            for a in range(at[tok[t]], at[tok[t] + 1]):
                g = ids[a]
                c = self.gram_col[g]
                if c >= 0:
                    count = <int32_t *>(tab + c * stride)
                    if count[0] == 0:
                        seen[c >> 6] |= (<uint64_t>1) << (c & 63)
                    count[0] += 1
                if self.bigrams and prev >= 0:
                    c = self.gram_col[self.k + prev * self.k + g]
                    if c >= 0:
                        count = <int32_t *>(tab + c * stride)
                        if count[0] == 0:
                            seen[c >> 6] |= (<uint64_t>1) << (c & 63)
                        count[0] += 1
                prev = g
        # The columns in ascending order, as the reference's sorted rows have them.
        for a in range(self.cl_seen.shape[0]):
            while seen[a]:
                order[n_seen] = <int32_t>(a * 64 + __builtin_ctzll(seen[a]))
                n_seen += 1
                seen[a] &= seen[a] - 1
        for a in range(n_seen):
            count = <int32_t *>(tab + order[a] * stride)
            x = self.logs[count[0] - 1] + <float>1.0
            x = x * (<float *>count)[1]
            vals[a] = x
            sq += <double>(x * x)
            count[0] = 0
        norm = sqrt(sq)
        if norm == 0.0:
            norm = 1.0
        for a in range(n_seen):
            x = <float>(<double>vals[a] / norm)
            if self.cl_weighted:
                x = x * self.cl_weight
            v = <double>x
            row = <double *>(tab + order[a] * stride) + 1
            for l in range(L):
                s[l] += v * row[l]
        return 0


cdef inline bint _is_sep(Py_UCS4 c) noexcept:
    return c == 58 or c == 47 or c == 46 or c == 44


cdef inline bint _is_closing(Py_UCS4 c) noexcept:
    # [.,،؛;:!?؟)\]}»]
    return (c == 46 or c == 44 or c == 0x060C or c == 0x061B or c == 59 or c == 58 or c == 33 or c == 63
            or c == 0x061F or c == 41 or c == 93 or c == 125 or c == 0xBB)


cdef uint32_t _sentence(uint32_t present, Py_ssize_t *first, bint w_from) noexcept:
    """The feature bits of one sentence (classify.runtime.structure._read_sentence)."""
    cdef uint32_t out = 0
    cdef int e
    if not present:
        return 0
    for e in range(5):
        if present & (1 << e):
            if (present & DENY) and first[5] <= first[e]:
                out |= 1 << (3 * e + 1)
            elif present & MODAL:
                out |= 1 << (3 * e + 2)
            else:
                out |= 1 << (3 * e)
    if present & HARM:
        out |= 1 << (15 if present & CIVILIAN else 16)
    if w_from:
        out |= 1 << 17
    if present & DENY:
        out |= 1 << 18
        if present & (ADVANCE | WITHDRAW):
            out |= 1 << 20
    if present & MODAL:
        out |= 1 << 19
    if (present & AIR) and (present & SHELL):
        out |= 1 << 21
    return out
