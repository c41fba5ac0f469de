"""Structure the codebook names, as sparse conjunctions a linear model can weigh: the scikit-learn step.

The word families and the sentence reading are in :mod:`classify.runtime.structure` (no
scikit-learn there, so a model's runtime predicts without it); importable from here too.
"""

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from classify.runtime.structure import (EVENT_FAMILIES, FEATURES, MARK_FAMILIES, sentence_features,  # noqa: F401
                                        structure_matrix)


class StructureFeatures(TransformerMixin, BaseEstimator):
    """Cue families by their framing (reported, denied, modal), one indicator each.

    Expects normalised text (the pipeline's first step). Stateless.

    Parameters
    ----------
    weight : float
        Scale of the indicators against the unit-norm TF-IDF rows.
    """

    def __init__(self, weight=0.5):
        self.weight = weight

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return structure_matrix(list(X), self.weight)

    def get_feature_names_out(self, input_features=None):
        return np.array([f"structure_{name}" for name in FEATURES], dtype=object)
