"""Story boundaries and the page's title as line-model signals, at equal article lines kept: measured, not kept.

Issue 9's hypothesis: ``_main_block`` bridges one-line gaps, so a headline between two
stories printed whole would merge the other story into the "main block". Each variant
changes the main block or appends columns to the line model's features; both parts of
the model (a page alone, a page with the corpus as its crawl) score every marked page
out of fold by site (the folds of ``experiments.segmentation_crawl``), and each is read
at the same shares of article lines kept (98%, 98.5%, 99%), over all marked pages and
over the set ``s10-stories`` (pages printing other stories whole).

- ``nobridge``: the densest run of prose bridges no gap.
- ``headline``: headline-like lines (3-20 words, no sentence-ending punctuation, no
  furniture phrase, followed by prose) end the main block instead of being bridged;
  columns: headline-like, headline-like lines between the line and the main block's
  first line, in the densest headline-to-headline segment.
- ``title``: the page's title words (the address's headline slug, percent-decoded, and
  the first line's opening words): the line's share of them (its words weighed by their
  rarity on the page) and of the title's words it holds, each also over five lines, lines
  since the last line holding 30% of the title, the address has a slug.
- ``segment``: story blocks of ``experiments.segmentation_stories`` (a prose line opens a
  block unless it opens with a connective or shares words with the three lines above):
  the block's mean main-story overlap and mean title share, is the title's block,
  distance in blocks from it, after it.
- ``window``: the main-story overlap averaged over the line and two (five) either side.
- ``cohesion``: the share of the line's (rarity-weighed) words found three or more lines away.
- ``connective``: the line opens with a connective ("وقال", "كما", a و- or ف- word), and
  that share over five lines.
- ``noise1``..``noise3``: two columns of random numbers, to show how far the yardstick
  moves on a feature that carries nothing.

``--save DIR`` writes each run's out-of-fold scores; ``--compare DIR BASE VARIANT...``
then gives each variant's difference from BASE with a 95% interval from 500 bootstrap
draws of sites (the threshold re-chosen in every draw); ``--counts`` prints how many
headline-like lines and bridged gaps the marked article pages hold.

    python -m experiments.segmentation_storybounds base nobridge headline title segment
    python -m experiments.segmentation_storybounds --save /tmp/sb base nobridge
    python -m experiments.segmentation_storybounds --compare /tmp/sb base nobridge
    python -m experiments.segmentation_storybounds --counts
"""

import math
import re
import sys
from urllib.parse import unquote, urlsplit

import numpy as np

from classify.corpus import load_corpus
from classify.data import load_labels
from classify.segment import features as F
from classify.segment.model import Page, read_marks, training_pages
from classify.segment.rules import _fold, is_furniture, line_signals
from experiments.segmentation_crawl import SHARES, out_of_fold_scores
_SHIPPED_BLOCK = F._main_block
_FEATURES = Page.features
_COL = F.FEATURE_NAMES.index


def _window(v, k=2):
    return np.array([v[max(0, i - k):i + k + 1].mean() for i in range(len(v))])


def _idf(tokens):
    df = {}
    for t in tokens:
        for w in t:
            df[w] = df.get(w, 0) + 1
    return {w: math.log((len(tokens) + 1) / c) for w, c in df.items()}


def _share(t, ref, idf):
    total = sum(idf[w] for w in t)
    return sum(idf[w] for w in t if w in ref) / total if total else 0.0


def _title_words(lines, url):
    """The address's headline slug (its last part of three or more Arabic words) and the first line's opening."""
    title = set()
    if url:
        parts = urlsplit(url)
        for part in reversed([s for s in (unquote(parts.path) + "/" + unquote(parts.query)).split("/") if s]):
            words = F._tokens(re.sub(r"[-_+.=&]", " ", part))
            if len(words) >= 3:
                title |= words
                break
    slug = bool(title)
    if lines:
        title |= F._tokens(" ".join(re.split(r"\s[|]\s|\s-\s", lines[0])[0].split()[:20]))
    return title, slug


