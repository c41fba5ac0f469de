"""The model as one scikit-learn ``Pipeline``: normalise -> features -> one-vs-rest.

Every choice is a plain ``step__param`` parameter, so a configuration or an
experiment grid is a dict such as ``{"features__char__ngram_range": (2, 5)}``.
"""

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import FeatureUnion, Pipeline

from classify.errors import ClassifyError
from classify.features.char import CharTfidf
from classify.features.clusters import ClusterWords
from classify.features.cues import CueFeatures
from classify.features.sentences import SentenceMaxTfidf
from classify.features.stems import StemWords
from classify.features.structure import StructureFeatures
from classify.normaliser import ArabicNormaliser
from classify.rules import KeywordRules


class NBSVM(ClassifierMixin, BaseEstimator):
    """Logistic regression on naive-Bayes log-count-ratio scaled features (Wang & Manning, 2012).

    Parameters
    ----------
    alpha : float
        Additive smoothing of the per-class feature counts.
    C : float
        Inverse regularisation strength of the logistic regression.
    """

    def __init__(self, alpha=1.0, C=4.0):
        self.alpha = alpha
        self.C = C

    def fit(self, X, y):
        y = np.asarray(y)
        binary = (X > 0).astype(np.float64)
        p = self.alpha + np.asarray(binary[y == 1].sum(axis=0)).ravel()
        q = self.alpha + np.asarray(binary[y != 1].sum(axis=0)).ravel()
        self.ratio_ = np.log((p / p.sum()) / (q / q.sum()))
        self.lr_ = LogisticRegression(C=self.C, max_iter=2000, solver="liblinear", random_state=0).fit(self._scale(X), y)
        self.classes_ = self.lr_.classes_
        return self

    def _scale(self, X):
        return sp.csr_matrix(X).multiply(self.ratio_).tocsr()

    def decision_function(self, X):
        return self.lr_.decision_function(self._scale(X))

    def predict_proba(self, X):
        return self.lr_.predict_proba(self._scale(X))

    def predict(self, X):
        return self.lr_.predict(self._scale(X))


# Each classifier gives a probability per label: margins (SVM, ridge) are calibrated.
# liblinear shuffles with random_state, so it is fixed: a model is a function of its data.
# The other classifiers' modules are imported when one is built: loading a model imports only the
# modules of the estimators it holds (a cold load_model is mostly imports).
def _linearsvc():
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.svm import LinearSVC

    return CalibratedClassifierCV(LinearSVC(C=0.5, class_weight="balanced", random_state=0), cv=3)


def _sgd():
    from sklearn.linear_model import SGDClassifier

    return SGDClassifier(loss="modified_huber", alpha=1e-5, class_weight="balanced", random_state=0)


def _complementnb():
    from sklearn.naive_bayes import ComplementNB

    return ComplementNB(alpha=0.3)


def _ridge():
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.linear_model import RidgeClassifier

    return CalibratedClassifierCV(RidgeClassifier(alpha=1.0, class_weight="balanced"), cv=3)


def _prior():
    from sklearn.dummy import DummyClassifier

    return DummyClassifier(strategy="prior")


CLASSIFIERS = {
    "logreg": lambda: LogisticRegression(C=10.0, class_weight="balanced", max_iter=2000, solver="liblinear",
                                         random_state=0),
    "linearsvc": _linearsvc,
    "sgd": _sgd,
    "complementnb": _complementnb,
    "nbsvm": lambda: NBSVM(),
    "ridge": _ridge,
    "prior": _prior,
}

# The optional blocks of the feature union, each off ("drop") unless a parameter names it.
BLOCKS = {
    "word": lambda: TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, min_df=2),
    "cues": CueFeatures,
    "structure": StructureFeatures,
    "sentences": SentenceMaxTfidf,
    "stems": StemWords,
    "clusters": ClusterWords,
}

