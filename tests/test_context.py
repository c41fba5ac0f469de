"""The article-context block (classify.features.context): inputs with context, the block, plain paragraphs."""

import numpy as np
import pytest

from classify.features.context import (PART, SEP, ContextUnion, article_context, context_texts, join_context,
                                       make_context_pipeline, split_context)
from classify.features.structure import StructureFeatures
from classify.model import binarize
from classify.pipeline import make_pipeline
from classify.segment import segment

SMALL = {"features__char__min_df": 1, "features__char__ngram_range": (2, 4)}


def test_join_and_split_round_trip_and_a_plain_paragraph_has_no_context():
    text = join_context("نفى المصدر ذلك.", "عنوان الخبر", "سيطرت القوات على البلدة.", "")
    assert text == "نفى المصدر ذلك." + SEP + "عنوان الخبر" + PART + "سيطرت القوات على البلدة." + PART
    assert split_context(text) == ("نفى المصدر ذلك.", "عنوان الخبر. سيطرت القوات على البلدة")
    assert join_context("قصف على حلب") == "قصف على حلب"
    assert split_context("قصف على حلب") == ("قصف على حلب", "")
    # A separator inside a context part cannot shift the parts.
    assert split_context(join_context("ا", "ب" + SEP + "ج"))[1] == "ب ج"


def test_article_context_of_the_fixture_articles(corpus, spans):
    ufc = [s for s in spans if s[0].startswith("ufc-")][:4]
    assert len({s[0] for s in ufc}) == 1  # four paragraphs of one article, between two furniture lines
    text = corpus[ufc[0][0]].text
    assert [p.text for p in segment(text)] == [s[4] for s in ufc]
    first, second, third = (article_context(text, s[1], s[2]) for s in ufc[:3])
    assert first == ("", "", ufc[1][4])
    assert second == ("", ufc[0][4], ufc[2][4])  # the headline is the previous paragraph: given once
    assert third == (ufc[0][4], ufc[1][4], ufc[3][4])
    assert article_context(text, ufc[3][1], ufc[3][2])[2] == ""  # the furniture after it is not a paragraph
    snn = next(s for s in spans if s[0].startswith("snn-"))
    assert article_context(corpus[snn[0]].text, snn[1], snn[2], title="عنوان")[0] == "عنوان"


def test_context_texts_of_a_labels_table(corpus, labels_file):
    from classify.data import load_labels

    table = load_labels(labels_file, corpus)
    texts = context_texts(table, corpus)
    assert len(texts) == len(table)
    assert [split_context(t)[0] for t in texts] == table.text.tolist()
    snn = [t for t, doc in zip(texts, table.doc_id) if doc.startswith("snn-")]
    assert all(split_context(t)[1].startswith("عنوان") for t in snn)  # the corpus' title field


def test_the_block_is_scaled_and_empty_for_a_plain_paragraph():
    base = make_pipeline("logreg", SMALL).named_steps
    union = ContextUnion(base["normalise"], base["features"], StructureFeatures(), weight=0.5)
    texts = [join_context("وصلت قافلة مساعدات إلى المدينة", previous="قصفت الطائرات الحربية البلدة"),
             "نفت المصادر صحة الأنباء عن انسحاب القوات"]
    X = union.fit_transform(texts)
    width = len(StructureFeatures().get_feature_names_out())
    context = X[:, -width:].toarray()
    assert context[1].sum() == 0  # no context
    assert context[0].max() == pytest.approx(0.5 * StructureFeatures().weight)
    np.testing.assert_array_equal(union.transform(texts).toarray(), X.toarray())


@pytest.mark.parametrize("block", ["char", "structure"])
def test_a_context_model_fits_and_labels_paragraphs_with_and_without_context(corpus, labels_file, block):
    from classify.data import load_labels

    table = load_labels(labels_file, corpus)
    texts = context_texts(table, corpus)
    Y = binarize(table.labels)
    pipeline = make_context_pipeline(make_pipeline("logreg", SMALL), block=block, weight=0.3).fit(texts, Y)
    with_context = pipeline.predict_proba(texts)
    plain = pipeline.predict_proba(table.text.tolist())  # the predict path: paragraphs alone
    assert with_context.shape == plain.shape == Y.shape
    assert ((with_context >= 0.5) == Y).all(axis=1).mean() > 0.9
    assert ((plain >= 0.5) == Y).all(axis=1).mean() > 0.9
    assert not np.allclose(with_context, plain)  # the context is used
    assert pipeline.predict_proba(["", "قصف"]).shape == (2, Y.shape[1])


def test_the_runner_builds_it_and_gives_it_inputs_with_context(corpus_dir, labels_file):
    from classify.data import load_labels
    from classify.corpus import load_corpus
    from experiments.run import build, inputs

    est = build("logreg_context", {"context__block": "structure", "context__weight": 0.2, **SMALL}, None)
    assert isinstance(est.named_steps["features"], ContextUnion) and est.named_steps["features"].weight == 0.2
    table = load_labels(labels_file, load_corpus(corpus_dir))
    assert all(SEP in t for t in inputs(table, "logreg_context", corpus_dir))
    assert inputs(table, "logreg", corpus_dir) == table.text.tolist()
