"""Story segmentation of a page as line-model signals: measured by site, not kept.

Most furniture the line model keeps on article pages is the text of other stories that
a sidebar prints whole, in prose lines that read like the article. This cuts each page
into story blocks and gives every line its block's features; the line model itself is
untouched, the columns are appended to its features for the run.

- **Blocks.** A prose line (8 words or more, not furniture by the rules) starts a new
  block unless it opens with a connective ("وقال", "كما", ...) or shares words (set
  cosine >= 0.1) with the three lines above it; a run of non-prose lines is a block.
- **The page's own story.** The block sharing most words with the headline words of the
  page's address (``/2017/12/09/عون-الى-تركيا-...``), else the first prose block.
- **Block features.** Starts a block, block length, the line's cohesion with the lines
  above, the block's share of the address's headline words, its similarity to the story
  block (words weighed by their rarity on the page), is the story block, distance in
  blocks from it, after it, is the first prose block, the address has headline words;
  two interactions (after the story and unlike it; off the headline on a page whose
  address has one) and the number of blocks on the page.
- **Block scores** (second stage): the mean first-stage score of the line's block, and
  the main block by first-stage scores (most article words), the distance to it and
  whether the line is after it.

Every row is out of fold by site on the marked pages plus the labelled pages, the same
folds as ``experiments.segmentation_ablation``. Prints a Markdown table. With
``--in-sample``, fits once on every page instead and counts the furniture lines still
kept, in all and on the pages given (those whose sidebars print other stories whole).

    python -m experiments.segmentation_stories
    python -m experiments.segmentation_stories --in-sample ufc-V-436-05 ufc-R-565-06 ufc-V-702-06
"""

import math
import re
from urllib.parse import unquote, urlsplit

import numpy as np

from classify.corpus import load_corpus
from classify.data import load_labels
from classify.segment import model as line_model
from classify.segment.features import FEATURE_NAMES, _tokens, is_listing_url
from classify.segment.model import Page, fit, out_of_fold, training_pages
from classify.segment.rules import _fold, is_furniture, line_signals

_CONTINUES = frozenset(_fold(w) for w in (
    "و", "وفي", "كما", "وقال", "وقالت", "وقد", "وأضاف", "وأضافت", "وكان", "وكانت", "ومن", "لكن", "ولكن", "أما",
    "وأشار", "وأشارت", "وبعد", "ولم", "وأكد", "وأكدت", "وأوضح", "وأوضحت", "وعلى", "إلا", "وذكرت", "وذكر", "ولا",
    "ومع", "وهذا", "وهذه", "ونقلت", "حيث", "وجاء", "وأفاد", "وأفادت", "وتابع", "وتابعت", "كذلك", "فقد", "ورغم",
    "ثم", "وأعلن", "وأعلنت", "وتم", "وهو", "وهي", "بدوره", "بدورها", "فيما", "وفيما", "وشدد", "ولفت", "واعتبر",
    "وبين", "وبحسب", "وحسب", "وأردف", "ويأتي", "وتأتي", "فإن", "إذ", "وإذ", "بينما", "غير", "ويذكر", "يذكر"))
_FIRST_WORD = re.compile(r"\w+")
COHESION, COHESION_LINES = 0.1, 3
BLOCK_FEATURES = ("starts_block", "block_log_lines", "cohesion", "block_headline_share", "story_similarity",
                  "story_block", "log_blocks_from_story", "after_story", "first_prose_block", "url_headline",
                  "other_story", "off_headline", "page_log_blocks")
HEADLINE = [BLOCK_FEATURES.index(n) for n in ("block_headline_share", "url_headline", "off_headline")]
_LOG_WORDS = FEATURE_NAMES.index("log_words")


def _cosine(a, b):
    return len(a & b) / math.sqrt(len(a) * len(b)) if a and b else 0.0


def _headline_words(url):
    if not url:
        return set()
    parts = urlsplit(url)
    return _tokens(re.sub(r"[-_+/.=&]", " ", unquote(parts.path + " " + parts.query)))


def story_blocks(lines):
    """Block index of each line, and each line's cohesion with the lines above it."""
    tokens = [_tokens(line) for line in lines]
    prose = [s["words"] >= 8 and not is_furniture(line, s) for line, s in ((ln, line_signals(ln)) for ln in lines)]
    ids, cohesion = [], []
    for i, line in enumerate(lines):
        cohesion.append(_cosine(tokens[i], set().union(*tokens[max(0, i - COHESION_LINES):i])))
        first = _FIRST_WORD.search(_fold(line))
        continues = bool(first) and first.group() in _CONTINUES
        new = i == 0 or prose[i] != prose[i - 1] or (prose[i] and not continues and cohesion[i] < COHESION)
        ids.append(ids[-1] + new if ids else 0)
    return np.array(ids), np.array(cohesion), tokens, prose


