"""How well the segmenter keeps article lines and drops furniture, on sites it never saw.

Every figure is out of fold, the folds grouped by site (domain): a page is judged by a
line model fitted without any page of its site, with a threshold chosen without it too.
The line rules alone are scored on the same pages for comparison.
"""

from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from classify.segment.features import is_listing_url
from classify.segment.model import KEEP_TARGET, Page, add_repeats, corpus_counts, out_of_fold, read_marks, \
    training_pages
from classify.segment.rules import segment_by_rules, split_lines


@dataclass
class Tally:
    """Kept article (and mixed) lines and dropped furniture lines, counted."""

    article: int = 0
    article_kept: int = 0
    furniture: int = 0
    furniture_dropped: int = 0
    pages: int = 0

    def add(self, keep, kept):
        self.pages += 1
        self.article += int(keep.sum())
        self.article_kept += int((kept & keep).sum())
        self.furniture += int((~keep).sum())
        self.furniture_dropped += int((~kept & ~keep).sum())

    @property
    def kept_share(self):
        return self.article_kept / max(self.article, 1)

    @property
    def dropped_share(self):
        return self.furniture_dropped / max(self.furniture, 1)


def _labels_csv_pages(table, corpus):
    # Every page with a labelled paragraph; ``keep`` says whether the paragraph has a label.
    pages = []
    for doc_id, rows in table.groupby("doc_id", sort=False):
        article = corpus[doc_id]
        lines = split_lines(article.text)
        spans = {(r.start, r.end): bool(r.labels) for r in rows.itertuples()}
        known = np.array([(p.start, p.end) in spans for p in lines])
        labelled = np.array([spans.get((p.start, p.end), False) for p in lines])
        pages.append(Page(doc_id, str(article.meta.get("domain") or doc_id), article.meta.get("url"),
                          [p.text for p in lines], labelled, known))
    return pages


def cross_validate(marks_path, corpus, table=None, C=0.1, n_splits=5, target=KEEP_TARGET, blind=False, crawl=True):
    """Out-of-fold scores of the line model (and of the rules) by page set and by site.

    Parameters
    ----------
    marks_path : str or Path
        Marked page lines (``data/segmentation.csv``).
    corpus : dict of str to Article
    table : pandas.DataFrame, optional
        ``data/labels.csv`` as loaded: its UnifiedFC pages join the training pages (their
        labelled paragraphs as article lines), and every labelled paragraph is scored.
    blind : bool
        Judge every page without its address (as an article given alone, a ``.txt``).
    crawl : bool
        Judge every page with its lines' counts over the corpus, its crawl (as ``predict
        --segment`` does over a file of pages); without, each page is judged alone.

    Returns
    -------
    dict
        ``sets`` and ``domains``: name -> (model Tally, rules Tally); ``labelled``: counts
        of labelled paragraphs kept (all, with a label, and on pages not named listings).
    """
    counts = corpus_counts(corpus)
    if table is None:
        marked, extra = read_marks(marks_path, corpus), []
        add_repeats(marked, corpus, counts)
    else:
        marked, extra = training_pages(marks_path, corpus, table, counts)
    sets = {p.doc_id: s for p, s in zip(marked, _page_sets(marks_path))}
    scored = _labels_csv_pages(table, corpus) if table is not None else []
    add_repeats(scored, corpus, counts)
    kept = out_of_fold(marked + extra, score_only=scored, C=C, n_splits=n_splits, target=target, blind=blind,
                       crawl=crawl)
    by_set, by_domain = defaultdict(lambda: (Tally(), Tally())), defaultdict(lambda: (Tally(), Tally()))
    for page, k in zip(marked, kept):
        text = corpus[page.doc_id].text
        by_rules = {p.start for p in segment_by_rules(text)}
        rules = np.array([p.start in by_rules for p in split_lines(text)])
        for key, table_ in ((sets[page.doc_id], by_set), ("all pages", by_set), (page.domain, by_domain)):
            table_[key][0].add(page.keep, k)
            table_[key][1].add(page.keep, rules)
    labelled = defaultdict(int)
    for page, k in zip(scored, kept[len(marked) + len(extra):]):
        listing = is_listing_url(page.url)
        for is_kept, has_label in zip(k[page.known], page.keep[page.known]):
            for name, counts in (("all", True), ("with a label", has_label), ("not on a listing page", not listing),
                                 ("with a label, not on a listing page", has_label and not listing)):
                if counts:
                    labelled[name] += 1
                    labelled[name + " kept"] += int(is_kept)
    return {"sets": dict(by_set), "domains": dict(by_domain), "labelled": dict(labelled),
            "pages": len(marked), "training_pages": len(marked) + len(extra), "blind": blind, "crawl": crawl}


def _page_sets(marks_path):
    import io

    import pandas as pd

    from classify.data import read_text

    marks = pd.read_csv(io.StringIO(read_text(marks_path)), dtype=str)
    return marks.groupby("doc_id", sort=False)["set"].first().tolist()


def _row(name, model, rules):
    return (f"| {name} | {model.pages} | {model.kept_share:.1%} of {model.article} | {model.dropped_share:.1%} of "
            f"{model.furniture} | {rules.kept_share:.1%} | {rules.dropped_share:.1%} |")


def report(result):
    """The cross-validation result as Markdown: page sets, labelled paragraphs, sites."""
    head = ("| pages | n | article lines kept | furniture lines dropped | rules: kept | rules: dropped |\n"
            "|---|---:|---:|---:|---:|---:|")
    lines = ["Line model, out of fold by site (no page's site was trained on), against the line rules alone; "
             + ("pages judged without their addresses" if result.get("blind")
                else "pages judged with their addresses")
             + (", with their lines' counts over the corpus as their crawl." if result.get("crawl")
                else ", each alone (no crawl's counts)."),
             "", head]
    for name, (model, rules) in result["sets"].items():
        lines.append(_row(name, model, rules))
    lab = result["labelled"]
    if lab:
        lines += ["", "Labelled paragraphs of data/labels.csv kept (out of fold by site):", ""]
        for name in ("all", "with a label", "not on a listing page", "with a label, not on a listing page"):
            lines.append(f"- {name}: {lab[name + ' kept'] / lab[name]:.2%} of {lab[name]}")
    lines += ["", "Per site (domain):", "", head.replace("| pages |", "| site |")]
    for name, (model, rules) in sorted(result["domains"].items(), key=lambda kv: (-kv[1][0].pages, kv[0])):
        lines.append(_row(name, model, rules))
    return "\n".join(lines) + "\n"
