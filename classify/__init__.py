"""classify: label the paragraphs of Arabic conflict news by what they report.

Most names below are imported on first use, so ``import classify`` stays cheap, and
``from classify import load_model`` loads a model and predicts without importing
scikit-learn or pandas (see :mod:`classify.runtime`).
"""

from classify.errors import ClassifyError
# Imported now, not on first use: these functions share their name with a submodule, which
# importing the submodule later would put in their place.
from classify.normalise import normalise
from classify.segment import Paragraph, segment

_LAZY = {
    "LABELS": "classify.model", "Model": "classify.model", "load_model": "classify.store",
    "save_model": "classify.store", "train": "classify.model", "Scheme": "classify.scheme",
    "load_scheme": "classify.scheme",
}
__all__ = ["LABELS", "ClassifyError", "Model", "Paragraph", "Scheme", "load_model", "load_scheme", "normalise",
           "save_model", "segment", "train"]


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module 'classify' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
