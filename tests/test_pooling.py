"""Sentence pooling: a label's score is the mean of the paragraph's and its best sentence's."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from classify.sentences import is_one_sentence, sentence_spans, split_sentences
from classify.model import train
from classify.normalise import normalise
from classify.pooling import pooled_proba
from classify.store import load_model, save_model


def by_cue(texts):
    # One label: 0.9 for a short text that says "قصف"; in a long one the cue is diluted (0.1).
    return np.array([[0.9 if "قصف" in t and len(t) < 40 else 0.1] for t in texts])


def test_the_score_is_the_mean_of_the_paragraph_and_its_best_sentence():
    texts = ["افتتح معرض للكتاب في المدينة بمشاركة واسعة. قصف الطيران البلدة صباحا.", "افتتح معرض للكتاب في المدينة.",
             "قصف الطيران البلدة"]
    pooled = pooled_proba(by_cue, texts, normalise, "sentence")
    # The first paragraph scores 0.1 as a whole but its shelling sentence 0.9; the others are one sentence each.
    np.testing.assert_allclose(pooled, [[(0.1 + 0.9) / 2], [0.1], [0.9]])
    np.testing.assert_array_equal(pooled_proba(by_cue, texts, normalise, "none"), by_cue(texts))


def test_a_paragraph_of_one_sentence_is_not_scored_twice():
    seen = []

    def predict(texts):
        seen.append(list(texts))
        return by_cue(texts)

    pooled_proba(predict, ["قصف الطيران البلدة", "", "خبر أول طويل بما يكفي. وخبر ثان طويل بما يكفي."], normalise)
    assert seen[1] == [normalise("خبر أول طويل بما يكفي."), normalise("وخبر ثان طويل بما يكفي.")]


@given(st.lists(st.sampled_from(["قصف الطيران البلدة", "نزح الأهالي", ".", "؟", "!", " ", "؛", "\n", "و",
                                 "انسحبت القوات من القرية بعد معارك"]), max_size=12).map("".join))
def test_sentence_spans_locate_each_sentence(text):
    parts, spans = sentence_spans(text)
    assert parts == split_sentences(text) and len(spans) == len(parts)
    if is_one_sentence(text):  # the shortcut that spares splitting is never wrong
        assert parts == [text]
    if not text.strip():
        return
    last = 0
    for part, (a, b) in zip(parts, spans):
        # A fragment joins the previous sentence with one space; the span holds whatever stood between them.
        assert last <= a < b and text[a] == part[0] and text[b - 1] == part[-1]
        assert set(part) - {" "} <= set(text[a:b])
        last = b


@pytest.fixture(scope="module")
def pooled_model(split_spans, tmp_path_factory):
    model = train(split_spans["X"], [[label for label, y in zip(("shelling", "ground_advance", "withdrawal",
                                                                  "humanitarian", "claim_denial"), row) if y]
                                     for row in split_spans["Y"]],
                  split_spans["groups"], params={"features__char__min_df": 1}, n_splits=3, calibration="none",
                  pooling="sentence")
    folder = tmp_path_factory.mktemp("pooled") / "model"
    save_model(model, folder)
    return model, load_model(folder)


def test_a_pooled_model_predicts_the_same_after_saving_and_its_score_is_the_pooled_one(pooled_model, split_spans):
    fitted, loaded = pooled_model
    assert fitted.pooling == loaded.pooling == "sentence" and loaded.runtime is not None
    texts = split_spans["X_test"] + ["قصفت الطائرات الحربية مواقع في حلب. وصلت قافلة مساعدات إلى درعا."]
    np.testing.assert_allclose(loaded.predict_proba(texts).to_numpy(), fitted.predict_proba(texts).to_numpy(),
                               rtol=0, atol=1e-12)
    expected = pooled_proba(fitted.pipeline.predict_proba, texts, normalise)
    np.testing.assert_allclose(loaded.predict_proba(texts).to_numpy(), expected, rtol=0, atol=1e-12)
    assert not np.allclose(expected, fitted.pipeline.predict_proba(texts))  # pooling changed something
    # Without the compiled kernel, the runtime's NumPy path pools the same.
    kernel, loaded.runtime._fast = loaded.runtime._fast, None
    try:
        np.testing.assert_allclose(loaded.predict_proba(texts).to_numpy(), expected, rtol=0, atol=1e-12)
    finally:
        loaded.runtime._fast = kernel


def test_explain_names_the_best_sentence_of_a_pooled_model(pooled_model):
    _, model = pooled_model
    text = "وصلت قافلة مساعدات إنسانية إلى درعا. قَصَفَت الطائرات الحربية مواقع في حلب بعدة غارات جوية."
    explanation = model.explain(text, list(model.labels))
    item = explanation["shelling"]
    start, end, score = item.sentence
    assert text[start:end].startswith("قَصَفَت") and text[start:end].endswith("جوية.")
    assert score == pytest.approx(model.predict_proba([text[start:end]]).iloc[0]["shelling"])
    assert explanation["humanitarian"].sentence[:2] == (0, text.index(".") + 1)
    assert model.explain("قصفت الطائرات حلب", ["shelling"])["shelling"].sentence is None
    assert explanation.to_dict()["labels"][0]["sentence"]["end"] == end


def test_a_configuration_asks_for_pooling_and_the_saved_model_keeps_it(tmp_path, corpus_dir, spans, capsys):
    from conftest import labels_csv, run

    labels = tmp_path / "labels.csv"
    labels.write_text(labels_csv(spans), encoding="utf-8")
    config = tmp_path / "pooled.toml"
    config.write_text('pooling = "sentence"\nn_splits = 3\n[params]\n"features__char__min_df" = 1\n', encoding="utf-8")
    status, _, err = run(["train", "--config", config, "--labels", labels, "--corpus", corpus_dir,
                          "--out", tmp_path / "m"], capsys)
    assert status == 0, err
    model = load_model(tmp_path / "m")
    assert model.pooling == "sentence" and model.meta["config"] == "pooled"
