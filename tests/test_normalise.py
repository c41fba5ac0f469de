import re

from hypothesis import given
from hypothesis import strategies as st

from classify.normalise import ArabicNormaliser, normalise

arabic_text = st.text(alphabet=st.sampled_from(list("ابتثجحخدذرزسشصضطظعغفقكلمنهويىةأإآءؤئ ًٌٍَُِّْٰـ٠١٢٣٤٥٦٧٨٩۴۵.,،:()\"\u200f\u200b\n\t")),
                      max_size=80)


def test_each_step():
    assert normalise("مُحَمَّدٌ") == "محمد"
    assert normalise("هٰذا") == "هذا"  # superscript alef U+0670
    assert normalise("الجـــيش") == "الجيش"
    assert normalise("أإآٱ") == "اااا"
    assert normalise("مستشفى") == "مستشفي"
    assert normalise("٢٠١٨ و ۴۵") == "2018 و 45"
    assert normalise("قصف\u200f\u200b مدفعي\u202b") == "قصف مدفعي"
    assert normalise("  قصف \n\t مدفعي  ") == "قصف مدفعي"


def test_teh_marbuta_is_optional():
    assert normalise("مدينة") == "مدينة"
    assert normalise("مدينة", teh_marbuta=True) == "مدينه"


def test_spaced_punctuation_of_crawled_text():
    assert normalise("بغداد ( رويترز ) - قال التحالف .") == "بغداد (رويترز) - قال التحالف."
    assert normalise("في 01 : 13 يوم 2018 / 01 / 21 . . .") == "في 01:13 يوم 2018/01/21..."
    assert normalise('وصفها بأنها " مبالغ بها " , وقال') == 'وصفها بانها "مبالغ بها", وقال'


def test_switching_a_step_off():
    assert normalise("أحمد", alef=False) == "أحمد"
    assert ArabicNormaliser(diacritics=False).transform(["قَصْف"]) == ["قَصْف"]
    assert ArabicNormaliser().fit(["x"]).transform(["قَصْف", None]) == ["قصف", "None"]


@given(arabic_text)
def test_idempotent(text):
    once = normalise(text)
    assert normalise(once) == once


@given(arabic_text)
def test_output_is_clean(text):
    out = normalise(text)
    assert not re.search("[\u064b-\u065f\u0670\u0640\u200b-\u200f\u202a-\u202e]", out)
    assert not re.search("[أإآٱى٠-٩۰-۹]", out)
    assert "  " not in out and out == out.strip()


@given(st.text(max_size=60))
def test_any_text_is_accepted(text):
    assert isinstance(normalise(text), str)
