"""Why a model gave a label: each feature's contribution, mapped back to spans of the original text.

For a linear classifier a label's decision value (its log-odds, for logistic regression) is
``bias + sum(coefficient * feature value)`` over the feature union's columns. Each column's
contribution is handed to the places in the text that produced it:

- a character n-gram to each of its occurrences (an equal share each), so to the word it
  stands in (``char_wb`` n-grams never cross a word; ``char`` ones are shared by overlap);
- a word n-gram, a word cluster or a cluster bigram to its words;
- a structure feature (``shell@denied``, ``civilian+harm``, ...) to the words of its cue
  families in the sentences where it fires;
- a feature of any other block to the words whose removal makes it vanish.

The unit of a span is a word of the normalised text (a run of letters and digits), mapped
to the original text through :func:`classify.normalise.normalise_with_offsets`, so a span's
``text`` is always ``original[start:end]``. What no word produced (and the bias) is listed
apart, in ``other``. Contributions are in the classifier's decision units, before any
calibration; a calibrated score is a monotonic function of the same decision value.

For a model with sentence pooling (:mod:`classify.pooling`), a label's score is the mean of
the paragraph's probability and its best sentence's: the spans explain the paragraph's
decision value, and ``sentence`` says which sentence was best and its own score.
"""

import re
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from classify.errors import ClassifyError
from classify.normalise import normalise_with_offsets
from classify.sentences import sentence_spans

_TOKEN = re.compile(r"\S+")
# The unit of a span: a run of letters and digits, so that punctuation glued to a word stays out of its span.
_UNIT = re.compile(r"\w+")
_TINY = 1e-12


@dataclass(frozen=True)
class Span:
    """A stretch of the original text and what it contributed to one label.

    Attributes
    ----------
    start, end : int
        Code-point offsets in the original text; ``text == original[start:end]``.
    text : str
    weight : float
        Sum of the contributions (coefficient x feature value) handed to this span.
    features : tuple of (str, float)
        The features behind it, heaviest first.
    """

    start: int
    end: int
    text: str
    weight: float
    features: tuple = ()


@dataclass(frozen=True)
class LabelExplanation:
    """One label's score for one text, and the spans and features behind it.

    Attributes
    ----------
    label : str
    score : float
        The model's probability for the label (calibrated, if the model is).
    threshold : float
    passed : bool
        ``score >= threshold``.
    decision : float
        The classifier's decision value: ``bias + sum of span weights + sum of other weights``.
    bias : float
        The intercept.
    spans : tuple of Span
        Every span with a contribution, in descending order of weight.
    other : tuple of (str, float)
        Features mapped to no span, in descending order of absolute weight.
    sentence : tuple of (int, int, float) or None
        For a model with sentence pooling and a text of several sentences: the original
        ``[start, end)`` of the sentence with the label's highest score, and that score
        (the model's for the sentence as a text of its own).
    """

    label: str
    score: float
    threshold: float
    passed: bool
    decision: float
    bias: float
    spans: tuple = ()
    other: tuple = ()
    sentence: tuple = None

    def top(self, k=None):
        """The ``k`` spans of largest absolute weight (all with ``None``), in descending order of weight."""
        spans = sorted(self.spans, key=lambda s: -abs(s.weight))[:k] if k else list(self.spans)
        return sorted(spans, key=lambda s: -s.weight)


@dataclass(frozen=True)
class Explanation:
    """The explanation of one text: one :class:`LabelExplanation` per label asked for.

    Attributes
    ----------
    text : str
        The original text.
    scores : dict of str to float
        Every label's score.
    labels : tuple of LabelExplanation
    """

    text: str
    scores: dict = field(default_factory=dict)
    labels: tuple = ()

    def __getitem__(self, label):
        for item in self.labels:
            if item.label == label:
                return item
        raise KeyError(label)

    def to_dict(self, top=None):
        """Plain JSON-ready data: per label its score, threshold, decision, bias, spans and other features."""
        return {"text": self.text, "scores": self.scores, "labels": [
            {"label": e.label, "score": e.score, "threshold": e.threshold, "passed": e.passed,
             "decision": e.decision, "bias": e.bias,
             "spans": [{"start": s.start, "end": s.end, "text": s.text, "weight": s.weight,
                        "features": [list(f) for f in s.features]} for s in e.top(top)],
             "other": [list(f) for f in e.other],
             "sentence": None if e.sentence is None else dict(zip(("start", "end", "score"), e.sentence))}
            for e in self.labels]}


