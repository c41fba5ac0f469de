"""A trained model: the pipeline and its per-label thresholds, and how it is trained.

Saving and loading the model folder (``model.skops``, ``runtime.npz`` and ``model.json``) is in
:mod:`classify.store`; :func:`save_model` and :func:`load_model` are importable from here too.
scikit-learn and pandas are imported where they are used: a loaded model predicts through its
runtime (:mod:`classify.runtime`) without them.
"""

import warnings

import numpy as np

from classify.calibration import DEFAULT_CALIBRATION, apply_calibrator
from classify.errors import ClassifyError
from classify.pooling import DEFAULT_POOLING, check_pooling, pipeline_proba
from classify.scheme import default_scheme, scheme_from_card

LABELS = default_scheme().labels
THRESHOLD_GRID = np.round(np.arange(0.05, 0.96, 0.025), 3)
# Paragraphs scored per pipeline call: memory stays flat however many texts come in
# (a sparse row of character n-grams holds about a thousand entries).
PREDICT_BATCH = 2048


def binarize(label_lists, labels=LABELS):
    """Label lists -> an (n, len(labels)) 0/1 matrix."""
    return np.array([[int(label in ls) for label in labels] for ls in label_lists], dtype=int).reshape(-1, len(labels))


def best_threshold(y_true, scores, grid=THRESHOLD_GRID):
    """The cut-off of ``grid`` that maximises F1 on ``y_true``; ties go to the one nearest 0.5."""
    from sklearn.metrics import f1_score

    if y_true.sum() == 0:
        return 0.5
    f1s = [f1_score(y_true, scores >= t, zero_division=0) for t in grid]
    best = max(f1s)
    return float(min((t for t, f in zip(grid, f1s) if f == best), key=lambda t: abs(t - 0.5)))


def quietly(func, *args, **kwargs):
    """Call ``func`` with the warnings that small folds raise by design silenced."""
    from sklearn.exceptions import ConvergenceWarning

    # A label absent from a fold's training part, or a slow solver, is expected on small data.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning, module="sklearn.multiclass")
        warnings.filterwarnings("ignore", category=ConvergenceWarning)
        return func(*args, **kwargs)


def out_of_fold_proba(pipeline, texts, Y, groups, n_splits=5, n_jobs=None, pooling="none"):
    """Out-of-fold probabilities of a pipeline by grouped k-fold cross-validation.

    Parameters
    ----------
    pipeline : sklearn.pipeline.Pipeline
    texts : list of str
    Y : ndarray of shape (n, n_labels)
    groups : array-like
        Rows of one group (article, claim or day) never straddle a fold.
    n_splits : int
    n_jobs : int, optional
        Folds run in parallel through joblib (any backend set by the caller).
    pooling : {"none", "sentence"}
        Score as the model will: see :func:`classify.pooling.pooled_proba`.

    Returns
    -------
    proba : ndarray of shape (n, n_labels)
    folds : ndarray of shape (n,)
        The fold each row was predicted in.
    """
    from joblib import Parallel, delayed
    from sklearn.base import clone
    from sklearn.model_selection import GroupKFold

    n_groups = len(set(groups))
    if n_groups < 2:
        raise ClassifyError("cross-validation needs paragraphs from at least two articles")
    splits = list(GroupKFold(n_splits=min(n_splits, n_groups)).split(texts, Y, groups))
    texts = np.asarray(texts, dtype=object)

    def run(train, test):
        fitted = quietly(clone(pipeline).fit, list(texts[train]), Y[train])
        return test, pipeline_proba(fitted, list(texts[test]), pooling)

    proba, folds = np.zeros(Y.shape, dtype=float), np.zeros(len(texts), dtype=int)
    for k, (test, p) in enumerate(Parallel(n_jobs=n_jobs)(delayed(run)(tr, te) for tr, te in splits)):
        proba[test], folds[test] = p, k
    return proba, folds


