"""Word clusters learned from the whole corpus without labels, as sparse features.

``clusters.tsv.gz`` (built by ``python -m experiments.build_clusters``) maps the corpus'
60,000 most frequent normalised words to 800 clusters of their fastText skip-gram vectors.
A paragraph becomes a bag of cluster ids (and their bigrams), so a verb of retreat never
seen in the labels still fires the cluster of the ones that were. Averaged word vectors
were measured before and did not help: clusters keep the structure that averaging loses.
"""

import gzip
import hashlib
import re
from pathlib import Path

from classify.errors import ClassifyError
from classify.features.tokens import TokenTfidf

TABLE = Path(__file__).with_name("clusters.tsv.gz")
_WORD = re.compile(r"\w+")
_LOADED = {}


def load_table(path=TABLE):
    """``(word -> cluster id, SHA-256 of the file)``, read once per process."""
    path = Path(path)
    if path not in _LOADED:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ClassifyError(f"word cluster table {path} is missing ({exc.strerror}); "
                                "run 'python -m experiments.build_clusters'") from None
        rows = (line.split("\t") for line in gzip.decompress(data).decode("utf-8").splitlines())
        _LOADED[path] = ({w: f"c{c}" for w, c in rows}, hashlib.sha256(data).hexdigest())
    return _LOADED[path]


class ClusterWords(TokenTfidf):
    """TF-IDF of word-cluster uni- and bigrams; words outside the table are skipped.

    The table's hash is saved at fit and checked at transform, so a model never runs
    with clusters other than those it was trained with.

    Parameters
    ----------
    ngram_range : tuple of int
    min_df : int
    weight : float
    """

    prefix = "cluster"

    def _tokens(self, X):
        table, digest = load_table()
        if getattr(self, "table_sha256_", digest) != digest:
            raise ClassifyError("the word cluster table differs from the one this model was trained with")
        self.table_sha256_ = digest
        return [" ".join(table[w] for w in _WORD.findall(t) if w in table) for t in X]
