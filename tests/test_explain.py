"""Explanations: spans of the original text, weights that add up, and the explain command."""

import io
import json
import re
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.special import expit

from classify.cli import main
from classify.errors import ClassifyError
from classify.explain import blank
from classify.store import load_model
from conftest import SEED_ARTICLE, SENTENCES, run

TEXTS = [
    "قصفت الطائرات الحربية مواقع في حلب بعدة غارات جوية صباح اليوم.",
    "نفت المصادر صحة الأنباء عن سقوط حمص ، و انسحب عناصر التنظيم من مواقعهم في منبج",
    # Harakat, tatweel, invisible controls, spaced punctuation and ellipses, Arabic-Indic digits, Latin.
    "قَصَفَتِ الطّائراتُ الحـــربية\u200f مواقعَ في ( حلب ) . . . يوم ٢٠١٨ / ٠١ / ٢١ عند 01 : 13 ، Reuters",
    "نزح آلاف المدنيين من درعا هربا من المعارك\n\nوصلت قافلة مساعدات إنسانية إلى درعا",
]


@pytest.fixture(scope="module")
def model(trained_model):
    return load_model(trained_model)


def check_spans(text, explanation):
    for item in explanation.labels:
        last = -1
        for span in sorted(item.spans, key=lambda s: s.start):
            assert span.text == text[span.start:span.end], (span, text)
            assert span.start >= last and span.end > span.start  # words never overlap
            assert span.text.strip() == span.text and span.text
            last = span.end


def test_every_span_is_a_slice_of_the_original(model):
    for text in TEXTS:
        explanation = model.explain(text, list(model.labels))
        check_spans(text, explanation)
        assert explanation.text == text and [e.label for e in explanation.labels] == list(model.labels)
    # A word with harakat and tatweel is marked whole, its last haraka included.
    item = model.explain(TEXTS[2], "shelling")["shelling"]
    assert "قَصَفَتِ" in [s.text for s in item.spans]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from([s for group in SENTENCES.values() for s in group]), min_size=1, max_size=3),
       st.lists(st.tuples(st.integers(0, 400), st.sampled_from(["\u064e", "\u0651", "\u0640", " ", " ، ", " . ",
                                                                  "\u200f", "\n", "( ", " )", "\t"])), max_size=12))
def test_generated_texts_give_slices_and_weights_that_add_up(model, sentences, insertions):
    text = "، و".join(s.format(p="حلب") for s in sentences)
    for at, piece in sorted(insertions, reverse=True):
        at = min(at, len(text))
        text = text[:at] + piece + text[at:]
    explanation = model.explain(text, list(model.labels))
    check_spans(text, explanation)
    raw = model.pipeline.predict_proba([text])[0]
    for j, item in enumerate(explanation.labels):
        total = item.bias + sum(s.weight for s in item.spans) + sum(w for _, w in item.other)
        assert total == pytest.approx(item.decision, abs=1e-6)
        assert expit(item.decision) == pytest.approx(raw[j], abs=1e-5)


def test_weights_add_up_and_the_score_is_the_models(model):
    for text in TEXTS:
        proba = model.predict_proba([text]).iloc[0]
        for item in model.explain(text, list(model.labels)).labels:
            assert item.score == pytest.approx(proba[item.label])
            assert item.passed == (item.score >= model.thresholds[item.label])
            assert item.bias + sum(s.weight for s in item.spans) + sum(w for _, w in item.other) == \
                pytest.approx(item.decision, abs=1e-6)
            assert [s.weight for s in item.spans] == sorted((s.weight for s in item.spans), reverse=True)


def test_blanking_the_top_span_lowers_the_score(model, spans):
    checked = 0
    for _, _, _, labels, text in spans[:40]:
        explanation = model.explain(text)
        for item in explanation.labels:
            top = item.top(1)[0]
            assert top.weight > 0
            after = model.predict_proba([blank(text, top)]).iloc[0][item.label]
            assert after < item.score, (item.label, top, text)
            checked += 1
    assert checked >= 20


def test_by_default_the_labels_that_pass_and_any_label_on_request(model):
    text = TEXTS[0]
    explanation = model.explain(text)
    assert [e.label for e in explanation.labels] == model.predict([text])[0]
    assert all(e.passed for e in explanation.labels)
    withdrawal = model.explain(text, "withdrawal")
    assert [e.label for e in withdrawal.labels] == ["withdrawal"] and not withdrawal["withdrawal"].passed
    with pytest.raises(ClassifyError, match="unknown label 'looting'"):
        model.explain(text, ["looting"])
    assert model.explain("", list(model.labels))["shelling"].spans == ()
    data = json.loads(json.dumps(explanation.to_dict(top=2)))
    assert data["labels"][0]["spans"][0]["text"] in text


def test_a_classifier_without_coefficients_is_refused(spans):
    from classify.model import Model, binarize
    from classify.pipeline import make_pipeline

    texts = [s[4] for s in spans]
    pipeline = make_pipeline("linearsvc", {"features__char__min_df": 1}).fit(texts, binarize([s[3] for s in spans]))
    model = Model(pipeline, dict.fromkeys(("shelling", "ground_advance", "withdrawal", "humanitarian",
                                           "claim_denial"), 0.5))
    with pytest.raises(ClassifyError, match="explain needs a linear classifier"):
        model.explain(texts[0], "shelling")