# -- the linear weights of a pipeline --------------------------------------------------------


def _linear(estimator, width):
    """(coefficients, intercept) of one fitted binary estimator of the one-vs-rest classifier."""
    name = type(estimator).__name__
    if name == "_ConstantPredictor":  # a label with one class in training: a constant score
        p = float(np.ravel(estimator.y_)[0])
        return np.zeros(width), float(np.log(max(p, 1e-7)) - np.log(max(1 - p, 1e-7)))
    if name == "NBSVM":
        return np.ravel(estimator.lr_.coef_) * estimator.ratio_, float(np.ravel(estimator.lr_.intercept_)[0])
    coef = getattr(estimator, "coef_", None)
    if coef is None or np.ndim(coef) != 2 or np.shape(coef)[0] != 1:
        raise ClassifyError(f"explain needs a linear classifier (logreg, sgd or nbsvm); this model's is {name}")
    coef = coef.toarray() if sp.issparse(coef) else np.asarray(coef)
    return coef.ravel().astype(float), float(np.ravel(estimator.intercept_)[0])


class Explainer:
    """The parts of a model that explanations need, prepared once per model.

    Parameters
    ----------
    model : classify.model.Model
    """

    def __init__(self, model):
        pipeline = model.pipeline
        steps = dict(pipeline.steps)
        if [name for name, _ in pipeline.steps] != ["normalise", "features", "clf"]:
            raise ClassifyError("explain needs a pipeline of normalise, features and clf; this model's is "
                                + ", ".join(name for name, _ in pipeline.steps))
        self.model = model
        self.switches = steps["normalise"].switches()
        union = steps["features"]
        weights = union.transformer_weights or {}
        self.blocks = [(name, block, float(weights.get(name, 1.0))) for name, block in union.transformer_list
                       if block not in ("drop", None)]
        self._names = {}
        widths = [len(self.names(b)) for b in range(len(self.blocks))]
        self.slices = np.concatenate([[0], np.cumsum(widths)]).astype(int)
        clf = steps["clf"]
        estimators = getattr(clf, "estimators_", None)
        if estimators is None or len(estimators) != len(model.labels):
            raise ClassifyError(f"explain needs a one-vs-rest classifier; this model's is {type(clf).__name__}")
        pairs = [_linear(e, self.slices[-1]) for e in estimators]
        self.coef = np.vstack([c for c, _ in pairs])
        self.bias = np.array([b for _, b in pairs])

    def names(self, b):
        """Feature names of block ``b`` (cached: the character block has hundreds of thousands)."""
        if b not in self._names:
            self._names[b] = np.asarray(self.blocks[b][1].get_feature_names_out(), dtype=object)
        return self._names[b]

    def display_name(self, b, col):
        """A feature's name as shown; a word cluster with two of its most frequent words."""
        name = _display_name(self.blocks[b][0], self.names(b)[col])
        if name.startswith("cluster c"):
            name = "cluster " + " ".join(f"[{self._cluster_examples().get(c, c)}]" for c in name[8:].split())
        return name

    def _cluster_examples(self):
        if not hasattr(self, "_examples"):
            from classify.features.clusters import load_table

            examples = {}
            for word, c in load_table()[0].items():  # the table lists words by falling corpus frequency
                words = examples.setdefault(f"c{c}", [])
                if word.isalnum() and len(words) < 2:
                    words.append(word)
            self._examples = {c: "/".join(words) for c, words in examples.items()}
        return self._examples

    def explain(self, text, labels=None):
        """See :meth:`classify.model.Model.explain`."""
        model = self.model
        if isinstance(labels, str):
            labels = [labels]
        unknown = [label for label in labels or () if label not in model.labels]
        if unknown:
            raise ClassifyError(f"unknown label {unknown[0]!r} (this model's labels: {', '.join(model.labels)})")
        text = "" if text is None else str(text)
        scores = {k: float(v) for k, v in model.predict_proba([text]).iloc[0].items()}
        if labels is None:
            labels = [label for label in model.labels if scores[label] >= model.thresholds[label]]
            labels.sort(key=lambda label: -scores[label])
        norm, offsets = normalise_with_offsets(text, **self.switches)
        sentences = self._sentences(text, norm, offsets) if model.pooling != "none" else None
        tokens = [(m.start(), m.end()) for m in _UNIT.finditer(norm)]
        token_at = np.full(len(norm) + 1, -1, dtype=np.int64)
        for t, (a, b) in enumerate(tokens):
            token_at[a:b] = t
        # Per block: its row of values, and the places of each non-zero column.
        values, places = [], []
        for b, (name, block, weight) in enumerate(self.blocks):
            row = sp.csr_matrix(block.transform([norm])) * weight
            row.sum_duplicates()
            values.append((row.indices, row.data.astype(float)))
            places.append(_places(self, b, block, norm, row.indices) if len(row.indices) else {})
        out = []
        for label in labels:
            j = model.labels.index(label)
            span_weight, span_features, other = {}, {}, {}
            total = self.bias[j]
            for b, ((cols, vals), found) in enumerate(zip(values, places)):
                start = self.slices[b]
                contrib = self.coef[j, start + cols] * vals
                total += float(contrib.sum())
                for col, c in zip(cols, contrib):
                    if abs(c) < _TINY:
                        continue
                    fname = self.display_name(b, col)
                    shares = _shares(found.get(int(col), ()), token_at, tokens)
                    if not shares:
                        other[fname] = other.get(fname, 0.0) + float(c)
                        continue
                    for t, share in shares.items():
                        span_weight[t] = span_weight.get(t, 0.0) + float(c) * share
                        feats = span_features.setdefault(t, {})
                        feats[fname] = feats.get(fname, 0.0) + float(c) * share
            spans = []
            for t, w in span_weight.items():
                start, end = _original_span(tokens[t], offsets, text)
                feats = tuple(sorted(((k, v) for k, v in span_features[t].items()), key=lambda kv: -abs(kv[1])))
                spans.append(Span(start, end, text[start:end], float(w), tuple((k, float(v)) for k, v in feats)))
            spans.sort(key=lambda s: (-s.weight, s.start))
            score = scores[label]
            out.append(LabelExplanation(
                label, score, float(model.thresholds[label]), score >= model.thresholds[label], float(total),
                float(self.bias[j]), tuple(spans),
                tuple(sorted(other.items(), key=lambda kv: -abs(kv[1]))), None if sentences is None else sentences[j]))
        return Explanation(text, scores, tuple(out))

    def _sentences(self, text, norm, offsets):
        """Per label, the original span of the text's best sentence and its score; None for one sentence."""
        parts, spans = sentence_spans(norm)
        if len(parts) < 2:
            return None
        proba = self.model.predict_proba(parts).to_numpy()
        return [(*_original_span(spans[k], offsets, text), float(proba[k, j]))
                for j, k in enumerate(proba.argmax(axis=0))]


