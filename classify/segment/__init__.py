"""Article text -> paragraphs with code-point offsets, page furniture dropped.

A paragraph is a line of the source (blank lines and line breaks both separate
paragraphs, as the codebook defines the unit). Each line of a page is judged with the
page around it by a learned line model (:mod:`classify.segment.model`, features in
:mod:`classify.segment.features`), which takes the line rules of
:mod:`classify.segment.rules` as some of its features; without the shipped model file
the rules decide alone. Given the counts of a crawl's lines
(:class:`~classify.segment.repeats.LineCounts`), it also knows which lines the site
prints on its other pages.
"""

from classify.segment.model import load_line_model
from classify.segment.repeats import LineCounts, site_of
from classify.segment.rules import Paragraph, is_furniture, segment_by_rules, split_lines

__all__ = ["LineCounts", "Paragraph", "is_furniture", "segment", "segment_by_rules", "split_lines"]


def segment(text, url=None, model=None, counts=None, site=None):
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
    counts : LineCounts, optional
        The lines of the crawl this page belongs to, this page among them: a line the
        site prints on many pages is a template or another story.
    site : str, optional
        The page's site, as the counts know it (default: the host of ``url``).

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
    texts = [p.text for p in lines]
    repeats = None if counts is None else counts.features(texts, site or site_of(url))
    keep = model.keep(texts, url, repeats=repeats)
    return [p for p, k in zip(lines, keep) if k]
