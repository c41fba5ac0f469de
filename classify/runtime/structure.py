"""Structure the codebook names, as sparse conjunctions a linear model can weigh.

A bag of character n-grams sees "انسحاب" (withdrawal) the same whether it is reported,
denied ("نفت ... انسحاب", rule 3), planned or threatened (rule 10). This block reads each
sentence for a few word families (event cues, a denial, modality, civilians, harm, air
cover, a losing side) and emits one feature per family *and the way it is framed*:
``withdraw@denied``, ``withdraw@modal``, ``withdraw@plain``, ``civilian+harm``, ... .
Words are matched at the start of a word after at most a proclitic, on normalised text.

This module is the block's kernel, with NumPy and SciPy's sparse matrices only;
:class:`classify.features.structure.StructureFeatures` is its scikit-learn step.
"""

import csv
import re
from bisect import bisect_right
from itertools import compress
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from classify.normalise import Memo, normalise

# Families of word starts (normalised spelling is applied below). Event families are
# framed by the sentence they stand in; the others only mark that sentence.
EVENT_FAMILIES = {
    "shell": ("قصف", "غارات", "غارة", "قذائف", "قذيفة", "صواريخ", "صاروخ", "هاون", "مدفعي", "براميل", "بالبراميل",
              "استهدف", "استهدفت", "يستهدف", "تستهدف"),
    "air": ("طيران", "الطيران", "طائرات", "طائرة", "مروحي", "حربي", "غطاء", "جوي", "جوية", "مقاتلات", "قاذفات",
            "مسير", "درون", "التحالف"),
    "advance": ("تقدم", "سيطر", "سيطرة", "اقتحام", "اقتحم", "هجوم", "هاجم", "معارك", "معركة", "اشتباكات", "محور",
                "وصلت", "وصول", "استعاد", "استعادة", "حرر", "تحرير", "دخول", "دخلت", "توغل", "تمكنت", "احكم", "انتزع"),
    "withdraw": ("انسحاب", "انسحب", "تراجع", "اخلاء", "اخلت", "انكفاء", "تقهقر", "فرار", "فروا", "هروب", "هربوا",
                 "خسر", "خسارة", "خسائر", "فقد", "فقدت", "طرد", "دحر", "انهيار", "انهار", "تقلص", "مغادرة", "غادر",
                 "خروج", "اخراج", "ترحيل", "الحافلات", "تسليم"),
    "harm": ("قتل", "مقتل", "قتلى", "قتيل", "استشهد", "شهداء", "شهيد", "اصابة", "اصيب", "اصابات", "جرح", "جرحى",
             "ضحايا", "اعتقال", "اعتقل", "احتجاز", "معتقل", "تعذيب", "اعدام", "نزوح", "نزح", "تهجير", "حصار", "محاصر",
             "جوع", "مجزرة", "مجازر", "دمار", "تدمير", "مفقود", "غرق", "مساعدات", "اغاثة", "الاغاثة", "المعابر",
             "معبر", "لاجئ", "مخيم", "مخيمات"),
}
MARK_FAMILIES = {
    "deny": ("نفى", "نفت", "نفي", "ينفي", "تنفي", "نفيا", "شائعات", "شائعة", "اشاعات", "كذب", "تكذيب",
             "مزاعم", "ادعاءات", "فبركة", "مفبرك", "ملفق", "تضاربت", "تضارب", "اكاذيب", "زائفة", "مضللة"),
    "modal": ("سوف", "يعتزم", "تعتزم", "ينوي", "تنوي", "خطة", "يخطط", "تخطط", "يهدد", "تهدد", "هدد", "تهديد",
              "توعد", "يتوعد", "دعا", "دعت", "طالب", "يطالب", "تطالب", "مطالبة", "يتوقع", "متوقع", "توقع", "تستعد",
              "يستعد", "استعداد", "تحضيرات", "محتمل", "ربما", "يمكن", "تسعى", "يسعى", "مرتقب", "وشيك", "ستشن",
              "سيشن", "ستبدا", "سيبدا", "يجب", "ينبغي", "مهلة", "انذار", "شروط"),
    "civilian": ("مدني", "مدنيين", "مدنيون", "اطفال", "طفل", "نساء", "امراة", "اهالي", "الاهالي", "سكان", "عائلات",
                 "اسر", "مواطنين", "لاجئين", "نازحين", "مهجرين", "المحاصرين", "الابرياء"),
    "from": ("من",),
    "truth": ("صحة", "صحيح", "اساس"),
}
# "صحة" alone is health (وزارة الصحة); after one of these it is a denial: "عدم صحة", "لا اساس".
_NEGATORS = frozenset(normalise(w) for w in ("عدم", "لا", "غير", "بعدم", "وعدم", "ولا", "عارية", "عار"))
_PROCLITICS = ("", "و", "ف", "ب", "ل", "ك", "ال", "بال", "لل", "كال", "وال", "فال", "وب", "ول", "فب", "فل", "ولل",
               "وبال", "س", "وس")
