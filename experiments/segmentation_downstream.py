"""What the page-aware segmenter changes downstream: events predicted per UnifiedFC page.

Every UnifiedFC page is segmented three times: by the line rules alone (before), by the
line model with the page's address (after), and by the line model with its address and
the UnifiedFC file as its crawl (what ``predict --segment`` does on that file); the
classifier labels the kept paragraphs.
An event is a (paragraph, label) pair. On the hand-marked pages the events that came
from furniture lines are counted too. Writes reports/segmentation_downstream.md (with
excerpts of the corpus: not for committing).

    python -m experiments.segmentation_downstream [--model models/default]
"""

import argparse
import random

import numpy as np

from classify.corpus import load_corpus
from classify.io import atomic_write
from classify.segment import LineCounts, segment, segment_by_rules, site_of
from classify.segment.model import read_marks
from classify.store import load_model


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="models/default")
    parser.add_argument("--marks", default="data/segmentation.csv")
    parser.add_argument("--out", default="reports/segmentation_downstream.md")
    args = parser.parse_args(argv)
    model = load_model(args.model)
    corpus = load_corpus()
    furniture = {}
    for page in read_marks(args.marks, corpus):
        furniture[page.doc_id] = {line for line, keep in zip(page.lines, page.keep) if not keep}
    pages = [a for a in corpus.values() if a.corpus == "unifiedfc"]
    site = {a.doc_id: site_of(a.meta.get("url"), a.meta.get("domain")) for a in pages}
    counts = LineCounts.of_articles((a.text, a.meta.get("url"), a.meta.get("domain")) for a in pages)
    before, after, crawl, gone = [], [], [], []
    marked = {"before": [0, 0], "after": [0, 0], "crawl": [0, 0]}  # events, of which on furniture lines
    for article in pages:
        url = article.meta.get("url")
        old = segment_by_rules(article.text)
        new = segment(article.text, url=url)
        both = segment(article.text, url=url, counts=counts, site=site[article.doc_id])
        labels = dict(zip([p.start for p in old + new + both], model.predict([p.text for p in old + new + both])))
        before.append(sum(len(labels[p.start]) for p in old))
        after.append(sum(len(labels[p.start]) for p in new))
        crawl.append(sum(len(labels[p.start]) for p in both))
        kept = {p.start for p in both}
        gone += [(article.doc_id, p, labels[p.start]) for p in old if p.start not in kept and labels[p.start]]
        if article.doc_id in furniture:
            for name, paragraphs in (("before", old), ("after", new), ("crawl", both)):
                for p in paragraphs:
                    marked[name][0] += len(labels[p.start])
                    marked[name][1] += len(labels[p.start]) * (p.text in furniture[article.doc_id])
    before, after, crawl = np.array(before), np.array(after), np.array(crawl)
    lines = [f"# Events per UnifiedFC page, before and after the line model ({len(before)} pages)", "",
             "| | rules alone | line model | line model with the crawl |", "|---|---:|---:|---:|",
             f"| events (paragraph, label) | {before.sum()} | {after.sum()} | {crawl.sum()} |",
             f"| mean events per page | {before.mean():.2f} | {after.mean():.2f} | {crawl.mean():.2f} |",
             f"| pages with any event | {(before > 0).sum()} | {(after > 0).sum()} | {(crawl > 0).sum()} |",
             f"| events on the {len(furniture)} marked pages | {marked['before'][0]} | {marked['after'][0]} | "
             f"{marked['crawl'][0]} |",
             f"| ... of which on lines marked furniture | {marked['before'][1]} | {marked['after'][1]} | "
             f"{marked['crawl'][1]} |",
             "", f"{len(gone)} labelled paragraphs the rules kept are no longer reported with the crawl; ten at random:",
             ""]
    for doc_id, p, labels in random.Random(0).sample(gone, min(10, len(gone))):
        lines.append(f"- {doc_id} {p.start}:{p.end} ({', '.join(labels)}): {p.text[:160]}")
    atomic_write(args.out, lambda fh: fh.write("\n".join(lines) + "\n"))
    print("\n".join(lines[:11]) + f"\n(written to {args.out})")


if __name__ == "__main__":
    main()
