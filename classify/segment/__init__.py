"""Article text -> paragraphs with code-point offsets, page furniture dropped.

A paragraph is a line of the source (blank lines and line breaks both separate
paragraphs, as the codebook defines the unit). Each line of a page is judged with the
page around it by a learned line model (:mod:`classify.segment.model`, features in
:mod:`classify.segment.features`), which takes the line rules of
:mod:`classify.segment.rules` as some of its features; without the shipped model file
the rules decide alone.
"""

from classify.segment.model import load_line_model
from classify.segment.rules import Paragraph, is_furniture, segment_by_rules, split_lines

__all__ = ["Paragraph", "is_furniture", "segment", "segment_by_rules", "split_lines"]


def segment(text, url=None, model=None):
    """Split an article into its paragraphs, dropping page furniture.

    Parameters
    ----------
    text : str
        The article's full text, lines separated by line breaks.
    url : str, optional
        The page's address, when known: listing pages (tag, section, search, archive
        pages, all furniture under the codebook) often say so there.
    model : LineModel, optional
        The line model to judge with; the shipped one by default.

    Returns
    -------
    list of Paragraph
        In order of appearance; ``text[p.start:p.end] == p.text`` for each, with
        surrounding white space trimmed.
    """
    model = model or load_line_model()
    if model is None:
        return segment_by_rules(text)
    lines = split_lines(text)
    if not lines:
        return []
    keep = model.keep([p.text for p in lines], url)
    return [p for p, k in zip(lines, keep) if k]