_SENTENCE = re.compile(r"[^.!?؟؛\n]+")
_WORD = re.compile(r"\w+")
# Words and sentence ends in one scan (no word holds an end character).
_TOKEN = re.compile(r"\w+|[.!?؟؛\n]")


#: The word lists a structure block can read with: the codebook's families above, or those
#: families with the words of ``structure_expansion.tsv`` added (nearest neighbours of the
#: family words in skip-gram vectors of the corpus, kept where two readers both judged them
#: family members; see data/ANNOTATION.md, "Structure word families").
LEXICONS = ("codebook", "expanded")
_EXPANSION_FILE = Path(__file__).with_name("structure_expansion.tsv")


def _index(families):
    table = {}
    for family, words in families.items():
        for word in words:
            table.setdefault(normalise(word), set()).add(family)
    return table, sorted({len(w) for w in table})


_TABLE, _LENGTHS = _index({**EVENT_FAMILIES, **MARK_FAMILIES})
_FRAMES = ("plain", "denied", "modal")
FEATURES = tuple([f"{e}@{frame}" for e in EVENT_FAMILIES for frame in _FRAMES] +
                 ["civilian+harm", "harm-civilian", "withdraw+from", "deny", "modal", "deny+advance+withdraw",
                  "air+shell"])
_COLUMN = {name: j for j, name in enumerate(FEATURES)}


def _prefix_index(table):
    """(proclitic + family word) -> families, and the lengths of those keys, ascending."""
    prefixes = {}
    for word, families in table.items():
        for clitic in _PROCLITICS:
            prefixes.setdefault(clitic + word, set()).update(families)
    return {key: frozenset(f) for key, f in prefixes.items()}, sorted({len(key) for key in prefixes})


_ENDS = frozenset(".!?؟؛\n")


class _Lexicon:
    """The (proclitic + family word) -> families table of one word list, and each word's families, remembered."""

    def __init__(self, table):
        self.prefixes, self.lengths = _prefix_index(table)
        # Remembered per word: news vocabulary repeats, and this is the block's inner loop.
        self.memo = Memo(self._find)

    def _find(self, word):
        # A word belongs to a family when, after at most one proclitic, it begins with a family word:
        # when one of its prefixes is a proclitic and a family word. A sentence end is None.
        if word in _ENDS:
            return None
        found = set()
        for n in self.lengths:
            if n > len(word):
                break
            hit = self.prefixes.get(word[:n])
            if hit:
                # "من" (from) only as the whole word: as a prefix it matches half the language.
                found |= hit - {"from"} if n < len(word) else hit
        return frozenset(found)