def choose_thresholds(Y, proba, mode="cv", calibrator=None, labels=LABELS):
    """Per-label thresholds: F1-best on ``proba`` (``mode="cv"``) or one number for all.

    With a ``calibrator`` (see :mod:`classify.calibration`), ``proba`` are calibrated scores
    and each label's candidate cut-offs are :data:`THRESHOLD_GRID` carried through its
    calibrator: the same candidate decisions as without calibration, expressed as
    calibrated probabilities (a grid of round numbers on the calibrated scale would
    offer other decisions, and measured 0.004 lower CV macro-F1; see README).
    """
    if mode != "cv":
        return np.full(Y.shape[1], float(mode))
    if calibrator:
        grid = np.repeat(THRESHOLD_GRID[:, None], Y.shape[1], axis=1)
        grids = np.clip(apply_calibrator(calibrator, grid, labels), 1e-6, 1 - 1e-6).T
    else:
        grids = [THRESHOLD_GRID] * Y.shape[1]
    return np.array([best_threshold(Y[:, j], proba[:, j], grids[j]) for j in range(Y.shape[1])])


def fold_scores(Y, proba, folds, mode="cv", calibration=None, labels=LABELS):
    """Metrics of each fold's out-of-fold predictions, its thresholds chosen on the other folds.

    So the reported cross-validation score never saw the labels it is scored on, not even
    through the thresholds. With ``calibration`` ("sigmoid" or "isotonic"), the calibrator too
    is fitted on the other folds, and the thresholds are chosen on calibrated scores.
    """
    from classify.calibration import fit_calibrator
    from classify.evaluate import metrics

    scores = []
    for k in np.unique(folds):
        inside = folds == k
        calibrator = fit_calibrator(calibration, proba[~inside], Y[~inside], labels)
        P = apply_calibrator(calibrator, proba, labels)
        cuts = choose_thresholds(Y[~inside], P[~inside], mode, calibrator, labels)
        scores.append(metrics(Y[inside], (P[inside] >= cuts).astype(int), labels))
    return scores


