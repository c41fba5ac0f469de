"""Candidate words for the structure block's families: nearest neighbours in the corpus's vectors.

    python -m experiments.expand_cues --out /tmp/candidates.txt [--corpus DIR] [--per-family 70]

Trains skip-gram vectors on the whole corpus as ``experiments.build_clusters`` does (100
dimensions, normalised text; one thread), then, for each family of
:mod:`classify.runtime.structure`, lists the words of the 60,000 most frequent that no family
matches yet, ranked by their highest cosine to the family's 60 most frequent matched
words (at least 0.55, three characters or more). Each candidate is printed with the words
it would match as a word start and three corpus snippets, for readers to judge: the file
holds corpus text, so it is written outside the repository and never committed. The words
both readers accepted make ``classify/runtime/structure_expansion.tsv`` (see
data/ANNOTATION.md, "Structure word families").
"""

import argparse
import random
import re
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np

from classify.corpus import load_corpus
from classify.normalise import normalise
from classify.runtime import structure

FAMILIES = ("shell", "air", "advance", "withdraw", "harm", "deny", "modal", "civilian")
_TOKEN = re.compile(r"\w+")


def _vectors(articles):
    import fasttext

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "corpus.txt"
        with open(path, "w", encoding="utf-8") as fh:
            for article in articles:
                for line in article.text.splitlines():
                    tokens = _TOKEN.findall(normalise(line))
                    if len(tokens) >= 3:
                        fh.write(" ".join(tokens) + "\n")
        model = fasttext.train_unsupervised(str(path), model="skipgram", dim=100, epoch=5, minCount=5, thread=1,
                                            verbose=0)
    words = [w for w in model.words if not w.isdigit()][:60000]
    X = np.array([model.get_word_vector(w) for w in words], dtype=np.float32)
    return words, X / (np.linalg.norm(X, axis=1, keepdims=True) + 1e-9)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m experiments.expand_cues", description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="the candidates file to write (outside the repository)")
    parser.add_argument("--corpus", default=None)
    parser.add_argument("--per-family", type=int, default=70)
    args = parser.parse_args(argv)

    articles = list(load_corpus(args.corpus).values())
    words, X = _vectors(articles)
    known = [structure._families(w) for w in words]
    candidates = {}
    for family in FAMILIES:
        seeds = [i for i, fams in enumerate(known) if family in fams][:60]
        sim = (X @ X[seeds].T).max(axis=1)
        picked = [words[i] for i in np.argsort(-sim) if not known[i] and len(words[i]) >= 3 and sim[i] >= 0.55]
        candidates[family] = picked[: args.per_family]
    need = {w for c in candidates.values() for w in c}
    snippets = defaultdict(list)
    for article in articles:
        for line in article.text.splitlines():
            tokens = _TOKEN.findall(normalise(line))
            for j, token in enumerate(tokens):
                if token in need and len(snippets[token]) < 40:
                    snippets[token].append(" ".join(tokens[max(0, j - 7): j + 8]))
    rng = random.Random(0)
    with open(args.out, "w", encoding="utf-8") as fh:
        for family in FAMILIES:
            fh.write(f"### family: {family}\n\n")
            for word in sorted(candidates[family]):  # not by similarity: the order hints nothing
                matches = [w for w in words if any(w.startswith(p + word) for p in structure._PROCLITICS)][:6]
                fh.write(f"- {word}    matches: {', '.join(matches)}\n")
                for s in rng.sample(snippets[word], min(3, len(snippets[word]))):
                    fh.write(f"    … {s} …\n")
            fh.write("\n")
    print(f"{sum(map(len, candidates.values()))} candidates -> {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
