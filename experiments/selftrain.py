"""Self-training on the unlabelled corpus (issue 8), as an experiment beside the feature blocks.

The model labels a seeded sample of unlabelled corpus paragraphs; the paragraphs it is
confident about for a label (probability >= ``positive`` or <= ``negative``) join that
label's training rows as pseudo-labelled rows (``source=model``) of weight ``weight``,
and the classifier is refitted; ``rounds`` repeats it with the refitted model.

Leakage is kept out twice over:

- the pool (:func:`unlabelled_pool`) holds no paragraph of the test split's groups, none of
  an article that has a labelled paragraph, and none that is a (near-)copy of a labelled
  paragraph of either split (same normalised text, or half its word 4-grams shared either
  way, which catches wire copies with a changed line);
- the pseudo-labels are made inside :meth:`SelfTrained.fit`, so within cross-validation each
  fold's pseudo-labeller has seen that fold's training part only.

The feature blocks are fitted on the labelled rows only, so the fitted pipeline is the
default one with other classifier weights: its prediction speed is the default's.
"""

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.pipeline import Pipeline

from classify.normalise import normalise

SHINGLE = 4
NEAR = 0.5


def _shingles(folded):
    words = folded.split()
    return {hash(" ".join(words[i:i + SHINGLE])) for i in range(max(1, len(words) - SHINGLE + 1))}


def near_copies(texts, labelled_texts, share=NEAR):
    """Mask of ``texts`` that share at least ``share`` of their word 4-grams with one labelled
    paragraph, or contain ``share`` of one labelled paragraph's (normalised text)."""
    index, sizes = {}, []
    for j, text in enumerate(labelled_texts):
        grams = _shingles(normalise(text))
        sizes.append(len(grams))
        for g in grams:
            index.setdefault(g, []).append(j)
    sizes = np.asarray(sizes)
    out = np.zeros(len(texts), dtype=bool)
    for i, text in enumerate(texts):
        grams = _shingles(normalise(text))
        hits = {}
        for g in grams:
            for j in index.get(g, ()):
                hits[j] = hits.get(j, 0) + 1
        out[i] = any(n >= share * len(grams) or n >= share * sizes[j] for j, n in hits.items())
    return out


def unlabelled_pool(corpus, labelled, n=20000, seed=0):
    """A seeded sample of ``n`` unlabelled training-split corpus paragraphs, leakage removed.

    Parameters
    ----------
    corpus : dict of str to Article
    labelled : pandas.DataFrame
        Every labelled paragraph, both splits (from :func:`classify.data.load_labels`).
    n : int
    seed : int

    Returns
    -------
    pandas.DataFrame
        ``doc_id``, ``start``, ``end``, ``text``, ``group`` of the sampled paragraphs.
    """
    from classify.sample import candidates

    # candidates(): no labelled span or normalised text, labelled groups keep their split,
    # text found in both splits left out, one row per normalised text.
    pool = candidates(corpus, labelled)
    pool = pool[(pool.split == "train") & ~pool.doc_id.isin(set(labelled.doc_id))]
    pool = pool.sample(frac=1.0, random_state=seed)
    kept, step = [], 4 * n
    for i in range(0, len(pool), step):  # near-copy checks on a shuffled stream until n are kept
        part = pool.iloc[i:i + step]
        kept.append(part[~near_copies(part.text.tolist(), labelled.text.tolist())])
        if sum(map(len, kept)) >= n:
            break
    pool = pd.concat(kept).iloc[:n]
    return pool[["doc_id", "start", "end", "text", "group"]].reset_index(drop=True)


def cached_pool(corpus, labelled, n, seed, folder):
    """:func:`unlabelled_pool`, cached in ``folder`` by the labelled spans, the corpus' articles, ``n`` and ``seed``."""
    parts = [*sorted(labelled.doc_id + ":" + labelled.sha1), *sorted(corpus), str(n), str(seed)]
    key = hashlib.sha256("|".join(parts).encode()).hexdigest()
    path = Path(folder) / f"selftrain_pool_{key[:16]}.pkl"
    if path.is_file():
        return pd.read_pickle(path)
    pool = unlabelled_pool(corpus, labelled, n, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    pool.to_pickle(tmp)
    tmp.replace(path)
    return pool


class MaskedOneVsRest(ClassifierMixin, BaseEstimator):
    """One binary classifier per label, each fitted on the rows whose label is known (not -1)."""

    def __init__(self, estimator):
        self.estimator = estimator

    def fit(self, X, Y, sample_weight=None):
        Y = np.asarray(Y)
        w = np.ones(len(Y)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
        self.estimators_ = []
        for j in range(Y.shape[1]):
            rows = Y[:, j] >= 0
            self.estimators_.append(clone(self.estimator).fit(X[rows], Y[rows, j], sample_weight=w[rows]))
        return self

    def predict_proba(self, X):
        return np.column_stack([e.predict_proba(X)[:, 1] for e in self.estimators_])


class SelfTrained(ClassifierMixin, BaseEstimator):
    """A pipeline refitted with its own confident labels of unlabelled paragraphs.

    Parameters
    ----------
    pipeline : sklearn.pipeline.Pipeline
        ``normalise -> features -> OneVsRestClassifier(estimator)``.
    pool : list of str
        Unlabelled paragraphs (see :func:`unlabelled_pool`).
    positive, negative : float
        A pool paragraph is a pseudo-positive of a label at probability >= ``positive``, a
        pseudo-negative at <= ``negative``; between, it is left out of that label's rows.
    weight : float
        Sample weight of a pseudo-labelled row (a labelled row weighs 1).
    rounds : int
        Pseudo-labelling rounds, each with the previous round's model.
    """

    def __init__(self, pipeline, pool=(), positive=0.9, negative=0.1, weight=0.5, rounds=1):
        self.pipeline = pipeline
        self.pool = pool
        self.positive = positive
        self.negative = negative
        self.weight = weight
        self.rounds = rounds

    def fit(self, X, Y):
        Y = np.asarray(Y)
        steps = clone(self.pipeline).steps
        features = Pipeline(steps[:-1])
        estimator = steps[-1][1].estimator
        Xl = features.fit_transform(list(X))
        Xp = list(self.pool)
        for _, step in features.steps:  # step by step: Pipeline.transform asks for a fitted last step
            Xp = step.transform(Xp)
        clf = MaskedOneVsRest(estimator).fit(Xl, Y)
        self.pseudo_counts_ = []
        for _ in range(self.rounds):
            P = clf.predict_proba(Xp)
            pseudo = np.where(P >= self.positive, 1, np.where(P <= self.negative, 0, -1))
            self.pseudo_counts_.append({"positive": (pseudo == 1).sum(axis=0).tolist(),
                                        "negative": (pseudo == 0).sum(axis=0).tolist()})
            weights = np.r_[np.ones(len(Y)), np.full(len(pseudo), self.weight)]
            clf = MaskedOneVsRest(estimator).fit(sp.vstack([Xl, Xp]).tocsr(), np.vstack([Y, pseudo]), weights)
        self.pipeline_ = Pipeline(features.steps + [("clf", clf)])
        return self

    def predict_proba(self, X):
        return self.pipeline_.predict_proba(list(X))

    def model_bytes(self):
        import skops.io as sio

        from classify.model import SKOPS_COMPRESSION

        # What would be saved: the fitted pipeline, not the pool.
        return len(sio.dumps(self.pipeline_, **SKOPS_COMPRESSION))
