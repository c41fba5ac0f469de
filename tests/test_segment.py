import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from classify.segment import is_furniture, segment, split_lines
from conftest import SEED_ARTICLE

# The codebook's worked example: the six kept paragraphs, by how they start.
WORKED_EXAMPLE = ["هجين| اسبوع على انطلاق عمليات قسد", "تضاربت الأنباء حول سيطرة ميليشيا قسد",
                  "ميدانياً على الأرض، حاولت قسد التقدم", "ثم لجأ التنظيم الى محاولة عزل البلدة",
                  "وأشارت المصادر إلى عدم صحة المعلومات", "ميليشيا قسد في محيط قرية الباغوز"]


def test_seed_article_keeps_exactly_the_worked_example():
    text = SEED_ARTICLE.read_text(encoding="utf-8")
    paragraphs = segment(text)
    assert [p.text[:len(start)] for p, start in zip(paragraphs, WORKED_EXAMPLE)] == WORKED_EXAMPLE
    assert len(paragraphs) == len(WORKED_EXAMPLE)
    assert all(text[p.start:p.end] == p.text for p in paragraphs)


def test_furniture_lines():
    for line in ["مقالات ذات صلة", "اترك تعليقاً", "زر الذهاب إلى الأعلى", "جميع الحقوق محفوظة لمكتب أخبار سوريا",
                 "لن يتم نشر عنوان بريدك الإلكتروني. الحقول الإلزامية مشار إليها بـ *", "Copyright 2018 Syria Newsdesk",
                 "الرئيسية | أخبار | سوريا | العالم | اقتصاد", "هل تريد الاشتراك في نشرتنا الاخبارية ? جاري التسجيل"]:
        assert is_furniture(line), line


def test_article_lines_are_kept():
    for line in ["ميليشيا قسد في محيط قرية الباغوز بريف البوكمال",
                 "قصفت الطائرات الحربية مواقع في ريف إدلب الجنوبي وقتل ثلاثة مدنيين .",
                 "نفت وزارة الدفاع صحة الأنباء عن انسحاب قواتها من المدينة، وقالت إن المعارك مستمرة."]:
        assert not is_furniture(line), line


def test_blank_lines_and_line_breaks_both_separate():
    text = "  الفقرة الأولى من الخبر عن القصف على المدينة  \r\n\nالفقرة الثانية من الخبر عن نزوح المدنيين\n"
    lines = split_lines(text)
    assert [p.text for p in lines] == ["الفقرة الأولى من الخبر عن القصف على المدينة",
                                       "الفقرة الثانية من الخبر عن نزوح المدنيين"]
    assert all(text[p.start:p.end] == p.text for p in lines)


lines = st.lists(st.text(alphabet=st.sampled_from(list("ابتسقصفمن .،|\u200f")), max_size=40), max_size=12)
breaks = st.sampled_from(["\n", "\n\n", "\r\n", "\n \n"])


@given(lines, breaks)
def test_offsets_slice_the_text_in_order(parts, sep):
    text = sep.join(parts)
    paragraphs = segment(text)
    assert all(text[p.start:p.end] == p.text and p.text == p.text.strip() and p.text for p in paragraphs)
    assert all(a.end < b.start for a, b in zip(paragraphs, paragraphs[1:]))
    assert all("\n" not in p.text and "\r" not in p.text for p in paragraphs)
    assert {(p.start, p.end) for p in paragraphs} <= {(p.start, p.end) for p in split_lines(text)}


def test_the_rules_alone_drop_furniture_lines():
    from classify.segment import segment_by_rules

    text = "\n".join(["مقالات ذات صلة", "قصفت الطائرات الحربية مواقع في ريف إدلب الجنوبي وقتل ثلاثة مدنيين ."])
    assert [p.text for p in segment_by_rules(text)] == [text.split("\n")[1]]


def _pages():
    from classify.segment.model import Page

    # Small marked pages: a menu line, the article's prose, a teaser list, a footer.
    article = ["قصفت الطائرات الحربية مواقع في ريف {p} الجنوبي وقتل ثلاثة مدنيين بينهم طفلان , بحسب مصادر محلية .",
               "وقال ناشطون إن القصف استهدف الأحياء السكنية في {p} وأدى إلى نزوح عشرات العائلات نحو المخيمات .",
               "وأضافت المصادر أن فرق الدفاع المدني عملت على انتشال الضحايا من تحت الأنقاض في {p} طوال الليل ."]
    furniture = ["الرئيسية | أخبار | سوريا | العالم | اقتصاد | رياضة", "مقالات ذات صلة",
                 "وزير الخارجية يلتقي نظيره في العاصمة لبحث العلاقات الثنائية . . .",
                 "جميع الحقوق محفوظة © 2018"]
    pages = []
    for k, place in enumerate(["حلب", "إدلب", "درعا", "حمص", "حماة", "الرقة"]):
        lines = [furniture[0]] + [a.format(p=place) for a in article] + furniture[1:]
        keep = np.array([False, True, True, True, False, False, False])
        pages.append(Page(f"page-{k}", f"site{k % 3}.example", f"https://site{k % 3}.example/news/{k}12345",
                          lines, keep))
    return pages


