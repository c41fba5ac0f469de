"""Arabic text normalisation: the steps, and :func:`normalise` applying them in one go.

Each step is a module-level function so that the same code runs at training and
prediction time; :class:`ArabicNormaliser` (defined in :mod:`classify.normaliser`), the
pipeline's first step, switches them on and off, which is what the normalisation ablation
in ``experiments/`` varies. This module imports neither scikit-learn nor NumPy at top
level: :func:`normalise` serves ``import classify`` and a saved model's runtime
(:mod:`classify.runtime`), which predict without scikit-learn.
"""

import functools
import re

# Harakat, superscript alef (U+0670) and Quranic annotation marks.
_DIACRITICS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06e8\u06ea-\u06ed]")
_TATWEEL = "\u0640"
_ALEF = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ٲ": "ا", "ٳ": "ا"})
_ALEF_MAQSURA = str.maketrans({"ى": "ي"})
_TEH_MARBUTA = str.maketrans({"ة": "ه"})
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
# Bidi embeddings/isolates/marks and zero-width characters: invisible, but they split n-grams.
_CONTROLS = re.compile("[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\u00ad]")
_SPACE = re.compile(r"\s+")

# Crawled pages space out punctuation: "بغداد ( رويترز ) - قال ... .", ". . .", "01 : 13".
# Every pattern is linear: a run of white space is only ever scanned from its first
# character ((?<!\s)), never once from each of its characters.
_SPACED_ELLIPSIS = re.compile(r"\.(?: \.)+")
_SPACE_BEFORE = re.compile(r"(?<!\s)\s+([.,،؛;:!?؟)\]}»])")
# The same on text whose only white space is single spaces (white space collapsed): a pattern
# that opens with a literal is found by a fast scan, not tried at every position.
_ONE_SPACE_BEFORE = re.compile(r" ([.,،؛;:!?؟)\]}»])")
_SPACE_AFTER = re.compile(r"([(\[{«])\s+")
_SPACED_DIGIT_SEP = re.compile(r"(?<=\d) ([:/.,]) (?=\d)")
_QUOTED = re.compile(r'"([^"]*)"')


def strip_diacritics(text):
    """Remove harakat, shadda, sukun, superscript alef and Quranic marks."""
    return _DIACRITICS.sub("", text)


def strip_tatweel(text):
    """Remove tatweel (kashida), the letter-stretching character U+0640."""
    return text.replace(_TATWEEL, "")


def unify_alef(text):
    """Map hamzated and madda alef forms (أ إ آ ٱ) to bare alef ا."""
    return text.translate(_ALEF)


def unify_alef_maqsura(text):
    """Map alef maqsura ى to yeh ي, a spelling variant in much news text."""
    return text.translate(_ALEF_MAQSURA)


def unify_teh_marbuta(text):
    """Map teh marbuta ة to heh ه."""
    return text.translate(_TEH_MARBUTA)


def ascii_digits(text):
    """Map Arabic-Indic and Persian digits to ASCII 0-9."""
    return text.translate(_DIGITS)


def strip_controls(text):
    """Remove bidi controls, zero-width characters and soft hyphens."""
    return _CONTROLS.sub("", text)


def unspace_punctuation(text, single_spaced=False):
    """Undo the spaced-out punctuation of crawled text ("قال ( رويترز ) ." -> "قال (رويترز).").

    ``single_spaced``: the text's only white space is single spaces (a faster scan).
    """
    # Each pattern is tried only if a substring it needs is there: a substring test is a
    # fraction of a regex scan, and most paragraphs have no spaced ellipsis, digit pair or quote.
    if ". ." in text:
        text = _SPACED_ELLIPSIS.sub("...", text)
    if " : " in text or " / " in text or " . " in text or " , " in text:
        text = _SPACED_DIGIT_SEP.sub(r"\1", text)
    text = (_ONE_SPACE_BEFORE if single_spaced else _SPACE_BEFORE).sub(r"\1", text)
    if "(" in text or "[" in text or "{" in text or "«" in text:
        text = _SPACE_AFTER.sub(r"\1", text)
    return _QUOTED.sub(_strip_quoted, text) if '"' in text else text