def _expansion():
    """family -> the added words of ``structure_expansion.tsv`` (columns family, word, ...)."""
    added = {}
    with open(_EXPANSION_FILE, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            if row["family"] not in EVENT_FAMILIES and row["family"] not in MARK_FAMILIES:
                raise ValueError(f"{_EXPANSION_FILE.name}: unknown family {row['family']!r}")
            added.setdefault(row["family"], []).append(row["word"])
    return added


_LEXICON_CACHE = {}


def lexicon(name="codebook"):
    """The word table of one of :data:`LEXICONS`, built once."""
    if name not in _LEXICON_CACHE:
        if name not in LEXICONS:
            raise ValueError(f"unknown structure lexicon {name!r}; expected one of {', '.join(LEXICONS)}")
        table = _TABLE
        if name == "expanded":
            added = _expansion()
            families = {**EVENT_FAMILIES, **MARK_FAMILIES}
            table = _index({f: words + tuple(added.get(f, ())) for f, words in families.items()})[0]
        _LEXICON_CACHE[name] = _Lexicon(table)
    return _LEXICON_CACHE[name]



def _families(word, lexicon_name="codebook"):
    """The families of one word (a frozenset; empty for most words)."""
    return lexicon(lexicon_name).memo[word] or frozenset()


def sentence_features(text, lexicon_name="codebook"):
    """The names of the structure features of one normalised text (a set)."""
    names = set()
    tokens = _TOKEN.findall(text)
    families = list(map(lexicon(lexicon_name).memo.__getitem__, tokens))
    # Only the words of some family count, with their place; most words have none.
    hits = list(compress(range(len(tokens)), families))
    if not hits:
        return names
    ends = list(compress(range(len(tokens)), map(_ENDS.__contains__, tokens)))
    sentence, group = None, []
    for at in hits:
        s = bisect_right(ends, at)
        if s != sentence:
            _read_sentence(group, names)
            sentence, group = s, []
        fams = families[at]
        start = ends[s - 1] + 1 if s else 0
        if "truth" in fams and at > start and tokens[at - 1] in _NEGATORS:  # "عدم صحة": a denial
            fams = fams | {"deny"}
        group.append((at, fams))
    _read_sentence(group, names)
    return names


def _read_sentence(hits, names):
    """Add to ``names`` the features of one sentence, given as (place, families) of its words in some family."""
    if not hits:
        return
    present = frozenset().union(*(fams for _, fams in hits))
    first = {}
    for at, fams in hits:
        for f in fams:
            first.setdefault(f, at)
    for event in EVENT_FAMILIES:
        if event not in present:
            continue
        # Framing by the sentence: a denial before the event word scopes over it (rule 3).
        if "deny" in present and first["deny"] <= first[event]:
            names.add(f"{event}@denied")
        elif "modal" in present:
            names.add(f"{event}@modal")
        else:
            names.add(f"{event}@plain")
    if "harm" in present:
        names.add("civilian+harm" if "civilian" in present else "harm-civilian")
    # A losing side presented (rule 9): the retreat word followed closely (within three words) by "from".
    if "withdraw" in present and any("from" in g for at, f in hits if "withdraw" in f
                                     for to, g in hits if at < to <= at + 3):
        names.add("withdraw+from")
    if "deny" in present:
        names.add("deny")
        if "advance" in present or "withdraw" in present:
            names.add("deny+advance+withdraw")
    if "modal" in present:
        names.add("modal")
    if "air" in present and "shell" in present:
        names.add("air+shell")


def structure_matrix(texts, weight, lexicon_name="codebook"):
    """The block's matrix (CSR, one row per normalised text, one column per :data:`FEATURES`)."""
    rows, cols = [], []
    for i, text in enumerate(texts):
        for name in sentence_features(text, lexicon_name):
            rows.append(i)
            cols.append(_COLUMN[name])
    data = np.full(len(rows), weight, dtype=np.float32)
    return sp.csr_matrix((data, (rows, cols)), shape=(len(texts), len(FEATURES)))
