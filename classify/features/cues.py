"""The codebook's cue words, found for all labels in one pass over the text.

A label's cue fires where one of its cue words begins a word, after at most a proclitic
(wa-, fa-, bi-, li-, ka-, al-), so that "نفي" (denial) does not fire inside "تنفيذ"
(execution); suffixes are free. Every (proclitic + cue) string of every label goes into
one Aho-Corasick automaton, which reports all occurrences, overlapping ones included, in
one scan in C; an occurrence counts when nothing word-like precedes it, exactly the
``(?<!\\w)`` of the one-regex-per-label matcher this replaces.
"""

from itertools import product

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin

from classify.normalise import normalise

LABELS = ("shelling", "ground_advance", "withdrawal", "humanitarian", "claim_denial")

# The codebook's "includes" column, with the inflections it lists.
CUE_WORDS = {
    "shelling": ("قصف", "غارات", "غارة", "قذائف", "صواريخ", "هاون", "الطيران الحربي", "المسيّر",
                 "براميل متفجرة", "مدفعي", "غطاء جوي"),
    "ground_advance": ("تقدم", "سيطرة", "سيطرت", "اقتحام", "اقتحمت", "هجوم", "معارك", "اشتباكات",
                       "محور", "وصلت إلى"),
    "withdrawal": ("انسحاب", "تراجع", "انسحبت", "انسحب", "اضطرت للانسحاب", "إخلاء المقرات"),
    "humanitarian": ("مدنيين", "مدنيون", "نازحين", "عالقين", "حصار", "مساعدات", "المعابر",
                     "الوضع الإنساني", "ضحايا"),
    "claim_denial": ("نفى", "نفت", "عدم صحة", "تضاربت الأنباء", "شائعات", "لا صحة", "كذّب"),
}
# Every form of the regex proclitic (?:[وف]?(?:[بلك]|ال|بال|لل|كال)?), spelled out.
PROCLITICS = tuple(a + b for a, b in product(("", "و", "ف"), ("", "ب", "ل", "ك", "ال", "بال", "لل", "كال")))


def _automaton():
    import ahocorasick

    # Each string maps to its length and the bit mask of the labels it belongs to (one
    # string may be a cue of two labels).
    masks = {}
    for bit, label in enumerate(LABELS):
        for word in CUE_WORDS[label]:
            for proclitic in PROCLITICS:
                string = proclitic + normalise(word)
                masks[string] = masks.get(string, 0) | (1 << bit)
    automaton = ahocorasick.Automaton()
    for string, mask in masks.items():
        automaton.add_word(string, (len(string), mask))
    automaton.make_automaton()
    return automaton


_AUTOMATON = _automaton()
_ALL = (1 << len(LABELS)) - 1


def _is_word_char(char):
    # The re module's \w for str patterns: alphanumeric (str.isalnum) or underscore.
    return char.isalnum() or char == "_"


def cue_mask(folded):
    """Bit mask of the labels (bit i for ``LABELS[i]``) whose cues begin a word of normalised text."""
    mask = 0
    for end, (length, labels) in _AUTOMATON.iter(folded):
        start = end - length + 1
        if labels & ~mask and (start == 0 or not _is_word_char(folded[start - 1])):
            mask |= labels
            if mask == _ALL:
                break
    return mask


def cue_labels(text):
    """The labels whose cue words begin a word of ``text`` (after normalisation), in label order."""
    mask = cue_mask(normalise(text))
    return [label for bit, label in enumerate(LABELS) if mask >> bit & 1]


def cue_matrix(texts):
    """An (n, len(LABELS)) float32 0/1 matrix: row i marks the labels cued in ``texts[i]``.

    Parameters
    ----------
    texts : iterable of str
        Normalised already (unlike :func:`cue_labels`, this does not normalise).

    Returns
    -------
    ndarray
    """
    masks = np.fromiter((cue_mask(t) for t in texts), dtype=np.int64)
    return ((masks[:, None] >> np.arange(len(LABELS))) & 1).astype(np.float32)


class CueFeatures(TransformerMixin, BaseEstimator):
    """One feature per label: whether its codebook cue words occur, times ``weight``.

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
    """

    def __init__(self, weight=1.0, renormalise=True):
        self.weight = weight
        self.renormalise = renormalise

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        texts = (normalise(str(t)) if self.renormalise else str(t) for t in X)
        return sp.csr_matrix(cue_matrix(texts) * np.float32(self.weight))

    def get_feature_names_out(self, input_features=None):
        return np.array([f"cue_{label}" for label in LABELS], dtype=object)

    def __setstate__(self, state):
        # Models saved before ``renormalise`` existed always normalised again.
        super().__setstate__({"renormalise": True, **state})
