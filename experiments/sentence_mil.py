"""Sentence pooling with the sentences in training too: multi-instance rows per label (issue 8).

The pooled model (:class:`experiments.pooling.SentencePooled`) scores sentences at prediction
but learns from paragraphs only. Here each label's logistic regression also learns from the
sentences of the multi-sentence training paragraphs, as extra rows whose label follows from
the paragraph's under the codebook:

- a sentence of a paragraph without label y is a negative for y (a paragraph that does not
  report y has no sentence that does);
- a sentence of a paragraph with label y is of unknown label for y. ``variant="negatives"``
  leaves it out of y's rows; ``variant="best_positive"`` (one mi-SVM step, Andrews et al.
  2002) fits the negatives variant first, then adds each positive paragraph's best-scoring
  sentence as a positive and refits once.

Extra rows weigh ``weight`` (paragraphs 1). Since each label has its own rows, each label has
its own ``LogisticRegression``, a clone of the pipeline's one-vs-rest estimator (same
hyperparameters). The feature blocks are fitted on the paragraphs only: the same vocabulary,
IDF and scalings as the pooled model (sentences are pieces of the paragraphs, so fitting on both
would count their n-grams twice in the document frequencies), which leaves the training rows
as the one difference, and lets the runner's feature cache serve every grid point. Prediction
is the pooled model's: the mean of the paragraph's probability and its best sentence's.
"""

import numpy as np
import scipy.sparse as sp
import skops.io as sio
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import LabelBinarizer

from classify.model import SKOPS_COMPRESSION
from classify.pooling import pipeline_proba
from classify.sentences import is_one_sentence, split_sentences

VARIANTS = ("negatives", "best_positive")


def paragraph_sentences(normalised):
    """The sentences of the paragraphs of several sentences, and the paragraph each comes from.

    A paragraph of one sentence adds nothing: its sentence is (nearly) the paragraph itself.

    Parameters
    ----------
    normalised : list of str
        Normalised paragraphs.

    Returns
    -------
    sentences : list of str
    owners : ndarray of int, the index in ``normalised`` of each sentence's paragraph
    """
    sentences, owners = [], []
    for i, text in enumerate(normalised):
        if is_one_sentence(text):
            continue
        parts = split_sentences(text)
        if len(parts) > 1:
            sentences += parts
            owners += [i] * len(parts)
    return sentences, np.asarray(owners, dtype=int)


def sentence_rows(y, owners, best=None):
    """The sentence rows of one label: which sentences, and their targets.

    Parameters
    ----------
    y : ndarray of shape (n_paragraphs,)
        The label's 0/1 column.
    owners : ndarray of int
        Each sentence's paragraph (see :func:`paragraph_sentences`).
    best : ndarray of int, optional
        Sentences to add as positives (one per positive paragraph, from a first fit).

    Returns
    -------
    index : ndarray of int, into the sentences
    target : ndarray of int
    """
    negatives = np.flatnonzero(y[owners] == 0)  # a sentence of a paragraph without the label
    best = np.asarray([] if best is None else best, dtype=int)
    return np.r_[negatives, best], np.r_[np.zeros(len(negatives), int), np.ones(len(best), int)]


def _best_sentences(proba, owners, positive):
    # The best-scoring sentence of each positive paragraph that has several.
    order = np.lexsort((-proba, owners))  # by paragraph, best first
    first = order[np.r_[True, owners[order][1:] != owners[order][:-1]]]
    return first[positive[owners[first]]]


class SentenceMIL(ClassifierMixin, BaseEstimator):
    """Sentence pooling whose per-label models also learn from the training paragraphs' sentences.

    Parameters
    ----------
    pipeline : sklearn.pipeline.Pipeline
        normalise -> features -> ``OneVsRestClassifier`` (see :func:`classify.pipeline.make_pipeline`).
    variant : {"negatives", "best_positive"}
    weight : float
        Sample weight of a sentence row (a paragraph row weighs 1).

    Attributes
    ----------
    pipeline_ : sklearn.pipeline.Pipeline
        The fitted plain pipeline (its one-vs-rest step holds the per-label models).
    rows_ : list of (ndarray, ndarray)
        Each label's sentence rows: indices into ``sentences_`` and targets.
    sentences_ : list of str
        The normalised sentences of the multi-sentence training paragraphs.
    owners_ : ndarray of int
        Each sentence's training paragraph.
    """

    def __init__(self, pipeline, variant="negatives", weight=1.0):
        self.pipeline = pipeline
        self.variant = variant
        self.weight = weight

    def fit(self, X, Y):
        if self.variant not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}, got {self.variant!r}")
        X, Y = list(X), np.asarray(Y)
        steps = self.pipeline.steps
        # The transformers as the pipeline's memory caches them: the pooled model's features, fitted on paragraphs.
        transform = Pipeline([*[(name, clone(step)) for name, step in steps[:-1]], ("clf", "passthrough")],
                             memory=self.pipeline.memory)
        paragraphs = transform.fit_transform(X, Y)
        self.sentences_, self.owners_ = paragraph_sentences(transform["normalise"].transform(X))
        # The sentences are normalised already (normalising is idempotent): straight to the features.
        sentences = transform["features"].transform(self.sentences_) if self.sentences_ else None
        clf = clone(steps[-1][1])
        base = clf.estimator
        estimators, self.rows_ = [], []
        for j in range(Y.shape[1]):
            rows = sentence_rows(Y[:, j], self.owners_)
            model = self._fit_label(base, paragraphs, Y[:, j], sentences, rows)
            if self.variant == "best_positive" and len(self.owners_):
                best = _best_sentences(model.predict_proba(sentences)[:, 1], self.owners_, Y[:, j] == 1)
                rows = sentence_rows(Y[:, j], self.owners_, best)
                model = self._fit_label(base, paragraphs, Y[:, j], sentences, rows)
            estimators.append(model)
            self.rows_.append(rows)
        # A one-vs-rest step fitted by hand, so that the fitted model is the package's plain pipeline.
        clf.label_binarizer_ = LabelBinarizer(sparse_output=True).fit(Y)
        clf.classes_ = clf.label_binarizer_.classes_
        clf.estimators_ = estimators
        clf.n_features_in_ = paragraphs.shape[1]
        self.pipeline_ = Pipeline([*transform.steps[:-1], ("clf", clf)])
        return self

    def _fit_label(self, base, paragraphs, y, sentences, rows):
        index, target = rows
        features = sp.vstack([paragraphs, sentences[index]]).tocsr() if len(index) else paragraphs
        weights = np.r_[np.ones(len(y)), np.full(len(index), float(self.weight))]
        return clone(base).fit(features, np.r_[y, target], sample_weight=weights)

    def predict_proba(self, X):
        return pipeline_proba(self.pipeline_, list(X))

    def model_bytes(self):
        # As for the pooled model: the inner pipeline is what would be saved.
        return len(sio.dumps(self.pipeline_, **SKOPS_COMPRESSION))