def _display_name(block, name):
    """A feature's name as shown: a character n-gram with ``_`` for a word edge, others by block."""
    name = str(name)
    if name.startswith(f"{block}_") or name.startswith(f"{block}__"):
        name = name[len(block) + 1:].lstrip("_")
    for prefix in ("structure_", "cluster_", "cue_"):
        if name.startswith(prefix):
            return f"{prefix[:-1]} {name[len(prefix):]}"
    if block == "char":
        return "«" + name.replace(" ", "_") + "»"
    return f"{block} {name}"


def _original_span(token, offsets, text):
    """The original ``[start, end)`` of a token ``[a, b)`` of the normalised text."""
    a, b = token
    start, end = int(offsets[a]), int(offsets[b - 1]) + 1
    # Marks deleted after the last kept character (harakat, tatweel, invisible controls) belong to the word.
    limit = int(offsets[b]) if b < len(offsets) else len(text)
    while end < limit and not text[end].isspace():
        end += 1
    return start, end


def _shares(occurrences, token_at, tokens):
    """Share of a column's contribution per token: equal per occurrence, equal per piece, by overlap."""
    shares = {}
    occurrences = [occ for occ in occurrences if occ]
    for occ in occurrences:
        for a, b in occ:
            hit = token_at[a:b]
            hit = hit[hit >= 0]
            if not len(hit):
                continue
            ids, counts = np.unique(hit, return_counts=True)
            for t, n in zip(ids, counts):
                shares[int(t)] = shares.get(int(t), 0.0) + n / len(hit) / len(occ) / len(occurrences)
    total = sum(shares.values())
    return {t: s / total for t, s in shares.items()} if total > 0 else {}


