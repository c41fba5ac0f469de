"""Sentence pooling: a paragraph's score for a label also takes its best sentence's.

A crawled "paragraph" is often several sentences or stories glued together, and one event
sentence is diluted in the paragraph's long TF-IDF vector. With pooling, each label's
probability is the mean of the paragraph's and the largest of its sentences', both from
the same fitted model (multi-instance learning on the scores, not on the features).

It is an option (``pooling = "sentence"`` in a configuration), not the default: by paired
cross-validation it adds +0.007 macro-F1 over the paragraph alone, ahead on all 15 folds
(``experiments/PAIRED.md``), but scoring the sentences too makes prediction about 1.25x
slower, even with the compiled kernel pooling in its own pass (``make bench``), which
would take the default below its speed target, twice fastText's throughput, at 1,000
paragraphs (long ones: four in five of their characters are in paragraphs of several sentences).
"""

import numpy as np

from classify.errors import ClassifyError
from classify.sentences import is_one_sentence, split_sentences

POOLINGS = ("none", "sentence")
DEFAULT_POOLING = "none"


def check_pooling(pooling):
    """Raise :class:`ClassifyError` unless ``pooling`` is one of :data:`POOLINGS`."""
    if pooling not in POOLINGS:
        raise ClassifyError(f"unknown pooling {pooling!r} (expected one of {', '.join(POOLINGS)})")


def normaliser_of(pipeline):
    """A fitted pipeline's normaliser (its ``normalise`` step) as a function of one text."""
    from classify.normalise import normaliser

    step = pipeline.named_steps.get("normalise")
    if step is None:
        raise ClassifyError("sentence pooling needs a pipeline that starts with a normaliser")
    return normaliser(**step.switches())


def pooled_proba(predict_proba, texts, normalise, pooling="sentence"):
    """Each label's probability for each text, pooled over its sentences.

    Parameters
    ----------
    predict_proba : callable
        Raw texts -> an (n, n_labels) array of probabilities (a pipeline's, or a runtime's).
    texts : list of str
    normalise : callable
        The model's normaliser: sentences are split on normalised text.
    pooling : {"none", "sentence"}

    Returns
    -------
    ndarray of shape (len(texts), n_labels)
    """
    paragraph = np.asarray(predict_proba(texts), dtype=float)
    if pooling == "none":
        return paragraph
    return pool(paragraph, list(map(normalise, texts)), predict_proba)


def pipeline_proba(pipeline, texts, pooling="sentence"):
    """:func:`pooled_proba` of a fitted pipeline, its sentences split as its own normaliser gives them."""
    normalise = normaliser_of(pipeline) if pooling != "none" else None
    return pooled_proba(pipeline.predict_proba, texts, normalise, pooling)


def pool(paragraph, normalised, predict_proba):
    """:func:`pooled_proba` from the texts' own probabilities and their normalised forms.

    For the runtime's NumPy path, which has the texts normalised already (the compiled kernel
    pools in its own pass: :mod:`classify.runtime.fast`).
    """
    sentences, owners, starts = [], [], []
    for i, norm in enumerate(normalised):
        # A paragraph of one sentence is its own best sentence (normalising is idempotent): no second scoring.
        if is_one_sentence(norm):
            continue
        parts = split_sentences(norm)
        if len(parts) > 1 or parts[0] != norm:
            owners.append(i)
            starts.append(len(sentences))
            sentences += parts
    best = paragraph.copy()
    if sentences:
        best[owners] = np.maximum.reduceat(np.asarray(predict_proba(sentences), dtype=float), starts, axis=0)
    return (paragraph + best) / 2