def test_line_model_fits_saves_and_loads_the_same(tmp_path):
    from classify.segment.model import fit, load_line_model, save_line_model

    pages = _pages()
    model = fit(pages, n_splits=3)
    save_line_model(model, tmp_path / "line_model.json")
    loaded = load_line_model(tmp_path / "line_model.json")
    for page in pages:
        assert np.allclose(loaded.scores(page.lines, page.url), model.scores(page.lines, page.url))
        kept = loaded.keep(page.lines, page.url)
        assert (kept == model.keep(page.lines, page.url)).all()
        assert kept[page.keep].all() and not kept[[0, 4, 6]].any()  # the article; the menu, "related", copyright
    first = pages[0]
    kept = loaded.keep(first.lines, first.url)
    assert [p.text for p in segment("\n".join(first.lines), first.url, model=loaded)] == \
        [line for line, k in zip(first.lines, kept) if k]


def test_edited_line_model_is_refused(tmp_path):
    import json

    import pytest

    from classify.errors import ClassifyError
    from classify.segment.model import fit, load_line_model, save_line_model

    path = tmp_path / "line_model.json"
    save_line_model(fit(_pages(), n_splits=3), path)
    data = json.loads(path.read_text(encoding="utf-8"))
    data["threshold"] = 0.0
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ClassifyError, match="sha256"):
        load_line_model(path)


def test_page_features_shape_and_listing_addresses():
    from classify.segment.features import FEATURE_NAMES, is_listing_url, page_features

    lines = _pages()[0].lines
    assert page_features(lines).shape == (len(lines), len(FEATURE_NAMES))
    assert page_features([]).shape == (0, len(FEATURE_NAMES))
    assert is_listing_url("https://example.com/tag/%D8%AF%D8%A7%D8%B9%D8%B4/")
    assert is_listing_url("http://example.com/?m=201411")
    assert not is_listing_url("https://example.com/news/2017/11/02/story-of-the-day-12345.html")
    assert not is_listing_url(None)


def test_shipped_line_model_loads_and_matches_the_features():
    from classify.segment.model import MODEL_FILE, load_line_model

    model = load_line_model()
    assert MODEL_FILE.is_file() and model is not None
    assert set(model.thresholds) == {"alone", "crawl"} and all(0 < t < 1 for t in model.thresholds.values())
    assert model.meta["pages"] >= 200


def _marks_file(tmp_path, corpus, spoil=None):
    from classify.data import span_sha1

    rows = ["doc_id,start,end,mark,set,sha1"]
    for doc_id, article in corpus.items():
        if article.corpus != "unifiedfc":
            continue
        lines = split_lines(article.text)
        for k, p in enumerate(lines):
            mark = "furniture" if k in (0, len(lines) - 1) else "article"
            rows.append(f"{doc_id},{p.start},{p.end},{mark},new,{span_sha1(p.text)}")
    if spoil:
        rows = spoil(rows)
    path = tmp_path / "marks.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_segmentation_command_fits_and_cross_validates(tmp_path, corpus, corpus_dir, labels_file, capsys):
    from classify.cli import main
    from classify.segment.model import load_line_model

    marks = _marks_file(tmp_path, corpus)
    common = ["data", "segmentation", "--marks", str(marks), "--labels", str(labels_file), "--corpus", str(corpus_dir)]
    assert main(common + ["--fit", str(tmp_path / "line.json")]) == 0
    assert load_line_model(tmp_path / "line.json").meta["pages"] >= 20
    assert main(common + ["--report", str(tmp_path / "seg.md")]) == 0
    out = capsys.readouterr().out
    assert "| all pages |" in out and "Per site" in out and (tmp_path / "seg.md").is_file()


def test_bad_marks_are_one_line(tmp_path, corpus, corpus_dir, labels_file, capsys):
    from classify.cli import main

    common = ["data", "segmentation", "--labels", str(labels_file), "--corpus", str(corpus_dir), "--fit",
              str(tmp_path / "line.json")]
    for spoil, expected in ((lambda rows: rows[:2] + rows[3:], "is not marked"),
                            (lambda rows: rows[:1] + [rows[1].replace(",furniture,", ",headline,")] + rows[2:],
                             "mark 'headline'")):
        assert main(common + ["--marks", str(_marks_file(tmp_path, corpus, spoil))]) == 2
        err = capsys.readouterr().err
        assert expected in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "line.json").exists()


@given(st.text(alphabet=st.sampled_from(list("أإآٱٲٳاىيةهـًٌٍَُِّْٰقصفABC ")), max_size=60))
def test_fold_maps_the_letters_normalise_maps(text):
    from classify.normalise import strip_diacritics, unify_alef, unify_alef_maqsura, unify_teh_marbuta
    from classify.segment.rules import _fold

    assert _fold(text) == unify_teh_marbuta(unify_alef_maqsura(unify_alef(strip_diacritics(text)))).lower()
