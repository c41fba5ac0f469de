"""Word clusters learned from the whole corpus, without labels: the resource of the cluster block.

    python -m experiments.build_clusters [--corpus DIR] [--k 800] [--out classify/features/clusters.tsv.gz]

fastText skip-gram vectors (100 dimensions) are trained on every article of
``../shared/corpus`` after the package's normalisation, and the most frequent words
are grouped by k-means on their unit vectors. Only the word -> cluster table is kept
(no text), so an unseen verb of retreat lands in the cluster of the ones it resembles.
"""

import argparse
import gzip
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from classify.corpus import load_corpus
from classify.normalise import normalise

ROOT = Path(__file__).resolve().parents[1]
_TOKEN = re.compile(r"\w+")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m experiments.build_clusters", description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default=None)
    parser.add_argument("--k", type=int, default=800, help="number of clusters")
    parser.add_argument("--words", type=int, default=60000, help="most frequent words clustered")
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--out", default=str(ROOT / "classify" / "features" / "clusters.tsv.gz"))
    args = parser.parse_args(argv)

    import fasttext
    from sklearn.cluster import MiniBatchKMeans

    t0 = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        text_path = Path(tmp) / "corpus.txt"
        with open(text_path, "w", encoding="utf-8") as fh:
            for article in load_corpus(args.corpus).values():
                for line in article.text.splitlines():
                    tokens = _TOKEN.findall(normalise(line))
                    if len(tokens) >= 3:
                        fh.write(" ".join(tokens) + "\n")
        vectors = fasttext.train_unsupervised(str(text_path), model="skipgram", dim=100, epoch=5,
                                              minCount=args.min_count, thread=os.cpu_count() or 1, verbose=0)
    words = [w for w in vectors.words if not w.isdigit()][: args.words]
    X = np.array([vectors.get_word_vector(w) for w in words], dtype=np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True) + 1e-9
    labels = MiniBatchKMeans(n_clusters=args.k, random_state=0, n_init=3, batch_size=4096).fit_predict(X)
    lines = [f"{w}\t{c}\n" for w, c in zip(words, labels)]

    out = Path(args.out)
    part = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    part.write_bytes(gzip.compress("".join(lines).encode("utf-8"), mtime=0))
    os.replace(part, out)  # a killed build leaves the previous table whole
    print(f"{len(words)} words in {args.k} clusters -> {args.out} ({time.time() - t0:.0f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
