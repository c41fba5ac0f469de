"""The codebook's cue words, as a keyword-rule classifier (the baseline to beat).

The same cues stratify ``data sample --strategy stratified``: they choose what a
person reads, never what label it gets.
"""

import re

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin

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
# A cue must start a word, after at most a proclitic (wa-, fa-, bi-, li-, ka-, al-), so that
# "نفي" (denial) does not fire inside "تنفيذ" (execution); suffixes are free.
_PROCLITIC = "(?:[وف]?(?:[بلك]|ال|بال|لل|كال)?)"
_CUE_PATTERNS = {label: re.compile(r"(?<!\w)" + _PROCLITIC + "(?:" + "|".join(re.escape(normalise(w)) for w in words) + ")")
                 for label, words in CUE_WORDS.items()}


def cue_labels(text):
    """The labels whose cue words begin a word of ``text`` (after normalisation), in label order."""
    folded = normalise(text)
    return [label for label in LABELS if _CUE_PATTERNS[label].search(folded)]


class KeywordRules(ClassifierMixin, BaseEstimator):
    """Predict a label wherever one of its codebook cue words occurs; learns nothing."""

    def fit(self, X, y=None):
        self.classes_ = np.arange(len(LABELS))
        return self

    def predict_proba(self, X):
        return np.array([[float(label in cue_labels(t)) for label in LABELS] for t in X])

    def predict(self, X):
        return self.predict_proba(X).astype(int)


class CueFeatures(TransformerMixin, BaseEstimator):
    """One feature per label: whether its codebook cue words occur, times ``weight``.

    An optional block of the feature union: the linear model learns how much each cue
    counts, instead of the rules' all-or-nothing.

    Parameters
    ----------
    weight : float
        Scale of the indicators against the unit-norm TF-IDF rows.
    """

    def __init__(self, weight=1.0):
        self.weight = weight

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        rows = [[float(label in cue_labels(t)) for label in LABELS] for t in X]
        return sp.csr_matrix(np.array(rows, dtype=np.float32).reshape(-1, len(LABELS)) * self.weight)

    def get_feature_names_out(self, input_features=None):
        return np.array([f"cue_{label}" for label in LABELS], dtype=object)