class Model:
    """A fitted pipeline with per-label thresholds, and the label scheme it was trained with.

    Use :func:`train` to make one and :func:`load_model` to read one from disk.

    Parameters
    ----------
    pipeline : sklearn.pipeline.Pipeline or None
        ``None`` with ``load_pipeline``: loaded by it when first needed.
    thresholds : dict of str to float
        One per label, in the scheme's label order.
    meta : dict, optional
        The model card's fields.
    scheme : classify.scheme.Scheme, optional
        Default: the one ``meta["scheme"]`` records, else the codebook's.
    runtime : classify.runtime.Runtime, optional
        The pipeline's arrays: when given, :meth:`predict` and :meth:`predict_proba` use it
        and never import scikit-learn.
    load_pipeline : callable, optional
        Returns the pipeline; called once, on first use of :attr:`pipeline` (explanations,
        reports, saving, ...).
    """

    def __init__(self, pipeline, thresholds, meta=None, scheme=None, runtime=None, load_pipeline=None):
        if pipeline is None and load_pipeline is None:
            raise ValueError("a model needs a pipeline or a way to load one")
        self._pipeline, self._load_pipeline = pipeline, load_pipeline
        self.runtime = runtime
        self.labels = tuple(thresholds)
        self.thresholds = dict(thresholds)
        self.meta = dict(meta or {})
        if scheme is None:
            scheme = scheme_from_card(self.meta.get("scheme"), "the model's meta")
        self.scheme = scheme

    @property
    def pipeline(self):
        """The fitted scikit-learn pipeline (loaded on first use for a model read from disk)."""
        if self._pipeline is None:
            self._pipeline = self._load_pipeline()
        return self._pipeline

    @pipeline.setter
    def pipeline(self, pipeline):
        self._pipeline, self.runtime = pipeline, None  # the runtime was the old pipeline's

    def predict_proba(self, texts):
        """Probability of every label for each text.

        Parameters
        ----------
        texts : sequence of str
            A list (or other sequence) of texts, even for one text: ``[text]``. ``None``
            counts as an empty text.

        Returns
        -------
        pandas.DataFrame
            One row per text, one column per label: the pipeline's probabilities, through
            the model's calibrator if it has one (``meta["calibration"]``).

        Raises
        ------
        TypeError
            If ``texts`` is a single string (or bytes): iterating it would label each
            character as a text of its own.
        """
        import pandas as pd

        return pd.DataFrame(self._proba(texts), columns=list(self.labels))

    @property
    def pooling(self):
        """``"sentence"`` if a label's score also takes the text's best sentence's (:mod:`classify.pooling`), else ``"none"``."""
        return self.meta.get("pooling", "none")

    def _proba(self, texts):
        """:meth:`predict_proba` as an (n, n_labels) array."""
        if isinstance(texts, (str, bytes)):
            raise TypeError(f"texts must be a list of strings, got a single {type(texts).__name__}: "
                            "pass [text] to label one text")
        texts = ["" if t is None else str(t) for t in texts]
        if not texts:
            return np.zeros((0, len(self.labels)))
        parts = [self._batch_proba(texts[i:i + PREDICT_BATCH]) for i in range(0, len(texts), PREDICT_BATCH)]
        return apply_calibrator(self.meta.get("calibration"), np.vstack(parts), self.labels)

    def _batch_proba(self, texts):
        if self.runtime is None:
            return pipeline_proba(self.pipeline, texts, self.pooling)
        return self.runtime.predict_proba(texts, self.pooling)

    def predict(self, texts):
        """The labels of each text whose probability reaches its threshold, most probable first.

        Parameters
        ----------
        texts : sequence of str
            As for :meth:`predict_proba`: ``model.predict("text")`` is a ``TypeError``.

        Returns
        -------
        list of list of str
        """
        return self.labels_from_proba(self._proba(texts))

    def explain(self, text, labels=None):
        """Why the model gives (or not) each label to one text.

        Parameters
        ----------
        text : str
            One text, as given to :meth:`predict` (the original, not normalised).
        labels : str or sequence of str, optional
            The labels to explain; by default those whose score passes its threshold.

        Returns
        -------
        classify.explain.Explanation
            Per label its score, threshold, decision value and bias, the spans of ``text``
            that pushed it (each ``text[start:end]`` with its summed contribution and the
            features behind it) and the features no span produced.

        Raises
        ------
        ClassifyError
            For a label the model does not have, or a model whose classifier is not linear.
        """
        from classify.explain import explainer_of

        return explainer_of(self).explain(text, labels)

    def labels_from_proba(self, proba):
        """Apply the thresholds to a frame from :meth:`predict_proba` (or an array of its values)."""
        proba = np.asarray(proba, dtype=float).reshape(-1, len(self.labels))
        passed = proba >= np.array([self.thresholds[label] for label in self.labels])
        out = []
        for row, ok in zip(proba.tolist(), passed.tolist()):
            kept = [(-score, label) for label, score, k in zip(self.labels, row, ok) if k]
            out.append([label for _, label in sorted(kept, key=lambda pair: pair[0])])
        return out