def block_features(lines, url):
    """One row of :data:`BLOCK_FEATURES` per line."""
    ids, cohesion, tokens, prose = story_blocks(lines)
    headline = _headline_words(url)
    words, df = {}, {}
    for b, t in zip(ids, tokens):
        words.setdefault(b, set()).update(t)
        for w in t:
            df[w] = df.get(w, 0) + 1
    # Words common on the page (the site's name, "said") tie no two stories together: weigh by rarity.
    idf2 = {w: math.log((len(lines) + 1) / c) ** 2 for w, c in df.items()}

    def similarity(a, b):
        norm = math.sqrt(sum(idf2[w] for w in a) * sum(idf2[w] for w in b))
        return sum(idf2[w] for w in a & b) / norm if norm else 0.0

    first = next((b for b, p in zip(ids, prose) if p), 0)
    share = {b: len(w & headline) / max(len(headline), 1) for b, w in words.items()}
    has_headline = len(headline) >= 3 and max(share.values()) > 0
    story = max(words, key=lambda b: (share[b], -b)) if has_headline else first
    rows = np.array([[float(i == 0 or ids[i - 1] != b), math.log1p(int((ids == b).sum())), cohesion[i], share[b],
                      similarity(words[b], words[story]), float(b == story), math.log1p(abs(b - story)),
                      float(b > story), float(b == first), float(len(headline) >= 3)]
                     for i, b in enumerate(ids)], dtype=float).reshape(-1, 10)
    other = rows[:, 7] * (1 - rows[:, 4])
    off_headline = rows[:, 9] * (1 - rows[:, 3] / max(rows[:, 3].max(initial=0), 1e-9)) * (1 - rows[:, 5])
    return np.column_stack([rows, other, off_headline, np.full(len(rows), math.log1p(ids.max(initial=0) + 1))])


def block_scores(X, logit):
    """The second stage's extra columns: the block's mean first-stage score and the main block by scores."""
    starts = X[:, len(FEATURE_NAMES) + BLOCK_FEATURES.index("starts_block")]
    ids = np.cumsum(starts > 0)
    ids -= ids[0]
    mean = np.bincount(ids, logit) / np.bincount(ids)
    main = int(np.argmax(np.bincount(ids, np.expm1(X[:, _LOG_WORDS]) / (1 + np.exp(-logit)))))
    return [mean[ids], (ids == main).astype(float), np.log1p(np.abs(ids - main)), (ids > main).astype(float)]


def _score(marked, kept):
    keep = np.concatenate([p.keep for p in marked])
    k = np.concatenate(kept[:len(marked)])
    on_articles = np.concatenate([np.full(len(p.lines), p.keep.any() and not is_listing_url(p.url)) for p in marked])
    return k[keep].mean(), 1 - k[~keep].mean(), 1 - k[~keep & on_articles].mean()


def run(pages, marked, columns=None, scores=False, in_sample=False):
    """Out-of-fold decisions with the block features (``columns`` of them; None: none) and block scores.

    With ``in_sample``, one model fitted on every page: furniture lines it keeps, in all and per marked page.
    """
    original, context = Page.features, line_model._with_context

    def features(page, url, crawl=True):
        X = original(page, url, crawl)
        if columns is None:
            return X
        extra = block_features(page.lines, url)[:, columns] if page.lines else np.zeros((0, len(columns)))
        return np.hstack([X, extra])

    def with_context(X, logit):
        return np.column_stack([context(X, logit), *block_scores(X, logit)]) if len(logit) else context(X, logit)

    Page.features = features
    line_model._with_context = with_context if scores else context
    try:
        if in_sample:
            model = fit(pages)
            kept = {p.doc_id: int((model.keep(p.lines, features=p.features(p.url)) & ~p.keep).sum()) for p in marked}
            return sum(kept.values()), kept
        return _score(marked, out_of_fold(pages))
    finally:
        Page.features, line_model._with_context = original, context


def main(argv=None):
    import sys

    argv = sys.argv[1:] if argv is None else argv
    corpus = load_corpus()
    table = load_labels("data/labels.csv", corpus)
    marked, extra = training_pages("data/segmentation.csv", corpus, table)
    everything = list(range(len(BLOCK_FEATURES)))
    if argv[:1] == ["--in-sample"]:
        for name, columns in (("the shipped signals", None), ("+ story blocks", everything)):
            total, kept = run(marked + extra, marked, columns, in_sample=True)
            print(f"{name}, fitted on every page: {total} furniture lines kept; "
                  + ", ".join(f"{d}: {kept.get(d, 'not a marked page')}" for d in argv[1:]))
        return
    rows = [("the shipped signals", run(marked + extra, marked)),
            ("+ story blocks (all block features)", run(marked + extra, marked, everything)),
            ("+ story blocks and block scores in the second stage", run(marked + extra, marked, everything, True)),
            ("+ the address's headline words only (share, has one, off it)", run(marked + extra, marked, HEADLINE))]
    print("| line model | article lines kept | furniture lines dropped | furniture dropped on article pages |\n"
          "|---|---:|---:|---:|")
    for name, (kept, dropped, on_articles) in rows:
        print(f"| {name} | {kept:.1%} | {dropped:.1%} | {on_articles:.1%} |")


if __name__ == "__main__":
    main()
