"""The compiled predict path: :class:`classify.runtime._kernel.Kernel` built from a runtime's arrays.

The extension is built with the package (``pip install -e .`` or ``make``). Without it, or
for a runtime it does not cover, :func:`kernel` returns ``None`` and the runtime predicts
through the NumPy kernels, which stay the reference: the compiled path gives the same
probabilities (``tests/test_kernel.py``).

Covered: white space collapsed by the normaliser (so a text's words are its space-separated
tokens), at most one block of each kind, a ``char_wb`` block of float32 TF-IDF (sublinear
tf, idf, l2 rows, no lowercasing), and the structure block's features as this classify has them.
Sentence pooling (:mod:`classify.pooling`) is part of the same pass: the kernel splits the
normalised text as :func:`classify.sentences.split_sentences` does.
"""

import threading

import numpy as np

from classify import sentences
from classify.normalise import _CHARACTER_STEPS, _switched_on
from classify.runtime import structure
from classify.runtime.char import MEMO_WORDS

try:
    from classify.runtime import _kernel
except ImportError:  # not built: the NumPy kernels predict
    _kernel = None


def available():
    """Whether the compiled extension is importable."""
    return _kernel is not None


def kernel(runtime):
    """A :class:`Kernel` predicting as ``runtime``, or ``None`` if the extension or the runtime's kind does not allow one.

    Parameters
    ----------
    runtime : classify.runtime.Runtime

    Returns
    -------
    Kernel or None
    """
    if (_kernel is None or not runtime.switches.get("whitespace") or sentences._ENDS != _kernel.SENTENCE_ENDS
            or sentences.MIN_CHARS != _kernel.MIN_SENTENCE_CHARS):
        return None
    kinds = [kind for kind, _, _ in runtime.parts]
    if len(set(kinds)) != len(kinds):
        return None
    blocks = {}
    for kind, part, offset in runtime.parts:
        if kind == "char":
            blocks["chars"] = _char(part, offset)
            if blocks["chars"] is None:
                return None
        elif kind == "structure":
            blocks["structure"] = _structure(part["weight"], part["lexicon"], offset)
            if blocks["structure"] is None:
                return None
        else:
            blocks["clusters"] = _clusters(part, offset)
    on = _switched_on(runtime.switches)
    table = {ord(k): v for name in on if name in _CHARACTER_STEPS for k, v in _CHARACTER_STEPS[name].items()}
    cmap = np.arange(max(table, default=0) + 1, dtype=np.uint32)
    for code, to in table.items():
        cmap[code] = ord(to) if to else _kernel.DELETE
    try:
        inner = _kernel.Kernel(cmap, "punctuation" in on, runtime.coef, runtime.intercept, max_words=MEMO_WORDS,
                               **blocks)
    except (ValueError, OverflowError):  # n-gram keys too long for its tables: the NumPy kernels predict
        return None
    return Kernel(inner, runtime.coef.shape[1])


class Kernel:
    """Probabilities of raw texts through the compiled kernel (one thread at a time: it keeps a memo of words)."""

    def __init__(self, inner, n_labels):
        self.inner, self.n_labels = inner, n_labels
        self._lock = threading.Lock()

    def predict_proba(self, texts, pooling="none"):
        """Each label's probability for each raw text (a list of str), as :meth:`Runtime.predict_proba`."""
        out = np.empty((len(texts), self.n_labels), dtype=np.float64)
        with self._lock:
            self.inner.predict_proba(texts, out, pooling == "sentence")
        return out


def _char(kernel, offset):
    if (kernel.analyzer != "char_wb" or kernel.lowercase or not kernel.sublinear_tf or kernel.norm != "l2"
            or kernel.idf is None or kernel.dtype != np.float32 or kernel.idf.dtype != np.float32):
        return None
    return {"rank": kernel.table, "keys": kernel.keys, "idf": kernel.idf, "offset": offset, "min_n": kernel.ngram_range[0], "max_n": kernel.ngram_range[1],
            "base": int(kernel.table.max()) + 1}


def _structure(weight, lexicon, offset):
    families = _kernel.FAMILIES
    if set(families) != set(structure.EVENT_FAMILIES) | set(structure.MARK_FAMILIES) \
            or list(structure.EVENT_FAMILIES) != list(families[:5]) or set(_kernel.FEATURES) != set(structure.FEATURES) \
            or structure._ENDS != frozenset(_kernel.ENDS):
        return None
    bit = {name: 1 << i for i, name in enumerate(families)}
    prefixes = {key: sum(bit[f] for f in fams) for key, fams in structure.lexicon(lexicon).prefixes.items()}
    # Their own prefixes too, with no family: a word none of whose prefixes is there has no family.
    prefixes = {key[:n]: 0 for key in prefixes for n in range(1, len(key))} | prefixes
    columns = np.array([structure._COLUMN[name] for name in _kernel.FEATURES], dtype=np.int32)
    return {"prefixes": prefixes, "negators": sorted(structure._NEGATORS), "weight": weight, "offset": offset,
            "columns": columns}


def _clusters(part, offset):
    k = part["k"]
    # Every gram id (unigram a: a; bigram (a, b): k + a * k + b) -> its column, -1 for none.
    gram_col = np.full(k * (k + 1), -1, dtype=np.int32)
    gram_col[part["grams"]] = part["columns"]
    table = part["table"]
    words = "".join(table)
    lengths = np.fromiter(map(len, table), dtype=np.int64, count=len(table))
    numbers = np.fromiter(table.values(), dtype=np.int32, count=len(table))
    return {"words": words, "lengths": lengths, "numbers": numbers, "k": k, "bigrams": part["bigrams"], "gram_col": gram_col,
            "idf": part["idf"], "weight": part["weight"], "offset": offset}
