"""A label scheme's cue words, found for all labels in one pass over the text.

The labels and cue words come from a scheme (:mod:`classify.scheme`); without one, the
codebook's, shipped as ``classify/schemes/codebook.toml``.

A label's cue fires where one of its cue words begins a word, after at most a proclitic
(wa-, fa-, bi-, li-, ka-, al-), so that "نفي" (denial) does not fire inside "تنفيذ"
(execution); suffixes are free. Every (proclitic + cue) string of every label goes into
one Aho-Corasick automaton, which reports all occurrences, overlapping ones included, in
one scan in C; an occurrence counts when nothing word-like precedes it, exactly the
``(?<!\\w)`` of the one-regex-per-label matcher this replaces.
"""

import functools
from itertools import product

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin

from classify.normalise import normalise
from classify.scheme import default_scheme

# The default scheme's labels and cue words (classify/schemes/codebook.toml): the codebook's
# "includes" column, with the inflections it lists. A model's own scheme may differ.
LABELS = default_scheme().labels
CUE_WORDS = default_scheme().cues
# Every form of the regex proclitic (?:[وف]?(?:[بلك]|ال|بال|لل|كال)?), spelled out.
PROCLITICS = tuple(a + b for a, b in product(("", "و", "ف"), ("", "ب", "ل", "ك", "ال", "بال", "لل", "كال")))


def _is_word_char(char):
    # The re module's \w for str patterns: alphanumeric (str.isalnum) or underscore.
    return char.isalnum() or char == "_"


class CueMatcher:
    """The cue words of a label set, found for all labels in one Aho-Corasick pass.

    Parameters
    ----------
    labels : tuple of str
        Bit i of a mask stands for ``labels[i]``.
    cues : tuple of tuple of str
        The cue words of each label, in the order of ``labels``.
    """

    def __init__(self, labels, cues):
        import ahocorasick

        self.labels = tuple(labels)
        # Each string maps to its length and the bit mask of the labels it belongs to (one
        # string may be a cue of two labels).
        masks = {}
        for bit, words in enumerate(cues):
            for word in words:
                for proclitic in PROCLITICS:
                    string = proclitic + normalise(word)
                    masks[string] = masks.get(string, 0) | (1 << bit)
        self.automaton = ahocorasick.Automaton()
        for string, mask in masks.items():
            self.automaton.add_word(string, (len(string), mask))
        if masks:
            self.automaton.make_automaton()
        self.all = (1 << len(self.labels)) - 1
        self.any = bool(masks)

    def mask(self, folded):
        """Bit mask of the labels (bit i for ``labels[i]``) whose cues begin a word of normalised text."""
        mask, everything = 0, self.all
        if not self.any:
            return mask
        for end, (length, labels) in self.automaton.iter(folded):
            start = end - length + 1
            if labels & ~mask and (start == 0 or not _is_word_char(folded[start - 1])):
                mask |= labels
                if mask == everything:
                    break
        return mask

    def labels_in(self, text):
        """The labels whose cue words begin a word of ``text`` (after normalisation), in label order."""
        mask = self.mask(normalise(text))
        return [label for bit, label in enumerate(self.labels) if mask >> bit & 1]

    def matrix(self, texts):
        """An (n, len(labels)) float32 0/1 matrix: row i marks the labels cued in normalised ``texts[i]``."""
        masks = np.fromiter((self.mask(t) for t in texts), dtype=np.int64)
        return ((masks[:, None] >> np.arange(len(self.labels))) & 1).astype(np.float32)


@functools.lru_cache(maxsize=32)
def _matcher(key):
    return CueMatcher([label for label, _ in key], [words for _, words in key])


@functools.lru_cache(maxsize=1)
def _default_matcher():
    return CueMatcher(LABELS, [CUE_WORDS[label] for label in LABELS])


def matcher(cues=None):
    """The (cached) :class:`CueMatcher` of ``cues``, a dict of label to cue words in column order.

    ``None`` gives the default scheme's.
    """
    if cues is None or cues is CUE_WORDS:
        return _default_matcher()
    return _matcher(tuple((str(label), tuple(map(str, words))) for label, words in cues.items()))


def cue_mask(folded, cues=None):
    """Bit mask of the labels (bit i for the i-th label of ``cues``, default :data:`LABELS`)
    whose cues begin a word of normalised text."""
    return matcher(cues).mask(folded)


def cue_labels(text, cues=None):
    """The labels whose cue words begin a word of ``text`` (after normalisation), in label order.

    ``cues`` is a dict of label to cue words (a scheme's ``cues``); default the codebook's.
    """
    return matcher(cues).labels_in(text)


def cue_matrix(texts, cues=None):
    """An (n, n_labels) float32 0/1 matrix: row i marks the labels cued in ``texts[i]``.

    Parameters
    ----------
    texts : iterable of str
        Normalised already (unlike :func:`cue_labels`, this does not normalise).
    cues : dict of str to sequence of str, optional
        Each label's cue words, in column order; default the codebook's (:data:`CUE_WORDS`).

    Returns
    -------
    ndarray
    """
    return matcher(cues).matrix(texts)


class CueFeatures(TransformerMixin, BaseEstimator):
    """One feature per label: whether its cue words occur, times ``weight``.

    An optional block of the feature union: the linear model learns how much each cue
    counts, instead of the rules' all-or-nothing.

    Parameters
    ----------
    weight : float
        Scale of the indicators against the unit-norm TF-IDF rows.
    renormalise : bool
        Normalise each text with the default steps before matching, as :func:`cue_labels`
        does, whatever the pipeline's own normaliser did. ``False`` matches the text as
        given: the same result when the pipeline's normaliser has the default steps
        (normalisation is idempotent), for half the normalisation time.
    cues : dict of str to sequence of str, optional
        Each label's cue words, in column order: the scheme's, set by
        :func:`classify.pipeline.make_pipeline`, so a saved model matches its own cues.
        ``None`` (and models saved before schemes) means the codebook's.
    """

    def __init__(self, weight=1.0, renormalise=True, cues=None):
        self.weight = weight
        self.renormalise = renormalise
        self.cues = cues

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        texts = (normalise(str(t)) if self.renormalise else str(t) for t in X)
        return sp.csr_matrix(cue_matrix(texts, self.cues) * np.float32(self.weight))

    def get_feature_names_out(self, input_features=None):
        return np.array([f"cue_{label}" for label in matcher(self.cues).labels], dtype=object)

    def __setstate__(self, state):
        # Models saved before ``renormalise`` existed always normalised again; before
        # ``cues``, they matched the codebook's cue words.
        super().__setstate__({"renormalise": True, "cues": None, **state})