def _strip_quoted(match):
    # str.strip, not a regex with \s* on both sides of a lazy group: that one is quadratic.
    return f'"{match.group(1).strip()}"'


def collapse_whitespace(text):
    """Turn every run of white space into one space and trim the ends."""
    return _SPACE.sub(" ", text).strip()


# Order matters: invisible characters go before anything that matches across them, and
# white space is collapsed before the punctuation patterns, which expect single spaces; in
# this order a second pass changes nothing (normalise is idempotent).
STEPS = (
    ("controls", strip_controls),
    ("diacritics", strip_diacritics),
    ("tatweel", strip_tatweel),
    ("alef", unify_alef),
    ("alef_maqsura", unify_alef_maqsura),
    ("teh_marbuta", unify_teh_marbuta),
    ("digits", ascii_digits),
    ("whitespace", collapse_whitespace),
    ("punctuation", unspace_punctuation),
)


# The first seven steps each map or delete single characters and none makes a character
# another consumes, so together they are one character map: one regex pass instead of
# seven (str.translate with a dict costs a dict lookup per character, matched or not).
_CHARACTER_STEPS = {
    "controls": dict.fromkeys("\u061c\u00ad\ufeff" + "".join(map(chr, [*range(0x200b, 0x2010), *range(0x202a, 0x202f),
                                                                   *range(0x2060, 0x206a)])), ""),
    "diacritics": dict.fromkeys("".join(map(chr, [*range(0x0610, 0x061b), *range(0x064b, 0x0660), 0x0670,
                                                  *range(0x06d6, 0x06dd), *range(0x06df, 0x06e9),
                                                  *range(0x06ea, 0x06ee)])), ""),
    "tatweel": {_TATWEEL: ""},
    "alef": {chr(k): v for k, v in _ALEF.items()},
    "alef_maqsura": {chr(k): v for k, v in _ALEF_MAQSURA.items()},
    "teh_marbuta": {chr(k): v for k, v in _TEH_MARBUTA.items()},
    "digits": {chr(k): chr(v) for k, v in _DIGITS.items()},
}
_MAPPERS = {}


def _character_mapper(enabled):
    """One ``str -> str`` function applying the enabled character steps at once (cached)."""
    if enabled not in _MAPPERS:
        table = {k: v for name in enabled for k, v in _CHARACTER_STEPS[name].items()}
        pattern = re.compile("[" + "".join(map(re.escape, table)) + "]") if table else None
        _MAPPERS[enabled] = (lambda text: pattern.sub(lambda m: table[m[0]], text)) if pattern else (lambda text: text)
    return _MAPPERS[enabled]


class Memo(dict):
    """``memo[key]`` is ``func(key)``, computed once; it forgets everything at ``size`` keys (bounded memory)."""

    def __init__(self, func, size=1 << 18):
        super().__init__()
        self.func, self.size = func, size

    def __missing__(self, key):
        if len(self) >= self.size:
            self.clear()
        value = self[key] = self.func(key)
        return value


_NORMALISERS = {}


def normaliser(**switches):
    """:func:`normalise` with these switches, as a one-argument function (faster on many texts).

    Parameters
    ----------
    **switches : bool
        As for :func:`normalise`.

    Returns
    -------
    callable
        ``str -> str``.
    """
    on = tuple(_switched_on(switches))
    if on not in _NORMALISERS:
        _NORMALISERS[on] = _build_normaliser(on)
    return _NORMALISERS[on]


def _build_normaliser(on):
    mapper = _character_mapper(tuple(n for n in on if n in _CHARACTER_STEPS))
    rest = [step for name, step in STEPS if name in on and name not in _CHARACTER_STEPS]
    if "whitespace" in on:
        # The character steps map each character alone and never make or remove white space,
        # so with white space collapsed they map each word alone: once per distinct word,
        # remembered. A word they delete entirely (an invisible mark alone) leaves no gap.
        rest.remove(collapse_whitespace)
        if unspace_punctuation in rest:  # what comes out of first() is single-spaced; the punctuation keeps it so
            rest[rest.index(unspace_punctuation)] = functools.partial(unspace_punctuation, single_spaced=True)
        word = Memo(mapper).__getitem__

        def first(text):
            return " ".join(filter(None, map(word, text.split())))
    else:
        first = mapper

    def run(text):
        text = first(text)
        for step in rest:
            text = step(text)
        return text

    return run


