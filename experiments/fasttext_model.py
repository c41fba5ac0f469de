"""fastText (extra ``classify[experiments]``) as a scikit-learn classifier for the baselines.

One-vs-all loss with character n-grams, so it answers the same question as the
linear models; thresholds are tuned on its out-of-fold probabilities like theirs.
"""

import os
import tempfile

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin


class FastTextClassifier(ClassifierMixin, BaseEstimator):
    def __init__(self, epoch=25, lr=0.5, minn=2, maxn=5, dim=50, wordNgrams=2, seed=0):
        self.epoch = epoch
        self.lr = lr
        self.minn = minn
        self.maxn = maxn
        self.dim = dim
        self.wordNgrams = wordNgrams
        self.seed = seed

    def fit(self, X, Y):
        import fasttext

        Y = np.asarray(Y)
        self.n_labels_ = Y.shape[1]
        fd, path = tempfile.mkstemp(suffix=".txt")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                for text, row in zip(X, Y):
                    tags = " ".join(f"__label__{j}" for j in np.flatnonzero(row)) or "__label__none"
                    fh.write(f"{tags} {' '.join(text.split())}\n")
            # One thread: fastText is only reproducible single-threaded.
            self.model_ = fasttext.train_supervised(path, loss="ova", epoch=self.epoch, lr=self.lr, minn=self.minn,
                                                    maxn=self.maxn, dim=self.dim, wordNgrams=self.wordNgrams,
                                                    seed=self.seed, thread=1, verbose=0)
        finally:
            os.unlink(path)
        return self

    def model_bytes(self):
        """Size of the trained model in fastText's own file format."""
        fd, path = tempfile.mkstemp(suffix=".bin")
        os.close(fd)
        try:
            self.model_.save_model(path)
            return os.path.getsize(path)
        finally:
            os.unlink(path)

    def predict_proba(self, X):
        out = np.zeros((len(X), self.n_labels_))
        for i, text in enumerate(X):
            # The low-level call: fastText's own predict() breaks on NumPy 2.
            for prob, tag in self.model_.f.predict(" ".join(text.split()), -1, 0.0, "strict"):
                tag = tag.replace("__label__", "")
                if tag != "none":
                    out[i, int(tag)] = prob
        return out
