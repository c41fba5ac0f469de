"""The article around a paragraph (headline, previous and next paragraph) as a down-weighted block.

A denial often refers back ("نفى ... هذه الأنباء") to a claim made in the paragraph before
it, or to the headline. This block gives the model the features of that context, scaled
down so the paragraph's own features still decide.

The model input stays one string per paragraph. With context it is

    paragraph + SEP + headline + PART + previous + PART + next

(:func:`join_context`; :func:`context_texts` builds them for rows of ``data/labels.csv``).
:class:`ContextUnion` splits it: the paragraph goes to the usual features, the context to
its own block. A plain paragraph (no ``SEP``) has an empty context, so a model with this
block still labels plain paragraphs. ``SEP`` and ``PART`` are the ASCII record and unit
separators, which no text of the corpus holds (the normaliser would fold them to spaces).
"""

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.pipeline import Pipeline

from classify.features.char import CharTfidf
from classify.features.structure import StructureFeatures
from classify.segment import segment

SEP = "\x1e"
PART = "\x1f"
CONTEXT_BLOCKS = {"char": CharTfidf, "structure": StructureFeatures}


def join_context(paragraph, headline="", previous="", following=""):
    """One model input: the paragraph, then its context."""
    parts = [p.replace(SEP, " ").replace(PART, " ") for p in (headline, previous, following)]
    if not any(parts):
        return paragraph
    return paragraph + SEP + PART.join(parts)


def split_context(text):
    """``(paragraph, context)`` of a model input; the context's parts are joined as sentences."""
    paragraph, _, context = str(text).partition(SEP)
    parts = [p.strip().rstrip(".").strip() for p in context.split(PART)]
    return paragraph, ". ".join(p for p in parts if p)


def article_context(article_text, start, end, title=None, paragraphs=None):
    """Headline, previous and next kept paragraph of the span ``start:end`` of an article.

    Parameters
    ----------
    article_text : str
    start, end : int
        The paragraph's offsets.
    title : str, optional
        The article's title where the corpus has one (SaudiNewsNet); else the headline is
        the article's first kept line (:func:`classify.segment.segment`).
    paragraphs : list of classify.segment.Paragraph, optional
        ``segment(article_text)``, when the caller has it already.

    Returns
    -------
    tuple of str
        ``(headline, previous, next)``; a part is empty when there is none, and the
        headline is empty when it is the paragraph itself or its previous paragraph.
    """
    kept = segment(article_text) if paragraphs is None else paragraphs
    before = [p for p in kept if p.end <= start]
    after = [p for p in kept if p.start >= end]
    previous = before[-1] if before else None
    following = after[0].text if after else ""
    if title:
        headline = title.strip()
    else:
        first = kept[0] if kept else None
        headline = "" if first is None or first.start >= start or first is previous else first.text
    return headline, previous.text if previous else "", following


def context_texts(table, corpus):
    """Model inputs with context for rows with ``doc_id``, ``start``, ``end`` and ``text``.

    Parameters
    ----------
    table : pandas.DataFrame
        As :func:`classify.data.load_labels` returns.
    corpus : dict of str to classify.corpus.Article

    Returns
    -------
    list of str
    """
    cache = {}
    out = []
    for row in table.itertuples(index=False):
        article = corpus.get(row.doc_id)
        if article is None:
            out.append(row.text)
            continue
        if row.doc_id not in cache:
            cache[row.doc_id] = segment(article.text)
        title = article.meta.get("title") if isinstance(article.meta.get("title"), str) else None
        out.append(join_context(row.text, *article_context(article.text, row.start, row.end, title,
                                                            cache[row.doc_id])))
    return out


class ContextUnion(TransformerMixin, BaseEstimator):
    """The paragraph's features beside its context's, the latter scaled by ``weight``.

    Parameters
    ----------
    normalise : transformer
        Applied to the paragraph and to its context (the pipeline's normaliser).
    paragraph : transformer
        Normalised paragraphs -> features (the default's feature union).
    context : transformer
        Normalised contexts -> features; an empty context must give an empty row.
    weight : float
        Scale of the context block.

    Attributes
    ----------
    normalise_, paragraph_, context_ : transformer
        The fitted copies.
    """

    def __init__(self, normalise, paragraph, context, weight=0.3):
        self.normalise = normalise
        self.paragraph = paragraph
        self.context = context
        self.weight = weight

    def _split(self, X):
        pairs = [split_context(x) for x in X]
        return self.normalise_.transform([p for p, _ in pairs]), self.normalise_.transform([c for _, c in pairs])

    def fit(self, X, y=None):
        self.fit_transform(X, y)
        return self

    def fit_transform(self, X, y=None):
        self.normalise_ = clone(self.normalise).fit(X)
        paragraphs, contexts = self._split(X)
        self.paragraph_ = clone(self.paragraph)
        self.context_ = clone(self.context)
        return self._stack(self.paragraph_.fit_transform(paragraphs, y), self.context_.fit_transform(contexts, y))

    def transform(self, X):
        # The fitted parts are used step by step: scikit-learn's fitted-check would call a
        # stateless block (structure) unfitted.
        paragraphs, contexts = self._split(X)
        return self._stack(self.paragraph_.transform(paragraphs), self.context_.transform(contexts))

    def _stack(self, P, C):
        C = sp.csr_matrix(C, dtype=np.float32) * np.float32(self.weight)
        return sp.hstack([sp.csr_matrix(P), C], format="csr")

    def __sklearn_is_fitted__(self):
        return hasattr(self, "context_")


def make_context_pipeline(pipeline, block="char", weight=0.3, memory=None):
    """A pipeline of :func:`classify.pipeline.make_pipeline` with the context block added.

    Parameters
    ----------
    pipeline : sklearn.pipeline.Pipeline
        ``normalise -> features -> clf``: the normaliser serves paragraph and context, the
        feature union the paragraph.
    block : {"char", "structure"}
        The context's features: character n-gram TF-IDF or the structure indicators.
    weight : float
    memory : joblib.Memory, optional

    Returns
    -------
    sklearn.pipeline.Pipeline
        ``features (ContextUnion) -> clf``.
    """
    steps = pipeline.named_steps
    union = ContextUnion(steps["normalise"], steps["features"], CONTEXT_BLOCKS[block](), weight=weight)
    return Pipeline([("features", union), ("clf", steps["clf"])], memory=memory)