def train(texts, label_lists, groups, classifier=None, params=None, thresholds="cv",
          n_splits=5, memory=None, n_jobs=None, scheme=None, calibration=DEFAULT_CALIBRATION,
          pooling=DEFAULT_POOLING):
    """Fit a model and choose its per-label thresholds by grouped cross-validation.

    Parameters
    ----------
    texts : list of str
        Training paragraphs.
    label_lists : list of list of str
        Their labels.
    groups : list of str
        Article, claim or day of each paragraph, for grouped folds.
    classifier : str, optional
        See :data:`classify.pipeline.CLASSIFIERS`; default :data:`classify.pipeline.DEFAULT_CLASSIFIER`.
    params : dict, optional
        ``step__param`` settings for :func:`classify.pipeline.make_pipeline`.
    thresholds : "cv" or float
        ``"cv"`` picks each label's F1-best threshold on out-of-fold probabilities;
        a number uses that one threshold for every label.
    n_splits : int
    memory : joblib.Memory or str, optional
    n_jobs : int, optional
    scheme : classify.scheme.Scheme, optional
        The label set (column order) and the cue words of the cue block; default the
        codebook's. Every label in ``label_lists`` must be one of its labels.
    calibration : {"sigmoid", "isotonic", "none"}
        Map each label's score to a calibrated probability, by a calibrator fitted on the
        out-of-fold scores (see :mod:`classify.calibration`); the thresholds are then chosen
        on calibrated scores. ``"none"`` keeps the classifier's own scores.
    pooling : {"none", "sentence"}
        ``"sentence"``: each label's score is the mean of the paragraph's probability and its
        best sentence's (:mod:`classify.pooling`), in cross-validation as in prediction.

    Returns
    -------
    Model
        With ``meta["cv"]`` holding the cross-validated metrics (mean over folds; see
        :func:`fold_scores`), ``meta["scheme"]`` the scheme, ``meta["calibration"]`` the calibrator
        (or ``None``) and ``meta["oof_reliability"]`` the reliability of the out-of-fold scores as the
        model gives them (calibrated by a calibrator fitted on the other folds).
    """
    from classify.calibration import cross_calibrated, fit_calibrator, summary
    from classify.pipeline import DEFAULT_CLASSIFIER, make_pipeline

    classifier = classifier or DEFAULT_CLASSIFIER
    check_pooling(pooling)
    scheme = scheme or default_scheme()
    labels = scheme.labels
    texts, label_lists = list(texts), list(label_lists)
    if not texts:
        raise ClassifyError("no training paragraphs")
    unknown = sorted({label for ls in label_lists for label in ls} - set(labels))
    if unknown:
        raise ClassifyError(f"label {unknown[0]!r} is not in scheme {scheme.name!r} "
                            f"(its labels: {', '.join(labels)})")
    Y = binarize(label_lists, labels)
    missing = [label for label, n in zip(labels, Y.sum(axis=0)) if n == 0]
    if missing:
        raise ClassifyError(f"no training paragraph has the label(s) {', '.join(missing)}")
    pipeline = make_pipeline(classifier, params, memory=memory, scheme=scheme)
    proba, folds = out_of_fold_proba(pipeline, texts, Y, groups, n_splits=n_splits, n_jobs=n_jobs, pooling=pooling)
    calibrator = fit_calibrator(calibration, proba, Y, labels)
    calibrated = apply_calibrator(calibrator, proba, labels)
    cuts = dict(zip(labels, choose_thresholds(Y, calibrated, thresholds, calibrator, labels).tolist()))
    scores = fold_scores(Y, proba, folds, thresholds, calibration, labels)
    cv = {"folds": len(scores), "micro_f1": float(np.mean([m["micro_f1"] for m in scores])),
          "macro_f1": float(np.mean([m["macro_f1"] for m in scores])),
          "macro_f1_std": float(np.std([m["macro_f1"] for m in scores])),
          "per_label_f1": {label: float(np.mean([m["per_label"][label]["f1"] for m in scores])) for label in labels}}
    fitted = quietly(pipeline.fit, texts, Y)
    fitted.set_params(memory=None)
    meta = {"classifier": classifier, "params": {k: v if not isinstance(v, tuple) else list(v)
                                                 for k, v in (params or {}).items()},
            "thresholds_by": thresholds, "pooling": pooling, "cv": cv, "n_train": len(texts), "scheme": scheme.card(),
            "calibration": calibrator,
            "oof_reliability": summary(Y, cross_calibrated(Y, proba, folds, calibration, labels), labels)}
    return Model(fitted, cuts, meta, scheme=scheme)


# Saving and loading live in classify.store; these names stay importable from here.
from classify.store import (META_FILE, PIPELINE_FILE, SKOPS_COMPRESSION, TRUSTED_TYPES,  # noqa: E402
                            load_model, save_model)
