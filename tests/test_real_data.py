"""The committed data and the default model, against the real corpus in ../shared (slow)."""

from pathlib import Path

import pytest

from conftest import REAL_CORPUS, SEED_ARTICLE

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not (REAL_CORPUS / "unifiedfc.jsonl.gz").is_file(),
                                 reason="the real corpus (../shared/corpus) is not beside this checkout")]

# The codebook's worked example: (start of the paragraph, its labels in prominence order).
WORKED_EXAMPLE = [
    ("هجين| اسبوع", ["ground_advance"]),
    ("تضاربت الأنباء", ["shelling", "claim_denial", "ground_advance"]),
    ("ميدانياً على الأرض", ["ground_advance", "withdrawal"]),
    ("ثم لجأ التنظيم", ["ground_advance", "withdrawal", "shelling"]),
    ("وأشارت المصادر", ["claim_denial", "humanitarian"]),
    ("ميليشيا قسد في محيط", []),
]


@pytest.fixture(scope="module")
def labels():
    from classify.corpus import load_corpus
    from classify.data import load_labels

    return load_labels(ROOT / "data" / "labels.csv", load_corpus(REAL_CORPUS))


def test_committed_labels_meet_the_gold_data_figures(labels):
    manual = labels[labels.source == "manual"]
    assert len(manual) >= 3000
    count = {label: int(labels.labels.map(lambda ls, label=label: label in ls).sum())
             for label in ("shelling", "ground_advance", "humanitarian", "withdrawal", "claim_denial")}
    assert min(count["shelling"], count["ground_advance"], count["humanitarian"]) >= 250, count
    assert min(count["withdrawal"], count["claim_denial"]) >= 150, count
    assert (labels.labels.map(len) == 0).mean() >= 0.25
    assert (labels.corpus == "unifiedfc").mean() >= 0.60
    assert 0.17 <= (labels.split == "test").mean() <= 0.23
    assert set(labels[labels.split == "test"].source) == {"manual"}


def test_double_annotation_covers_the_test_split(labels):
    from classify.corpus import load_corpus
    from classify.data import parse_spans

    second = parse_spans(ROOT / "data" / "annotation" / "double_second.csv", load_corpus(REAL_CORPUS))
    assert len(second) >= 400 and (second.split == "test").sum() >= 100


def test_segmenter_cross_validated_by_site_keeps_article_lines_and_drops_furniture(labels):
    from classify.corpus import load_corpus
    from classify.segment.evaluate import cross_validate

    result = cross_validate(ROOT / "data" / "segmentation.csv", load_corpus(REAL_CORPUS), labels)
    model, rules = result["sets"]["all pages"]
    assert result["pages"] >= 250 and model.furniture >= 2000
    assert model.kept_share >= 0.98
    assert model.dropped_share >= rules.dropped_share + 0.5  # rules alone drop 12%
    lab = result["labelled"]
    assert lab["not on a listing page kept"] / lab["not on a listing page"] >= 0.985


@pytest.mark.parametrize("crawl", [False, True], ids=["page alone", "with the corpus as its crawl"])
def test_shipped_segmenter_keeps_the_labelled_paragraphs(labels, crawl):
    from classify.corpus import load_corpus
    from classify.segment import segment, site_of
    from classify.segment.features import is_listing_url
    from classify.segment.model import corpus_counts

    corpus = load_corpus(REAL_CORPUS)
    counts = corpus_counts(corpus) if crawl else None
    kept, total, kept_labelled, labelled = 0, 0, 0, 0
    for doc_id, rows in labels.groupby("doc_id"):
        meta = corpus[doc_id].meta
        url = meta.get("url")
        if is_listing_url(url):
            continue  # a listing page is furniture throughout under codebook v3
        spans = {(p.start, p.end) for p in segment(corpus[doc_id].text, url, counts=counts,
                                                   site=site_of(url, meta.get("domain")))}
        for row in rows.itertuples():
            total += 1
            kept += (row.start, row.end) in spans
            labelled += bool(row.labels)
            kept_labelled += bool(row.labels) and (row.start, row.end) in spans
    assert total >= 5000
    assert kept / total >= 0.99 and kept_labelled / labelled >= 0.995, (kept / total, kept_labelled / labelled)


@pytest.fixture(scope="module")
def default_model(labels, tmp_path_factory):
    """The default model trained on the training split, saved."""
    from classify import save_model, train

    part = labels[labels.split == "train"]
    model = train(part.text.tolist(), part.labels.tolist(), part.group.tolist(), n_jobs=2)
    return save_model(model, tmp_path_factory.mktemp("default") / "m")


def test_default_model_on_the_seed_article(default_model):
    from classify import load_model, segment

    paragraphs = segment(SEED_ARTICLE.read_text(encoding="utf-8"))
    predicted = load_model(default_model).predict([p.text for p in paragraphs])
    assert len(paragraphs) == len(WORKED_EXAMPLE)
    assert [p.text[:len(start)] for p, (start, _) in zip(paragraphs, WORKED_EXAMPLE)] == [s for s, _ in WORKED_EXAMPLE]
    # No label the worked example does not give, and at least four of the six label sets exact.
    # (The README's seed table shows the two paragraphs where a label is missed, and why.)
    assert all(set(got) <= set(expected) for got, (_, expected) in zip(predicted, WORKED_EXAMPLE)), predicted
    assert sum(set(got) == set(expected) for got, (_, expected) in zip(predicted, WORKED_EXAMPLE)) >= 4, predicted
    assert predicted[-1] == []


def test_the_runtime_predicts_as_the_pipeline_on_real_paragraphs(default_model, labels):
    import numpy as np

    from classify import load_model

    model = load_model(default_model)
    assert model.runtime is not None
    texts = labels.text.tolist()
    fast, labelled = model.predict_proba(texts).to_numpy(), model.predict(texts)
    np.testing.assert_allclose(model.runtime.predict_proba(texts), model.pipeline.predict_proba(texts), rtol=1e-12,
                               atol=1e-15)
    model.runtime = None  # through the skops pipeline
    np.testing.assert_allclose(model.predict_proba(texts).to_numpy(), fast, rtol=1e-12, atol=1e-15)
    assert model.predict(texts) == labelled


def test_the_compiled_kernel_predicts_as_the_numpy_kernels_on_the_test_split(default_model, labels):
    import numpy as np

    from classify import load_model

    runtime = load_model(default_model).runtime
    assert runtime._fast is not None  # built with the package (tests/test_kernel.py says if it is not)
    texts = labels[labels.split == "test"].text.tolist()
    got = np.vstack([runtime.predict_proba(texts[i:i + 500]) for i in range(0, len(texts), 500)])
    np.testing.assert_allclose(got, runtime.reference_proba(texts), rtol=1e-9, atol=0)