def _title_shares(lines, url):
    tokens = [F._tokens(line) for line in lines]
    idf = _idf(tokens)
    title, slug = _title_words(lines, url)
    share = np.array([_share(t, title, idf) for t in tokens])
    weight = {w: idf.get(w, math.log(len(lines) + 1)) for w in title}
    held = np.array([sum(v for w, v in weight.items() if w in t) / sum(weight.values()) if weight else 0.0
                     for t in tokens])
    return share, held, slug


def _runs(words, rule, hard=None, bridge=True):
    """The run of prose lines holding most words; a one-line gap is bridged unless not ``bridge``,
    a ``hard`` line never."""
    best, span, start, total, gap, last = -1, (0, -1), None, 0, 0, 0
    for i, (n, furniture) in enumerate(zip(words, rule)):
        if hard is not None and hard[i]:
            start = None
            continue
        if not furniture and n >= 8:
            if start is None:
                start, total = i, 0
            total, gap, last = total + n, 0, i
        elif start is not None:
            gap += 1
            if gap > 1 or not bridge:
                start = None
                continue
        if start is not None and total > best:
            best, span = total, (start, last)
    return span


def headline_like(lines):
    """Lines of 3-20 words without sentence-ending punctuation or furniture phrases, followed by prose.

    ("Not furniture by rule" short of the rules' length test, which calls every line of
    at most four words furniture.)
    """
    sig = [line_signals(line) for line in lines]
    return np.array([3 <= s["words"] <= 20 and line.rstrip()[-1:] not in ".!?؟" and not s["strong"]
                     and not s["teaser"] and s["arabic_share"] >= 0.5 and not (s["weak"] and s["words"] <= 10)
                     and i + 1 < len(lines) and sig[i + 1]["words"] >= 8
                     for i, (line, s) in enumerate(zip(lines, sig))], dtype=bool)


def headline_cols(lines, url, X):
    hl = headline_like(lines)
    segment = np.cumsum(hl)
    words = np.expm1(X[:, _COL("log_words")]) * (X[:, _COL("rule_furniture")] == 0)
    densest = int(np.argmax(np.bincount(segment, words * (words >= 8))))
    in_main = X[:, _COL("in_main")] > 0
    first = int(np.argmax(in_main)) if in_main.any() else 0
    upto = np.concatenate([[0], np.cumsum(hl)])
    between = np.array([abs(upto[max(i, first) + 1] - upto[min(i, first) + 1]) for i in range(len(lines))])
    return np.column_stack([hl, np.log1p(between), segment == densest]).astype(float)


def title_cols(lines, url, X):
    share, held, slug = _title_shares(lines, url)
    since, last = [], None
    for i, h in enumerate(held):
        last = i if h >= 0.3 else last
        since.append(math.log1p(i - last if last is not None else len(lines)))
    return np.column_stack([share, _window(share), held, _window(held), since, np.full(len(lines), float(slug))])


def segment_cols(lines, url, X):
    from experiments.segmentation_stories import story_blocks

    ids = story_blocks(lines)[0]
    share = _title_shares(lines, url)[0]
    count = np.bincount(ids)
    overlap = (np.bincount(ids, X[:, _COL("main_overlap")]) / count)[ids]
    title_share = np.bincount(ids, share) / count
    title_block = int(np.argmax(title_share))
    return np.column_stack([overlap, title_share[ids], ids == title_block, np.log1p(np.abs(ids - title_block)),
                            ids > title_block]).astype(float)


def window_cols(lines, url, X):
    overlap = X[:, _COL("main_overlap")]
    return np.column_stack([_window(overlap), _window(overlap, 5)])


def cohesion_cols(lines, url, X):
    tokens = [F._tokens(line) for line in lines]
    idf, where = _idf(tokens), {}
    for i, t in enumerate(tokens):
        for w in t:
            where.setdefault(w, []).append(i)
    far = np.array([_share(t, {w for w in t if any(abs(j - i) >= 3 for j in where[w])}, idf)
                    for i, t in enumerate(tokens)])
    return np.column_stack([far, _window(far)])