DEFAULT_PARAMS = {
    "features__char__analyzer": "char_wb",
    "features__char__ngram_range": (3, 6),
    "features__char__sublinear_tf": True,
    "features__char__min_df": 2,
    "features__char__max_features": None,
    # Chosen by CV on the v3 labels (experiments/RESULTS.md), by backward elimination from all blocks: the
    # structure block carries the cue words' information and more, so the five cue indicators (0.700 with,
    # 0.704 without) and then the sentence max-pool (0.704 with, 0.705 without) came out.
    "features__cues": "drop",
    "features__structure": "structure",
    "features__clusters": "clusters",
}
DEFAULT_CLASSIFIER = "logreg"


def _from_toml(value, key):
    # TOML has neither tuples (scikit-learn checks ngram_range with isinstance) nor null.
    if isinstance(value, list) and key.endswith("ngram_range"):
        return tuple(value)
    return None if value == "None" else value


def make_pipeline(classifier=DEFAULT_CLASSIFIER, params=None, memory=None, scheme=None):
    """Build the classification pipeline.

    Parameters
    ----------
    classifier : str
        A key of :data:`CLASSIFIERS`, or ``"rules"`` for the codebook's cue words.
    params : dict, optional
        ``step__param`` settings applied over :data:`DEFAULT_PARAMS`; for example
        ``{"features__word": "word"}`` adds word uni- and bigrams to the character n-grams,
        ``{"features__cues": "cues"}`` the codebook's cue-word indicators,
        ``{"normalise__alef": False}`` switches a normalisation step off,
        ``{"features__char": "reference"}`` computes the character block with
        scikit-learn's ``TfidfVectorizer`` instead of :class:`~classify.features.char.CharTfidf`
        (the same matrix, slower; the defaults still apply).
    memory : str or joblib.Memory, optional
        Caches the fitted normaliser and vectoriser across a grid.
    scheme : classify.scheme.Scheme, optional
        Its cue words go into the cue block and the ``rules`` classifier (stored in the
        pipeline, so a saved model matches its own cues); default the codebook's. The
        structure block's word families are the codebook's whatever the scheme: they are
        features of conflict news (a denial, a retreat "from" a place), not labels.

    Returns
    -------
    sklearn.pipeline.Pipeline
    """
    cues = None if scheme is None else {label: list(scheme.cues[label]) for label in scheme.labels}
    if classifier == "rules":
        return Pipeline([("normalise", ArabicNormaliser(whitespace=True)), ("clf", KeywordRules(cues=cues))])
    if classifier not in CLASSIFIERS:
        raise ClassifyError(f"unknown classifier {classifier!r} (expected one of {', '.join(CLASSIFIERS)}, rules)")
    params = {k: _from_toml(v, k) for k, v in (params or {}).items()}
    reference = params.get("features__char") == "reference"
    if reference:
        del params["features__char"]
    # A step replaced outright (e.g. features__char="drop") takes none of the defaults meant for it.
    params = {**{k: v for k, v in DEFAULT_PARAMS.items() if k.rsplit("__", 1)[0] not in params}, **params}
    # Optional blocks are named in a config by their slot's name, since TOML cannot hold an estimator.
    for name, block in BLOCKS.items():
        if params.get(f"features__{name}") == name:
            params[f"features__{name}"] = block()
    char = TfidfVectorizer(lowercase=False, dtype=np.float32) if reference else CharTfidf()
    features = FeatureUnion([("char", char)] + [(name, "drop") for name in BLOCKS])
    pipeline = Pipeline([
        ("normalise", ArabicNormaliser()),
        ("features", features),
        ("clf", OneVsRestClassifier(CLASSIFIERS[classifier]())),
    ], memory=memory)
    try:
        pipeline.set_params(**params)
    except ValueError as exc:
        raise ClassifyError(f"bad pipeline parameter: {exc}") from None
    block = features.get_params()["cues"]
    if isinstance(block, CueFeatures) and "features__cues__cues" not in params:
        block.set_params(cues=cues)
    # Text from the default normaliser is normalised already: normalising it again for the
    # cues would change nothing (normalisation is idempotent) and take as long again.
    if (isinstance(block, CueFeatures) and "features__cues__renormalise" not in params
            and pipeline.named_steps["normalise"].get_params() == ArabicNormaliser().get_params()):
        block.set_params(renormalise=False)
    return pipeline


