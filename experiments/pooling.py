"""Sentence pooling (:mod:`classify.pooling`) as an estimator the experiments runner can cross-validate."""

import skops.io as sio
from sklearn.base import BaseEstimator, ClassifierMixin, clone

from classify.model import SKOPS_COMPRESSION
from classify.pooling import pipeline_proba


class SentencePooled(ClassifierMixin, BaseEstimator):
    """``(p(paragraph) + max over sentences p(sentence)) / 2`` per label, for any fitted pipeline."""

    def __init__(self, pipeline):
        self.pipeline = pipeline

    def fit(self, X, Y):
        self.pipeline_ = clone(self.pipeline).fit(X, Y)
        return self

    def predict_proba(self, X):
        return pipeline_proba(self.pipeline_, list(X))

    def model_bytes(self):
        # The runner asks the size of what would be saved: the inner pipeline is all there is.
        return len(sio.dumps(self.pipeline_, **SKOPS_COMPRESSION))
