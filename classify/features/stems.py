"""Word n-grams over clitic-split, light-stemmed tokens, so "وطردوهم" and "طرد" meet.

Character n-grams already share stems across inflections, but only inside one word;
stems make word bigrams ("طرد عناصر", "انسحاب من") comparable across the clitics and
suffixes that Arabic glues onto words. The stemmer is Snowball's Arabic light stemmer.
"""

import re

from classify.features.tokens import TokenTfidf

_WORD = re.compile(r"\w+")
_STEMMER = None


def _stem(word, cache={}):
    # One stemmer per process and a memo: Snowball in pure Python is the slow part here.
    global _STEMMER
    if word not in cache:
        if _STEMMER is None:
            import snowballstemmer

            _STEMMER = snowballstemmer.stemmer("arabic")
        cache[word] = _STEMMER.stemWord(word) if len(cache) < 500_000 else word
    return cache[word]


def stem_text(text):
    """The space-joined light stems of a normalised text's words."""
    return " ".join(_stem(w) for w in _WORD.findall(text))


class StemWords(TokenTfidf):
    """TF-IDF of word uni- and bigrams over light stems.

    Parameters
    ----------
    ngram_range : tuple of int
    min_df : int
    weight : float
    """

    prefix = "stem"

    def _tokens(self, X):
        return [stem_text(t) for t in X]