def connective_cols(lines, url, X):
    from experiments.segmentation_stories import _CONTINUES

    first = [re.findall(r"\w+", _fold(line))[:1] for line in lines]
    opens = np.array([bool(w) and (w[0] in _CONTINUES or (w[0][0] in "وف" and len(w[0]) > 3)) for w in first],
                     dtype=float)
    return np.column_stack([opens, _window(opens)])


def _noise(seed):
    def cols(lines, url, X):
        rng = np.random.default_rng([seed, len(lines), int(X[:, 0].sum() * 1000)])
        return rng.normal(size=(len(lines), 2))
    return cols


# name: (main block from (lines, words, rule), extra column functions)
VARIANTS = {
    "base": (None, ()),
    "nobridge": (lambda lines, words, rule: _runs(words, rule, bridge=False), ()),
    "headline": (lambda lines, words, rule: _runs(words, rule, hard=headline_like(lines)), (headline_cols,)),
    "title": (None, (title_cols,)),
    "segment": (None, (segment_cols,)),
    "window": (None, (window_cols,)),
    "cohesion": (None, (cohesion_cols,)),
    "connective": (None, (connective_cols,)),
    "nobridge+connective": (lambda lines, words, rule: _runs(words, rule, bridge=False), (connective_cols,)),
    **{f"noise{k}": (None, (_noise(k),)) for k in (1, 2, 3)},
}


def _features(block, extras):
    def features(page, url, crawl=True):
        key = (url, crawl and page.repeats is not None)
        if key not in page._features:
            if block is not None:
                F._main_block = lambda words, rule: block(page.lines, words, rule)
            try:
                X = F.page_features(page.lines, url, page.repeats if key[1] else None)
            finally:
                F._main_block = _SHIPPED_BLOCK
            if extras and page.lines:
                X = np.hstack([X] + [f(page.lines, url, X) for f in extras])
            page._features[key] = X
        return page._features[key]
    return features


def _dropped(s, keep, weight):
    """Furniture dropped at each share of article lines kept (lines weighed by ``weight``)."""
    order = np.argsort(s[keep])
    cum = np.cumsum(weight[keep][order])
    out = []
    for share in SHARES:
        threshold = s[keep][order][min(np.searchsorted(cum, (1 - share) * cum[-1], side="right"), len(order) - 1)]
        out.append((weight[~keep] * (s[~keep] < threshold)).sum() / weight[~keep].sum())
    return np.array(out)


def run(name, marked, extra, stories, save=None):
    block, extras = VARIANTS[name]
    pages = marked + extra
    keep = np.concatenate([p.keep for p in marked])
    in_set = np.concatenate([np.full(len(p.lines), p.doc_id in stories) for p in marked])
    Page.features = _features(block, extras)
    try:
        for p in pages:
            p._features = {}
        for crawl in (False, True):
            s = out_of_fold_scores(marked, pages, crawl)
            part = "crawl" if crawl else "alone"
            if save:
                np.savez(f"{save}/{name}-{part}.npz", s=s, keep=keep,
                         site=np.concatenate([np.full(len(p.lines), p.domain) for p in marked]))
            every = _dropped(s, keep, np.ones(len(s)))
            kept = np.sort(s[keep])
            cuts = [kept[int(np.floor((1 - share) * kept.size))] for share in SHARES]
            of_set = [(s[~keep & in_set] < c).mean() for c in cuts]
            print(f"| {name} | {part} | " + " | ".join(f"{d:.1%}" for d in [*every, *of_set]) + " |", flush=True)
    finally:
        Page.features = _FEATURES
        for p in pages:
            p._features = {}


