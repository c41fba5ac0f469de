"""Word clusters learned from the whole corpus without labels, as sparse features.

``clusters.tsv.gz`` (built by ``python -m experiments.build_clusters``) maps the corpus'
60,000 most frequent normalised words to 800 clusters of their fastText skip-gram vectors.
A paragraph becomes a bag of cluster ids and cluster bigrams, so a verb of retreat never
seen in the labels still fires the cluster of the ones that were. Averaged word vectors
were measured before and did not help: clusters keep the structure that averaging loses.

The block is TF-IDF over those ids exactly as scikit-learn's ``TfidfVectorizer`` computes it
over the ids written as words (a test holds the two equal), but with the vocabulary kept as
two numpy arrays and n-grams as integers: it loads in no time and needs no string per n-gram.

This module is the block's kernel, with NumPy and SciPy's sparse matrices only;
:class:`classify.features.clusters.ClusterWords` is its scikit-learn step.
"""

import gzip
import hashlib
import re
from itertools import chain
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from classify.errors import ClassifyError
from classify.normalise import Memo
from classify.runtime.char import normalize_rows

TABLE = Path(__file__).parent.parent / "features" / "clusters.tsv.gz"
_WORD = re.compile(r"\w+")
_LOADED = {}


def load_table(path=TABLE):
    """``(word -> cluster number, number of clusters, SHA-256 of the file)``, read once per process."""
    path = Path(path)
    if path not in _LOADED:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ClassifyError(f"word cluster table {path} is missing ({exc.strerror}); "
                                "run 'python -m experiments.build_clusters'") from None
        table = _parse_table(gzip.decompress(data).decode("utf-8"))
        _LOADED[path] = (table, max(table.values()) + 1, hashlib.sha256(data).hexdigest())
    return _LOADED[path]


# A well-formed table: lines of a word (no tab, no line break) and a number, split at \n only.
_WELL_FORMED = re.compile(r"(?:[^\t\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]*\t[0-9]+\n)*")


def _parse_table(text):
    """``word -> cluster number`` of the table's text (``word<TAB>number`` lines)."""
    if text.endswith("\n") and _WELL_FORMED.fullmatch(text):
        # One split for the whole table, about five times as fast as one per line (load_model time).
        flat = text[:-1].replace("\n", "\t").split("\t")
        return dict(zip(flat[0::2], map(int, flat[1::2])))
    rows = [line.split("\t") for line in text.splitlines()]
    return {w: int(c) for w, c in rows}


def cluster_tokens(text, table=None):
    """The cluster numbers of a normalised text's words, in order; words outside the table are skipped."""
    table = table if table is not None else load_table()[0]
    return [c for c in map(table.get, _WORD.findall(text)) if c is not None]


def check_table(digest):
    """The cluster table, if its SHA-256 is ``digest`` (the one a model was trained with)."""
    table, k, found = load_table()
    if found != digest:
        raise ClassifyError("the word cluster table differs from the one this model was trained with")
    return table, k


def _ids_of_words(table):
    """A memo: white-space token -> the cluster numbers of its words (``\\w+`` never spans white space)."""
    if id(table) not in _MEMOS:
        # The memo holds the table, so its id is not reused while the memo lives.
        _MEMOS[id(table)] = Memo(lambda token: tuple(c for c in map(table.get, _WORD.findall(token)) if c is not None))
    return _MEMOS[id(table)].__getitem__


_MEMOS = {}


def cluster_grams(texts, table, k, bigrams=True):
    """(row, n-gram id) pairs of every cluster n-gram of normalised ``texts``; bigram (a, b) is k + a * k + b.

    Words outside the table are skipped, so a bigram joins the known words on either side of them.
    """
    ids_of = _ids_of_words(table)
    per_text = [tuple(chain.from_iterable(map(ids_of, text.split()))) for text in texts]
    lengths = np.fromiter(map(len, per_text), dtype=np.int64, count=len(per_text))
    ids = np.fromiter(chain.from_iterable(per_text), dtype=np.int64, count=lengths.sum())
    rows = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
    if not bigrams:
        return rows, ids
    pair = rows[1:] == rows[:-1]  # neighbours in one text
    return np.concatenate([rows, rows[1:][pair]]), np.concatenate([ids, k + ids[:-1][pair] * k + ids[1:][pair]])


def cluster_matrix(texts, table, k, grams, columns, idf, bigrams=True, weight=1.0):
    """TF-IDF (sublinear tf, l2 rows, times ``weight``) of the cluster n-grams of normalised ``texts``.

    ``grams`` are the vocabulary's n-gram ids, sorted; ``columns`` the column of each and
    ``idf`` the idf of each column.
    """
    rows, ids = cluster_grams(texts, table, k, bigrams)
    at = np.searchsorted(grams, ids)
    known = (at < len(grams)) & (grams[np.minimum(at, len(grams) - 1)] == ids)
    cols = columns[at[known]]
    counts = sp.csr_matrix((np.ones(known.sum(), np.float32), (rows[known], cols)), shape=(len(texts), len(columns)))
    counts.sum_duplicates()
    counts.data = np.log(counts.data) + 1  # sublinear tf, as TfidfVectorizer(sublinear_tf=True)
    counts.data *= idf[counts.indices]
    out = normalize_rows(counts, "l2")
    return out * weight if weight != 1.0 else out
