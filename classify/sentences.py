"""The sentences of a normalised paragraph, for the sentence features and sentence pooling.

Imports nothing beyond the standard library: a loaded model pools sentences without scikit-learn.
"""

import re

_ENDS = ".!?؟؛"
_SENTENCE = re.compile(rf"[^{_ENDS}\n]+[{_ENDS}]*")
_BREAK = re.compile(rf"[{_ENDS}\n]")
MIN_CHARS = 12


def split_sentences(text):
    """The sentences of a normalised text; fragments shorter than 12 characters join the previous one."""
    return sentence_spans(text)[0]


def is_one_sentence(text):
    """Whether ``split_sentences(text) == [text]`` is sure without splitting: no break but a final run of ends."""
    return text == text.strip() and not _BREAK.search(text.rstrip(_ENDS))


def sentence_spans(text):
    """:func:`split_sentences` and where each sentence stands in ``text`` (``(start, end)`` offsets)."""
    out, spans = [], []
    for m in _SENTENCE.finditer(text):
        piece = m[0].strip()
        if not piece:
            continue
        if out and len(piece) < MIN_CHARS:
            out[-1] += " " + piece
            spans[-1] = (spans[-1][0], m.start() + len(m[0].rstrip()))
        else:
            out.append(piece)
            start = m.start() + len(m[0]) - len(m[0].lstrip())
            spans.append((start, start + len(piece)))
    return (out, spans) if out else ([text], [(0, len(text))])
