"""Arabic text normalisation as a scikit-learn transformer saved with the model.

The steps are in :mod:`classify.normalise`, which does not import scikit-learn (a saved
model's runtime normalises without it); ``classify.normalise.ArabicNormaliser`` is this class too.
"""

from sklearn.base import BaseEstimator, TransformerMixin

from classify.normalise import STEPS, normaliser


class ArabicNormaliser(TransformerMixin, BaseEstimator):
    """Normalise each text of a sequence; stateless, so ``fit`` learns nothing.

    Parameters
    ----------
    controls, diacritics, tatweel, alef, alef_maqsura, teh_marbuta, digits, \
punctuation, whitespace : bool
        Apply the step of that name (see :data:`STEPS`).
    """

    def __init__(self, controls=True, diacritics=True, tatweel=True, alef=True,
                 alef_maqsura=True, teh_marbuta=False, digits=True, punctuation=True,
                 whitespace=True):
        self.controls = controls
        self.diacritics = diacritics
        self.tatweel = tatweel
        self.alef = alef
        self.alef_maqsura = alef_maqsura
        self.teh_marbuta = teh_marbuta
        self.digits = digits
        self.punctuation = punctuation
        self.whitespace = whitespace

    def fit(self, X, y=None):
        return self

    def switches(self):
        """The step switches, as keywords for :func:`normalise` and :func:`normalise_with_offsets`."""
        return {name: getattr(self, name) for name, _ in STEPS}

    def transform(self, X):
        run = normaliser(**self.switches())
        return [run(str(text)) for text in X]