def compare(folder, base, variants, draws=500):
    """Each variant's difference from ``base`` in furniture dropped, with a 95% interval over sites."""
    print("| variant | part | " + " | ".join(f"difference at {s:.1%} kept [95%]" for s in SHARES) + " |")
    print("|---|---|" + "---:|" * len(SHARES))
    for part in ("alone", "crawl"):
        b = np.load(f"{folder}/{base}-{part}.npz")
        sites = np.unique(b["site"])
        where = [np.flatnonzero(b["site"] == s) for s in sites]
        rng = np.random.default_rng(0)
        weights = []
        for _ in range(draws):
            w = np.zeros(len(b["s"]))
            for j in rng.choice(len(sites), len(sites)):
                w[where[j]] += 1
            weights.append(w)
        for name in variants:
            v = np.load(f"{folder}/{name}-{part}.npz")
            full = _dropped(v["s"], v["keep"], np.ones(len(v["s"]))) - _dropped(b["s"], b["keep"], np.ones(len(b["s"])))
            diff = np.array([_dropped(v["s"], v["keep"], w) - _dropped(b["s"], b["keep"], w) for w in weights])
            lo, hi = np.percentile(diff, [2.5, 97.5], axis=0)
            print(f"| {name} | {part} | " + " | ".join(f"{100 * f:+.1f} [{100 * a:+.1f}, {100 * c:+.1f}]"
                                                      for f, a, c in zip(full, lo, hi)) + " |")


def counts(marked):
    """Headline-like lines and bridged gap lines on the marked pages that are not listings, by mark."""
    found = {"headline-like lines": [0, 0], "of them in the main block": [0, 0],
             "gap lines bridged into the main block": [0, 0], "lines in the main block": [0, 0]}
    for p in marked:
        if F.is_listing_url(p.url) or not p.keep.any():
            continue
        signals = [line_signals(line) for line in p.lines]
        rule = [is_furniture(line, s) for line, s in zip(p.lines, signals)]
        first, last = _SHIPPED_BLOCK([s["words"] for s in signals], rule)
        hl = headline_like(p.lines)
        for i, keep in enumerate(p.keep):
            inside = first <= i <= last
            gap = rule[i] or signals[i]["words"] < 8
            for name, yes in (("headline-like lines", hl[i]), ("of them in the main block", hl[i] and inside),
                              ("gap lines bridged into the main block", inside and gap),
                              ("lines in the main block", inside)):
                found[name][0 if keep else 1] += bool(yes)
    totals = [int(sum(p.keep.sum() for p in marked if not F.is_listing_url(p.url) and p.keep.any())),
              int(sum((~p.keep).sum() for p in marked if not F.is_listing_url(p.url) and p.keep.any()))]
    print(f"| on article pages | article lines (of {totals[0]}) | furniture lines (of {totals[1]}) |\n|---|---:|---:|")
    for name, (a, f) in found.items():
        print(f"| {name} | {a} | {f} |")


def main(argv=None):
    import pandas as pd

    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--compare"]:
        return compare(argv[1], argv[2], argv[3:])
    corpus = load_corpus()
    if argv[:1] == ["--counts"]:
        return counts(read_marks("data/segmentation.csv", corpus))
    save = None
    if argv[:1] == ["--save"]:
        save, argv = argv[1], argv[2:]
    unknown = [n for n in argv if n not in VARIANTS]
    if unknown or not argv:
        raise SystemExit(f"variants: {', '.join(VARIANTS)} (unknown: {', '.join(unknown) or 'none given'})")
    marked, extra = training_pages("data/segmentation.csv", corpus, load_labels("data/labels.csv", corpus))
    sets = pd.read_csv("data/segmentation.csv", dtype=str)
    stories = set(sets.loc[sets["set"] == "s10-stories", "doc_id"])
    print("| variant | part | " + " | ".join(f"dropped at {s:.1%} kept" for s in SHARES) + " | "
          + " | ".join(f"s10-stories at {s:.1%}" for s in SHARES) + " |\n|---|---|" + "---:|" * 2 * len(SHARES))
    for name in argv:
        run(name, marked, extra, stories, save)


if __name__ == "__main__":
    main()
