"""Stacking of per-block linear models: one logistic regression per feature block, combined per label.

The default pipeline fits one logistic regression on the union of its feature blocks
(character n-grams, structure, clusters). :class:`StackedBlocks` fits one one-vs-rest
logistic regression per block instead (and, with ``union=True``, the plain union's as
well), and for each label a small logistic regression (the meta-model) weighs the
models' scores for that label. The meta-model learns from out-of-fold scores: an inner
(grouped, when groups are given) k-fold on the training data, so it never weighs a
block by how well it fits paragraphs it was trained on.

The feature blocks are fitted once on the whole training data, not again in every inner
fold: their vocabularies and IDF weights see the inner held-out part (no labels are
involved), which is cheap and makes the inner scores barely optimistic.

Everything is linear, so a prediction costs the features (as the default) plus a few
sparse dot products.
"""

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, KFold


def _blocks(union):
    """The (name, transformer) pairs of a FeatureUnion that are switched on."""
    if getattr(union, "transformer_weights", None):
        raise ValueError("StackedBlocks does not support FeatureUnion transformer_weights")
    return [(name, t) for name, t in union.transformer_list if t is not None and t != "drop"]


class StackedBlocks(ClassifierMixin, BaseEstimator):
    """Per-block one-vs-rest classifiers whose scores a per-label logistic regression combines.

    Parameters
    ----------
    pipeline : sklearn.pipeline.Pipeline
        A pipeline of :func:`classify.pipeline.make_pipeline`: its ``normalise`` step, the
        blocks of its ``features`` union and its ``clf`` (cloned per block) are used.
    inner_splits : int
        Folds of the inner cross-validation that gives the meta-model its training scores.
    union : bool
        Also stack the plain union's classifier (all blocks in one model).
    cross_label : bool
        The meta-model of a label sees every label's scores, not only its own.
    meta_C : float
        Inverse regularisation strength of the meta-models.

    Attributes
    ----------
    normalise_ : transformer
    blocks_ : list of (str, transformer)
        The fitted feature blocks.
    base_ : list of OneVsRestClassifier
        One per block, then the union's if ``union``.
    meta_ : list of LogisticRegression or float
        One per label; a label with one class in the training data gets its constant rate.
    """

    def __init__(self, pipeline, inner_splits=5, union=True, cross_label=False, meta_C=1.0):
        self.pipeline = pipeline
        self.inner_splits = inner_splits
        self.union = union
        self.cross_label = cross_label
        self.meta_C = meta_C

    def _matrices(self, texts, fit=False):
        if fit:
            mats = [t.fit_transform(texts) for _, t in self.blocks_]
        else:
            mats = [t.transform(texts) for _, t in self.blocks_]
        mats = [sp.csr_matrix(m) for m in mats]
        if self.union:
            mats.append(sp.hstack(mats, format="csr"))
        return mats

    @staticmethod
    def _scores(classifier, X):
        scores = classifier.decision_function(X)
        return scores.reshape(X.shape[0], -1)

    def _meta_input(self, Z, j):
        # Z: (n, n_models, n_labels) -> the meta-model's columns for label j.
        return Z.reshape(len(Z), -1) if self.cross_label else Z[:, :, j]

    def fit(self, X, Y, groups=None):
        """Fit the blocks, the base classifiers and the meta-models.

        Parameters
        ----------
        X : list of str
        Y : ndarray of shape (n, n_labels)
        groups : array-like, optional
            Article, claim or day of each text: the inner folds keep a group together.
            Without it the inner folds are shuffled plain k-fold.
        """
        Y = np.asarray(Y)
        steps = self.pipeline.named_steps
        self.normalise_ = clone(steps["normalise"])
        texts = self.normalise_.fit_transform(list(X))
        self.blocks_ = [(name, clone(t)) for name, t in _blocks(steps["features"])]
        mats = self._matrices(texts, fit=True)
        template = steps["clf"]
        n = len(texts)
        if groups is not None and len(set(groups)) >= self.inner_splits:
            splits = GroupKFold(n_splits=self.inner_splits).split(texts, Y, groups)
        else:
            splits = KFold(n_splits=min(self.inner_splits, n), shuffle=True, random_state=0).split(texts)
        Z = np.zeros((n, len(mats), Y.shape[1]))
        for train, test in splits:
            for m, M in enumerate(mats):
                Z[test, m, :] = self._scores(clone(template).fit(M[train], Y[train]), M[test])
        self.meta_ = []
        for j in range(Y.shape[1]):
            if len(np.unique(Y[:, j])) < 2:
                self.meta_.append(float(Y[0, j]) if n else 0.0)
                continue
            meta = LogisticRegression(C=self.meta_C, max_iter=1000, solver="lbfgs")
            self.meta_.append(meta.fit(self._meta_input(Z, j), Y[:, j]))
        self.base_ = [clone(template).fit(M, Y) for M in mats]
        self.n_labels_ = Y.shape[1]
        return self

    def predict_proba(self, X):
        texts = self.normalise_.transform(list(X))
        mats = self._matrices(texts)
        Z = np.stack([self._scores(b, M) for b, M in zip(self.base_, mats)], axis=1)
        out = np.empty((len(texts), self.n_labels_))
        for j, meta in enumerate(self.meta_):
            out[:, j] = meta if isinstance(meta, float) else meta.predict_proba(self._meta_input(Z, j))[:, 1]
        return out

    def predict(self, X):
        return (self.predict_proba(X) >= 0.5).astype(int)

    def meta_weights(self, names=None):
        """Each label's meta-model coefficients by model (block names, then ``union``)."""
        models = [name for name, _ in self.blocks_] + (["union"] if self.union else [])
        out = {}
        for j, meta in enumerate(self.meta_):
            key = names[j] if names else j
            if isinstance(meta, float):
                out[key] = {}
            elif self.cross_label:
                coef = meta.coef_.reshape(len(models), -1)
                out[key] = {m: float(coef[i, j]) for i, m in enumerate(models)}
            else:
                out[key] = dict(zip(models, map(float, meta.coef_.ravel())))
        return out