# -- where each block's features come from ---------------------------------------------------


def _places(explainer, b, block, norm, cols):
    """``{column: [occurrence, ...]}``, an occurrence being a list of ``(start, end)`` pieces of ``norm``."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    from classify.features.char import CharTfidf
    from classify.features.clusters import ClusterWords
    from classify.features.structure import StructureFeatures

    wanted = set(int(c) for c in cols)
    try:
        if isinstance(block, CharTfidf) or (isinstance(block, TfidfVectorizer) and block.analyzer in ("char", "char_wb")):
            found = _char_places(explainer, b, block, norm, wanted)
        elif isinstance(block, TfidfVectorizer) and block.analyzer == "word":
            found = _word_places(block, norm, wanted)
        elif isinstance(block, ClusterWords):
            found = _cluster_places(block, norm, wanted)
        elif isinstance(block, StructureFeatures):
            found = _structure_places(explainer, b, norm, wanted)
        else:
            found = None
    except (AttributeError, ImportError, KeyError, ValueError):  # an unexpected block layout: the general way
        found = None
    return found if found is not None else _occlusion_places(block, norm, cols)


def _char_places(explainer, b, block, norm, wanted):
    if hasattr(block, "vocabulary_"):  # scikit-learn's vectorizer
        lookup = {g: c for g, c in block.vocabulary_.items() if c in wanted}
    else:
        names = explainer.names(b)
        lookup = {names[c]: c for c in wanted}
    min_n, max_n = block.ngram_range
    doc = norm.lower() if block.lowercase else norm
    if len(doc) != len(norm):
        return None
    found = {}
    if block.analyzer == "char_wb":
        for m in _TOKEN.finditer(doc):
            padded = " " + m.group() + " "
            for n in range(1, max_n + 1):
                for i in range(max(len(padded) - n + 1, 0)):
                    gram = padded[i:i + n]
                    col = lookup.get(gram)
                    if col is None or (n < min_n and gram != padded):
                        continue
                    # Padded positions 1..len(word) are the word; the padding spaces belong to no character.
                    a, z = max(i - 1, 0), min(i + n - 1, len(m.group()))
                    found.setdefault(col, []).append([(m.start() + a, m.start() + max(z, a + 1))])
    else:
        if re.search(r"\s\s", doc):  # scikit-learn folds white-space runs, which would move the offsets
            return None
        for n in range(min_n, max_n + 1):
            for i in range(len(doc) - n + 1):
                col = lookup.get(doc[i:i + n])
                if col is not None:
                    found.setdefault(col, []).append([(i, i + n)])
    return found


def _word_places(block, norm, wanted):
    lookup = {g: c for g, c in block.vocabulary_.items() if c in wanted}
    doc = block.build_preprocessor()(norm)
    if len(doc) != len(norm):
        return None
    words = [(m.start(), m.end(), m.group()) for m in re.finditer(block.token_pattern, doc)]
    min_n, max_n = block.ngram_range
    found = {}
    for n in range(min_n, max_n + 1):
        for i in range(len(words) - n + 1):
            col = lookup.get(" ".join(w for _, _, w in words[i:i + n]))
            if col is not None:
                found.setdefault(col, []).append([(a, z) for a, z, _ in words[i:i + n]])
    return found


def _cluster_places(block, norm, wanted):
    from classify.runtime.clusters import _WORD, load_table

    table, k, _ = load_table()
    words = [(m.start(), m.end(), table[m.group()]) for m in _WORD.finditer(norm) if m.group() in table]
    grams = [(c, [(a, z)]) for a, z, c in words]
    if block.bigrams:
        grams += [(k + x[2] * k + y[2], [(x[0], x[1]), (y[0], y[1])]) for x, y in zip(words, words[1:])]
    found = {}
    for gram, pieces in grams:
        at = int(np.searchsorted(block.grams_, gram))
        if at < len(block.grams_) and block.grams_[at] == gram:
            col = int(block.columns_[at])
            if col in wanted:
                found.setdefault(col, []).append(pieces)
    return found


def _feature_families(name):
    """The cue families whose words make a structure feature fire."""
    if "@" in name:
        event, frame = name.split("@")
        return {event} | ({"deny"} if frame == "denied" else {"modal"} if frame == "modal" else set())
    if name == "harm-civilian":
        return {"harm"}
    return set(name.split("+"))


def _structure_places(explainer, b, norm, wanted):
    from classify.runtime import structure

    column = {str(n).removeprefix("structure_"): j for j, n in enumerate(explainer.names(b))}
    lexicon = getattr(explainer.blocks[b][1], "lexicon", "codebook")
    found = {}
    for sentence in structure._SENTENCE.finditer(norm):
        fired = structure.sentence_features(sentence.group(), lexicon)
        if not fired:
            continue
        words = [(m.start() + sentence.start(), m.end() + sentence.start(), m.group())
                 for m in structure._WORD.finditer(sentence.group())]
        families = [set(structure._families(w, lexicon)) for _, _, w in words]
        for i in range(1, len(words)):
            if "truth" in families[i] and words[i - 1][2] in structure._NEGATORS:  # "عدم صحة": a denial
                families[i - 1].add("deny")
                families[i].add("deny")
        for name in fired:
            col = column.get(name)
            if col is None or col not in wanted:
                continue
            need = _feature_families(name)
            pieces = []
            for i, ((a, z, _), fams) in enumerate(zip(words, families)):
                hit = bool(fams & (need - {"from"}))
                if not hit and "from" in need and "from" in fams:  # "من" within three words after a retreat word
                    hit = any("withdraw" in f for f in families[max(i - 3, 0):i])
                if hit:
                    pieces.append((a, z))
            if pieces:
                found.setdefault(col, []).append(pieces)
    # A feature that fires in several sentences is shared by all of them: one occurrence, all its words.
    return {col: [[p for occ in occs for p in occ]] for col, occs in found.items()}


def _occlusion_places(block, norm, cols):
    """For any block: the words without which a feature vanishes (one occurrence, those words)."""
    tokens = [(m.start(), m.end()) for m in _UNIT.finditer(norm)]
    if not tokens:
        return {}
    variants = [norm[:a] + norm[z:] for a, z in tokens]
    X = sp.csr_matrix(block.transform(variants))[:, cols].toarray()
    found = {}
    for k, col in enumerate(cols):
        pieces = [tokens[t] for t in np.flatnonzero(X[:, k] == 0)]
        if pieces:
            found[int(col)] = [pieces]
    return found


def explainer_of(model):
    """The model's :class:`Explainer`, built on first use and kept on the model."""
    cached = getattr(model, "_explainer", None)
    if cached is None or cached.model is not model:
        cached = Explainer(model)
        model._explainer = cached
    return cached