def test_explain_command_on_an_article_prints_marked_paragraphs(trained_model, capsys):
    status, out, err = run(["explain", "--model", trained_model, SEED_ARTICLE, "--top", "2"], capsys)
    assert status == 0, err
    assert out.count("== ") == 6  # the six kept paragraphs of the seed article
    assert re.search(r"\[[\u0600-\u06ff]+\]", out)  # spans in brackets, logical order, no colour
    assert "\x1b" not in out and "score" in out and "threshold" in out


def test_explain_segment_explains_each_kept_paragraph_of_each_record(trained_model, tmp_path, capsys):
    article = SEED_ARTICLE.read_text(encoding="utf-8")
    records = tmp_path / "articles.jsonl"
    records.write_text(json.dumps({"doc_id": "hajin", "text": article}, ensure_ascii=False) + "\n", encoding="utf-8")
    out = tmp_path / "x.html"
    status, _, err = run(["explain", "--model", trained_model, "--segment", records, "-o", out], capsys)
    assert status == 0, err
    page = out.read_text(encoding="utf-8")
    assert page.count('<section class="para">') == 6 and "hajin 21-98" in page


def test_explain_on_a_terminal_shapes_orders_and_colours(trained_model, capsys, monkeypatch, tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps({"text": "قصفت الطائرات مواقع في حلب \x1b]0;title\x07 بعدة غارات"}, ensure_ascii=False),
                    encoding="utf-8")

    class Tty(io.StringIO):
        def isatty(self):
            return True

    screen = Tty()
    monkeypatch.setattr(sys, "stdout", screen)
    assert main(["explain", "--model", str(trained_model), str(path), "--label", "shelling"]) == 0
    shown = screen.getvalue()
    assert "\x1b[1;30;43m" in shown and "\x1b[0m" in shown  # marks coloured
    assert re.search("[\ufe70-\ufeff]", shown)  # shaped presentation forms
    assert "\x1b]" not in shown and "\x07" not in shown
    assert "x1b]0;title" in shown  # the text's escape sequence made visible (bidi may move its backslash)
    assert not re.search("[\u27e6\u27e7\u2983\u2984]", shown)


def test_explain_writes_one_self_contained_html_page(trained_model, tmp_path, capsys):
    records = tmp_path / "in.jsonl"
    records.write_text("\n".join(json.dumps({"id": i, "text": t}, ensure_ascii=False) for i, t in enumerate([
        "قصفت الطائرات <b>مواقع</b> & \"غارات\" في حلب", "افتتح معرض للكتاب في حلب"])) + "\n", encoding="utf-8")
    out = tmp_path / "explained.html"
    status, _, err = run(["explain", "--model", trained_model, records, "-o", out], capsys)
    assert status == 0, err
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and '<html dir="rtl" lang="ar">' in page
    assert "<mark" in page and "pushes toward" in page  # marks and a legend per label
    assert "&lt;b&gt;" in page and "&lt;/b&gt; &amp; &quot;" in page and "<b><mark" not in page  # escaped
    assert "الطائرات" in page  # Arabic as characters, not entities
    assert not re.search(r"""(src|href)=["']?(https?:|//)|<script|<link""", page)
    assert page.count('<section class="para">') == 2 and "no label passes its threshold" in page
    assert "wrote 2 explained paragraphs" in err


def test_explain_label_option_explains_that_label_everywhere(trained_model, tmp_path, capsys):
    out = tmp_path / "seed.html"
    status, _, err = run(["explain", "--model", trained_model, SEED_ARTICLE, "--label", "claim_denial", "-o", out],
                         capsys)
    assert status == 0, err
    page = out.read_text(encoding="utf-8")
    assert page.count("<h3 dir=\"ltr\">claim_denial") == 6 and "<h3 dir=\"ltr\">shelling" not in page


def one_line(status, err, *fragments):
    assert status == 2, err
    assert err.count("\n") == 1 and err.startswith("classify: ") and "Traceback" not in err, err
    for fragment in fragments:
        assert fragment in err, err


def test_explain_with_an_unknown_label_is_one_line(trained_model, tmp_path, capsys):
    out = tmp_path / "x.html"
    status, _, err = run(["explain", "--model", trained_model, SEED_ARTICLE, "--label", "looting", "-o", out], capsys)
    one_line(status, err, "unknown label 'looting'", "claim_denial")
    assert not out.exists()


def test_explain_without_a_model_is_one_line(tmp_path, capsys):
    status, _, err = run(["explain", "--model", tmp_path / "none", SEED_ARTICLE], capsys)
    one_line(status, err, "no model at")


def test_explain_of_an_unreadable_input_is_one_line(trained_model, tmp_path, capsys):
    out = tmp_path / "x.html"
    out.write_text("before", encoding="utf-8")
    status, _, err = run(["explain", "--model", trained_model, tmp_path / "missing.txt", "-o", out], capsys)
    one_line(status, err, "cannot read")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "قصف"}\n[1, 2]\n', encoding="utf-8")
    status, _, err = run(["explain", "--model", trained_model, bad, "-o", out], capsys)
    one_line(status, err, "line 2 is not a JSON object")
    assert out.read_text(encoding="utf-8") == "before"  # written atomically: the old page stays whole


def test_explain_output_naming_a_folder_is_one_line(trained_model, tmp_path, capsys):
    status, _, err = run(["explain", "--model", trained_model, SEED_ARTICLE, "-o", tmp_path], capsys)
    one_line(status, err, "it is a folder")


def test_explain_top_must_be_positive(trained_model, capsys):
    status, _, err = run(["explain", "--model", trained_model, SEED_ARTICLE, "--top", "0"], capsys)
    one_line(status, err, "--top must be at least 1")
