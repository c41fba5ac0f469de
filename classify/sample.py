"""Choose the paragraphs a person labels next (``classify data sample``).

Strategies only decide *what is read*; the labels come from the annotator.
"""

import numpy as np
import pandas as pd

from classify.data import TEST_SHARE, assign_split
from classify.errors import ClassifyError
from classify.normalise import normalise
from classify.features.cues import matcher
from classify.scheme import default_scheme
from classify.segment import segment

STRATEGIES = ("random", "stratified", "uncertainty")
MIN_WORDS = 5
# Rarest first: a paragraph with cues of several labels joins the rarest one's stratum.
# The codebook's order; another scheme's labels are ordered by how few paragraphs they cue.
_RARITY = ("claim_denial", "withdrawal", "humanitarian", "shelling", "ground_advance")


def candidates(corpus, labelled=None, corpora=None):
    """Every unlabelled, non-furniture paragraph of the corpus with at least five words.

    Paragraphs whose normalised text occurs in groups of both splits are left out:
    a wire story copied across the split would leak the test set into training.
    """
    rows = []
    for article in corpus.values():
        if corpora and article.corpus not in corpora:
            continue
        split = assign_split(article.group)
        for p in segment(article.text, article.meta.get("url")):  # the address tells listings apart
            if len(p.text.split()) >= MIN_WORDS:
                rows.append((article.doc_id, p.start, p.end, p.text, article.corpus, article.group, split))
    pool = pd.DataFrame(rows, columns=["doc_id", "start", "end", "text", "corpus", "group", "split"])
    pool["folded"] = pool.text.map(normalise)
    if labelled is not None and len(labelled):
        # Labelled groups keep their split; labelled text is not offered again.
        known = dict(zip(labelled.group, labelled.split))
        pool["split"] = [known.get(g, s) for g, s in zip(pool.group, pool.split)]
        pool = pool[~pool.folded.isin(set(labelled.text.map(normalise)))]
        spans = labelled.groupby("doc_id")[["start", "end"]].apply(lambda d: list(zip(d.start, d.end))).to_dict()
        overlaps = [any(s < e2 and s2 < e for s2, e2 in spans.get(d, ())) for d, s, e in
                    zip(pool.doc_id, pool.start, pool.end)]
        pool = pool[~np.array(overlaps, dtype=bool)]
    both = pool.groupby("folded").split.nunique()
    pool = pool[~pool.folded.isin(set(both[both > 1].index))]
    return pool.drop_duplicates("folded").reset_index(drop=True)


def _strata(texts, scheme):
    found = matcher(scheme.cues)
    cued = [found.labels_in(text) for text in texts]
    if set(scheme.labels) == set(_RARITY):
        rarity = _RARITY
    else:
        n = {label: sum(label in c for c in cued) for label in scheme.labels}
        rarity = tuple(sorted(scheme.labels, key=lambda label: n[label]))
    return [next((label for label in rarity if label in c), "none") for c in cued], rarity


def _take(pool, n, rng, strategy, model, scheme):
    if n <= 0 or pool.empty:
        return pool.iloc[:0]
    if strategy == "random":
        return pool.sample(n=min(n, len(pool)), random_state=rng)
    if strategy == "stratified":
        strata, rarity = _strata(pool.text, scheme)
        strata = pd.Series(strata, index=pool.index)
        picked, remaining = [], n
        names = [s for s in ("none",) + rarity if (strata == s).any()]
        # Equal shares per stratum; what a small stratum cannot fill goes to the others.
        for i, name in enumerate(sorted(names, key=lambda s: (strata == s).sum())):
            share = remaining // (len(names) - i)
            members = pool[strata == name]
            chosen = members.sample(n=min(share, len(members)), random_state=rng)
            picked.append(chosen)
            remaining -= len(chosen)
        return pd.concat(picked)
    proba = model.predict_proba(pool.text.tolist()).to_numpy()
    margin = np.abs(proba - np.array([model.thresholds[label] for label in model.labels])).min(axis=1)
    return pool.iloc[np.argsort(margin, kind="stable")[:n]]


def sample(corpus, n, strategy="random", labelled=None, model=None, corpora=None, seed=0,
           test_share=TEST_SHARE, scheme=None):
    """Pick ``n`` paragraphs to label next.

    Parameters
    ----------
    corpus : dict of str to Article
    n : int
        How many paragraphs.
    strategy : {"random", "stratified", "uncertainty"}
        ``random`` draws uniformly; ``stratified`` draws equally from the strata of the
        codebook's cue words (so that rare labels are found); ``uncertainty`` takes
        those whose scores lie closest to the model's thresholds (active learning).
    labelled : pandas.DataFrame, optional
        The current labels (from :func:`classify.data.load_labels`): not offered again.
    model : classify.model.Model, optional
        Required by ``uncertainty``.
    corpora : collection of str, optional
        Restrict to these corpora (``unifiedfc``, ``saudinewsnet``).
    seed : int
    test_share : float
        The share of paragraphs drawn from groups of the test split.
    scheme : classify.scheme.Scheme, optional
        Whose cue words make the strata of ``stratified``; default the model's, else the codebook's.

    Returns
    -------
    pandas.DataFrame
        ``doc_id``, ``start``, ``end``, ``text``, ``corpus``, ``split``.
    """
    if strategy not in STRATEGIES:
        raise ClassifyError(f"unknown strategy {strategy!r} (expected one of {', '.join(STRATEGIES)})")
    if strategy == "uncertainty" and model is None:
        raise ClassifyError("--strategy uncertainty needs a trained model (--model DIR)")
    if n < 1:
        raise ClassifyError(f"--n must be at least 1, got {n}")
    pool = candidates(corpus, labelled, corpora)
    if pool.empty:
        raise ClassifyError("no unlabelled paragraphs left to sample")
    scheme = scheme or (model.scheme if model is not None else default_scheme())
    rng = np.random.RandomState(seed)
    n_test = int(round(n * test_share))
    picked = pd.concat([_take(pool[pool.split == "test"], n_test, rng, strategy, model, scheme),
                        _take(pool[pool.split == "train"], n - n_test, rng, strategy, model, scheme)])
    return picked.sort_values(["doc_id", "start"])[["doc_id", "start", "end", "text", "corpus", "split"]]
