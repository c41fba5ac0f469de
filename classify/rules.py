"""The codebook's cue words, as a keyword-rule classifier (the baseline to beat).

The same cues stratify ``data sample --strategy stratified``: they choose what a
person reads, never what label it gets. The matching itself lives in
:mod:`classify.features.cues`; its names are re-exported here.
"""

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from classify.features.cues import CUE_WORDS, LABELS, CueFeatures, cue_labels, cue_matrix
from classify.normalise import normalise

__all__ = ["CUE_WORDS", "LABELS", "CueFeatures", "KeywordRules", "cue_labels"]


class KeywordRules(ClassifierMixin, BaseEstimator):
    """Predict a label wherever one of its codebook cue words occurs; learns nothing."""

    def fit(self, X, y=None):
        self.classes_ = np.arange(len(LABELS))
        return self

    def predict_proba(self, X):
        return cue_matrix(normalise(str(t)) for t in X).astype(float).reshape(-1, len(LABELS))

    def predict(self, X):
        return self.predict_proba(X).astype(int)
