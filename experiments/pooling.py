"""Sentence pooling of model scores (multi-instance), as an experiment beside the feature blocks.

The pipeline scores the paragraph and each of its sentences; a label's score is the mean
of the paragraph's probability and the largest of its sentences'. One event sentence in a
long paragraph then counts nearly as if it stood alone. It doubles the prediction work, so
it is measured here, in the ledger, before any default could take it.
"""

import numpy as np
import skops.io as sio
from sklearn.base import BaseEstimator, ClassifierMixin, clone

from classify.features.sentences import split_sentences
from classify.model import SKOPS_COMPRESSION
from classify.normalise import normalise


class SentencePooled(ClassifierMixin, BaseEstimator):
    """``(p(paragraph) + max over sentences p(sentence)) / 2`` per label, for any fitted pipeline."""

    def __init__(self, pipeline):
        self.pipeline = pipeline

    def fit(self, X, Y):
        self.pipeline_ = clone(self.pipeline).fit(X, Y)
        return self

    def predict_proba(self, X):
        X = list(X)
        paragraph = self.pipeline_.predict_proba(X)
        sentences, owners = [], []
        for i, text in enumerate(X):
            parts = split_sentences(normalise(text))
            sentences += parts
            owners += [i] * len(parts)
        scores = self.pipeline_.predict_proba(sentences)
        best = np.zeros_like(paragraph)
        np.maximum.at(best, np.asarray(owners), scores)
        return (paragraph + best) / 2

    def model_bytes(self):
        # The runner asks the size of what would be saved: the inner pipeline is all there is.
        return len(sio.dumps(self.pipeline_, **SKOPS_COMPRESSION))