def blank(text, span):
    """``text`` with ``span`` (or ``(start, end)``) replaced by spaces, every other offset unchanged."""
    start, end = (span.start, span.end) if isinstance(span, Span) else span
    return text[:start] + " " * (end - start) + text[end:]


# -- output ------------------------------------------------------------------------------------


def heading(record):
    """Where a record comes from, for a heading: its source or id, and its offsets in an article."""
    parts = [str(record[k]) for k in ("source", "id", "doc_id") if k in record and record[k] not in (None, "")]
    if "start" in record and "end" in record:
        parts.append(f"{record['start']}-{record['end']}")
    return " ".join(parts)


def format_text(explanation, title, stream, top=5):
    """One explained paragraph as text for ``stream``: shaped, ordered and coloured on a terminal
    (:func:`classify.display.show_marked`), plain with bracketed spans otherwise."""
    from classify.display import escape_controls, for_terminal, show, show_marked

    tty = getattr(stream, "isatty", lambda: False)()

    def arabic(text):
        text = escape_controls(text)
        return for_terminal(text) if tty else text

    scores = " ".join(f"{e.label} {e.score:.2f}" for e in explanation.labels if e.passed)
    lines = [f"== {escape_controls(title)}{'  ' if title else ''}[{scores or 'no label passes its threshold'}]"]
    if not explanation.labels:
        lines.append(show(explanation.text, stream))
    for e in explanation.labels:
        spans = e.top(top)
        verdict = ">=" if e.passed else "<"
        lines.append(f"{e.label}: score {e.score:.3f} {verdict} threshold {e.threshold:.3f}; decision {e.decision:+.3f} "
                     f"= bias {e.bias:+.3f} + spans {sum(s.weight for s in e.spans):+.3f} "
                     f"+ other {sum(w for _, w in e.other):+.3f}")
        lines.append("  " + show_marked(explanation.text, [(s.start, s.end, "+" if s.weight >= 0 else "-")
                                                           for s in spans], stream, indent=2))
        for s in spans:
            features = ", ".join(f"{arabic(n)} {w:+.2f}" for n, w in s.features[:4])
            lines.append(f"    {s.weight:+.3f}  {arabic(s.text)}  ({features})")
        if e.other:
            lines.append("    not in a span: " + ", ".join(f"{arabic(n)} {w:+.3f}" for n, w in e.other[:5]))
        if e.sentence:
            start, end, score = e.sentence
            lines.append(f"    best sentence (its own score {score:.3f}): {arabic(explanation.text[start:end])}")
    return "\n".join(lines) + "\n"


