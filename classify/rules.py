"""A scheme's cue words, as a keyword-rule classifier (the baseline to beat).

The labels and cues are a scheme's (:mod:`classify.scheme`), the codebook's by default.
The same cues stratify ``data sample --strategy stratified``: they choose what a
person reads, never what label it gets. The matching itself lives in
:mod:`classify.features.cues`; its names are re-exported here.
"""

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from classify.features.cues import CUE_WORDS, LABELS, CueFeatures, cue_labels, cue_matrix, matcher
from classify.normalise import normalise

__all__ = ["CUE_WORDS", "LABELS", "CueFeatures", "KeywordRules", "cue_labels"]


class KeywordRules(ClassifierMixin, BaseEstimator):
    """Predict a label wherever one of its cue words occurs; learns nothing.

    Parameters
    ----------
    cues : dict of str to sequence of str, optional
        Each label's cue words, in column order (a scheme's ``cues``); ``None``, the codebook's.
    """

    def __init__(self, cues=None):
        self.cues = cues

    def fit(self, X, y=None):
        self.classes_ = np.arange(len(matcher(self.cues).labels))
        return self

    def predict_proba(self, X):
        n_labels = len(matcher(self.cues).labels)
        return cue_matrix((normalise(str(t)) for t in X), self.cues).astype(float).reshape(-1, n_labels)

    def predict(self, X):
        return self.predict_proba(X).astype(int)

    def __setstate__(self, state):
        # Models saved before schemes matched the codebook's cue words.
        super().__setstate__({"cues": None, **state})
