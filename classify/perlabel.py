"""One-vs-rest logistic regression with each label's C chosen by inner grouped cross-validation.

The default model uses one C for all labels, though a label with few, varied positives
(withdrawal) may want more regularisation than one with many, stereotyped ones (shelling).
:class:`PerLabelC` fits the pipeline's feature blocks once on the fitting data, scores each
C of a small grid per label by an inner grouped k-fold on those features, and refits each
label with its best C. The result, :attr:`PerLabelC.pipeline_`, is a plain fitted pipeline
(normalise -> features -> one-vs-rest logistic regression) whose per-label estimators differ
only in C: it saves and exports to the runtime (:mod:`classify.runtime`) like the default.

As in :mod:`classify.stacking`, the feature blocks see the inner held-out part (their
vocabularies and IDF weights; no labels), which is cheap and barely flatters the inner scores.
"""

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.metrics import average_precision_score
from sklearn.model_selection import GroupKFold, KFold
from sklearn.pipeline import Pipeline

SCORINGS = ("average_precision", "f1")


def _score(y, proba, scoring):
    from classify.model import best_threshold

    if scoring == "average_precision":
        return average_precision_score(y, proba)
    # F1 at the label's best cut-off on the pooled inner out-of-fold probabilities, as the model's thresholds are chosen.
    pred = proba >= best_threshold(y, proba)
    tp = int((pred & (y == 1)).sum())
    return 2 * tp / max(int(pred.sum()) + int(y.sum()), 1)


def select_C(estimator, X, Y, Cs, groups=None, inner_splits=3, scoring="average_precision"):
    """Each label's best C of ``Cs`` by inner k-fold cross-validation.

    Parameters
    ----------
    estimator : LogisticRegression
        The binary classifier; cloned with each C.
    X : sparse matrix or ndarray of shape (n, n_features)
    Y : ndarray of shape (n, n_labels)
    Cs : sequence of float
    groups : array-like, optional
        Rows of one group never straddle an inner fold. Without it: shuffled plain k-fold.
    inner_splits : int
    scoring : {"average_precision", "f1"}
        Scored on each label's pooled out-of-fold probabilities; ``"f1"`` at the label's
        best threshold. Ties go to the smaller C (the stronger regularisation).

    Returns
    -------
    best : ndarray of shape (n_labels,)
        The chosen C per label (``nan`` for a label with one class: nothing to choose).
    scores : ndarray of shape (len(Cs), n_labels)
    """
    if scoring not in SCORINGS:
        raise ValueError(f"scoring must be one of {', '.join(SCORINGS)}, got {scoring!r}")
    Y = np.asarray(Y)
    if groups is not None and len(set(groups)) >= inner_splits:
        splits = list(GroupKFold(n_splits=inner_splits).split(X, Y, groups))
    else:
        splits = list(KFold(n_splits=inner_splits, shuffle=True, random_state=0).split(X))
    Cs = sorted(Cs)
    scores = np.full((len(Cs), Y.shape[1]), np.nan)
    for j in range(Y.shape[1]):
        y = Y[:, j]
        # A label with one class in a fold's training part cannot be fitted there: leave it alone.
        if any(len(np.unique(y[train])) < 2 for train, _ in splits):
            continue
        for i, C in enumerate(Cs):
            proba = np.zeros(len(y))
            for train, test in splits:
                fitted = clone(estimator).set_params(C=C).fit(X[train], y[train])
                proba[test] = fitted.predict_proba(X[test])[:, 1]
            scores[i, j] = _score(y, proba, scoring)
    best = np.array([np.nan if np.isnan(s).all() else Cs[int(np.nanargmax(s))] for s in scores.T])
    return best, scores


class PerLabelC(ClassifierMixin, BaseEstimator):
    """A pipeline of :func:`classify.pipeline.make_pipeline` refitted with a C per label.

    Parameters
    ----------
    pipeline : sklearn.pipeline.Pipeline
        Its ``clf`` step is a ``OneVsRestClassifier`` of ``LogisticRegression``; its C is the
        C of a label whose C cannot be chosen (one class in an inner fold).
    Cs : sequence of float
        The candidates, for every label.
    inner_splits : int
    scoring : {"average_precision", "f1"}
        See :func:`select_C`.

    Attributes
    ----------
    pipeline_ : sklearn.pipeline.Pipeline
        The fitted plain pipeline; ``pipeline_["clf"].estimators_[j].C`` is label j's C.
    C_ : ndarray of shape (n_labels,)
    scores_ : ndarray of shape (len(Cs), n_labels)
        The inner cross-validation score of each C (sorted ascending) and label.
    """

    def __init__(self, pipeline, Cs=(3.0, 10.0, 30.0, 100.0), inner_splits=3, scoring="average_precision"):
        self.pipeline = pipeline
        self.Cs = Cs
        self.inner_splits = inner_splits
        self.scoring = scoring

    def fit(self, X, Y, groups=None):
        """Fit the features, choose each label's C, fit the labels.

        Parameters
        ----------
        X : list of str
        Y : ndarray of shape (n, n_labels)
        groups : array-like, optional
            Article, claim or day of each text, for the inner grouped folds.
        """
        Y = np.asarray(Y)
        steps = self.pipeline.steps
        # The transformers as the pipeline's own memory caches them: the same features as the default model's fit.
        transform = Pipeline([*[(name, clone(step)) for name, step in steps[:-1]], ("clf", "passthrough")],
                             memory=self.pipeline.memory)
        features = transform.fit_transform(list(X), Y)
        clf = clone(steps[-1][1]).fit(features, Y)
        self.C_, self.scores_ = select_C(clf.estimator, features, Y, self.Cs, groups, self.inner_splits, self.scoring)
        base_C = clf.estimator.C
        for j, C in enumerate(self.C_):
            if np.isnan(C):
                self.C_[j] = base_C
            elif C != base_C:  # the one-vs-rest fit above has this label at the base C
                clf.estimators_[j] = clone(clf.estimator).set_params(C=C).fit(features, Y[:, j])
        self.pipeline_ = Pipeline([*transform.steps[:-1], ("clf", clf)])
        return self

    def predict_proba(self, X):
        return self.pipeline_.predict_proba(X)

    def predict(self, X):
        return self.pipeline_.predict(X)
