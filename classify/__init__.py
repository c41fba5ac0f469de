"""classify: label the paragraphs of Arabic conflict news by what they report."""

from classify.errors import ClassifyError
from classify.model import Model, load_model, save_model, train
from classify.normalise import normalise
from classify.rules import LABELS
from classify.scheme import Scheme, load_scheme
from classify.segment import Paragraph, segment

__all__ = ["LABELS", "ClassifyError", "Model", "Paragraph", "Scheme", "load_model", "load_scheme", "normalise",
           "save_model", "segment", "train"]
