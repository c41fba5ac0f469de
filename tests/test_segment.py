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