def write_html(fh, items, model, title, top=5, labels=None):
    """Write the explanation page: ``items`` is an iterable of ``(heading, Explanation)``, written as it comes.

    Returns
    -------
    int
        The number of paragraphs written.
    """
    from classify import html

    shown = labels or model.labels
    colours = {label: html.hue(i) for i, label in enumerate(model.labels)}
    fh.write(html.head(title, lang="ar", direction="rtl"))
    fh.write(f'<h1 dir="ltr" lang="en">{html.esc(title)}</h1>\n<div dir="ltr" lang="en">\n'
             f"<p>Each paragraph is shown once per label {'asked for' if labels else 'that passes its threshold'}, "
             f"with the {top} words that weigh most on that label marked. A word's weight is the sum of the "
             "contributions (coefficient &times; feature value, in the classifier's log-odds) of the character "
             "n-grams, word clusters and structure features found in it; the bias and the features no word "
             "produced are listed apart. Hover over a mark for its features."
             + (" A label's score is the mean of the paragraph's probability and that of its best sentence (sentence "
                "pooling): the marks explain the paragraph's part, and the best sentence is named under the label."
                if model.pooling != "none" else "") + "</p>\n"
             + "".join(html.legend(label, colours[label]) for label in shown) + "\n</div>\n")
    count = 0
    for heading_text, explanation in items:
        count += 1
        passed = ", ".join(f"{e.label} {e.score:.2f}" for e in explanation.labels if e.passed)
        fh.write(f'<section class="para">\n<h2 dir="ltr" lang="en">{count}. {html.esc(heading_text)} '
                 f'<span class="meta">[{html.esc(passed or "no label passes its threshold")}]</span></h2>\n')
        if not explanation.labels:
            fh.write(html.marked_text(explanation.text, [], (0, 0, 0)) + "\n")
        for item in explanation.labels:
            fh.write(html.explanation_block(item, explanation.text, colours[item.label], top) + "\n")
        fh.write("</section>\n")
    if not count:
        fh.write('<p dir="ltr" lang="en">No paragraph to explain.</p>\n')
    fh.write(html.TAIL)
    return count