def normalise(text, **switches):
    """Normalise one text.

    Parameters
    ----------
    text : str
        Any text; non-Arabic text passes through the Arabic-specific steps unchanged.
    **switches : bool
        One keyword per step name in :data:`STEPS`, ``True`` to apply it. Steps not
        named are on, except ``teh_marbuta``, which is off by default.

    Returns
    -------
    str
    """
    return normaliser(**switches)(text)


def _switched_on(switches):
    return [name for name, _ in STEPS if switches.get(name, name != "teh_marbuta")]


def _sub_with_offsets(pattern, build, text, offsets):
    """``pattern.sub`` over ``text`` carrying each character's offset along.

    ``build(match)`` gives the replacement as (character, index in ``text``) pairs; the
    replacement character takes the offset of that index.
    """
    chars, offs, last = [], [], 0
    for m in pattern.finditer(text):
        chars.append(text[last:m.start()])
        offs.extend(offsets[last:m.start()])
        for char, at in build(m):
            chars.append(char)
            offs.append(offsets[at])
        last = m.end()
    chars.append(text[last:])
    offs.extend(offsets[last:])
    return "".join(chars), offs


def _group(m):
    return [(m.group(1), m.start(1))]


def _dots(m):
    # ". . ." (any number of dots, two or more) -> "...": the dots keep their own offsets.
    at = list(range(m.start(), m.end(), 2))
    return [(".", at[min(k, len(at) - 1)]) for k in range(3)]


def _quoted(m):
    inner = m.group(1)
    first = m.start(1) + len(inner) - len(inner.lstrip())
    return [('"', m.start()), *((c, first + k) for k, c in enumerate(inner.strip())), ('"', m.end() - 1)]


def normalise_with_offsets(text, **switches):
    """Normalise one text and say where each character of the result came from.

    Parameters
    ----------
    text : str
    **switches : bool
        As for :func:`normalise`.

    Returns
    -------
    normalised : str
        Exactly ``normalise(text, **switches)``.
    offsets : ndarray of int64, shape (len(normalised),)
        ``offsets[i]`` is the index in ``text`` of the character that became ``normalised[i]``
        (for a run of white space collapsed to one space, its first character; for a
        spaced-out ellipsis, its dots).
    """
    import numpy as np

    on = _switched_on(switches)
    table = {k: v for name in on if name in _CHARACTER_STEPS for k, v in _CHARACTER_STEPS[name].items()}
    chars, offs = [], []
    for i, c in enumerate(text):
        mapped = table.get(c, c)
        if mapped:  # every character step maps a character to one character or to none
            chars.append(mapped)
            offs.append(i)
    text = "".join(chars)
    for name, _ in STEPS:
        if name not in on or name in _CHARACTER_STEPS:
            continue
        if name == "whitespace":
            text, offs = _sub_with_offsets(_SPACE, lambda m: [(" ", m.start())], text, offs)
            lead, trail = len(text) - len(text.lstrip()), len(text) - len(text.rstrip())
            text, offs = text[lead:len(text) - trail], offs[lead:len(offs) - trail]
        elif name == "punctuation":
            text, offs = _sub_with_offsets(_SPACED_ELLIPSIS, _dots, text, offs)
            text, offs = _sub_with_offsets(_SPACED_DIGIT_SEP, _group, text, offs)
            text, offs = _sub_with_offsets(_SPACE_BEFORE, _group, text, offs)
            text, offs = _sub_with_offsets(_SPACE_AFTER, _group, text, offs)
            text, offs = _sub_with_offsets(_QUOTED, _quoted, text, offs)
        else:  # a step added to STEPS must say how it moves characters
            raise NotImplementedError(f"normalise_with_offsets does not know the step {name!r}")
    return text, np.asarray(offs, dtype=np.int64)


def __getattr__(name):
    # The scikit-learn step, imported when asked for: model files saved before it moved name it
    # classify.normalise.ArabicNormaliser (skops resolves that name here).
    if name == "ArabicNormaliser":
        from classify.normaliser import ArabicNormaliser

        return ArabicNormaliser
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
