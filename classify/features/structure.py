"""Structure the codebook names, as sparse conjunctions a linear model can weigh: the scikit-learn step.

The word families and the sentence reading are in :mod:`classify.runtime.structure` (no
scikit-learn there, so a model's runtime predicts without it); importable from here too.
"""

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from classify.runtime.structure import (EVENT_FAMILIES, FEATURES, LEXICONS, MARK_FAMILIES,  # noqa: F401
                                        sentence_features, structure_matrix)


class StructureFeatures(TransformerMixin, BaseEstimator):
    """Cue families by their framing (reported, denied, modal), one indicator each.

    Expects normalised text (the pipeline's first step). Stateless.

    Parameters
    ----------
    weight : float
        Scale of the indicators against the unit-norm TF-IDF rows.
    lexicon : {"codebook", "expanded"}
        The families' word lists: the codebook's, or with the reader-checked nearest
        neighbours of ``classify/runtime/structure_expansion.tsv`` added.
    """

    def __init__(self, weight=0.5, lexicon="codebook"):
        self.weight = weight
        self.lexicon = lexicon

    def fit(self, X, y=None):
        if self.lexicon not in LEXICONS:
            raise ValueError(f"lexicon={self.lexicon!r}: expected one of {', '.join(LEXICONS)}")
        return self

    def transform(self, X):
        return structure_matrix(list(X), self.weight, self.lexicon)

    def get_feature_names_out(self, input_features=None):
        return np.array([f"structure_{name}" for name in FEATURES], dtype=object)
