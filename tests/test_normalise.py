import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from classify.normalise import STEPS, ArabicNormaliser, normalise

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


# Punctuation, brackets, quotes, digits and every kind of white space, densely: where the
# punctuation patterns and the white-space collapse meet.
punctuation_heavy = st.text(alphabet=st.sampled_from(list('اب1٢ .,،؛:;!?؟()[]{}«»"/\n\t\r\u00a0\u2003\u200fـَ')),
                            max_size=40)


@settings(max_examples=500)
@given(punctuation_heavy)
def test_idempotent_on_punctuation_heavy_text(text):
    once = normalise(text)
    assert normalise(once) == once


@settings(max_examples=300)
@given(st.text(max_size=60), st.sampled_from(["punctuation", "whitespace", "controls", "teh_marbuta"]))
def test_idempotent_on_any_text_with_any_step_switched(text, step):
    switches = {step: step == "teh_marbuta"}
    once = normalise(text, **switches)
    assert normalise(once, **switches) == once


def test_idempotent_where_it_was_not():
    # The digit separator pattern wants single spaces; it used to run before the collapse.
    assert normalise("[a!\n?1 /\n11!") == "[a!?1/11!"
    assert normalise("01  :  13") == "01:13"


def _seconds(func, text, repeats=5):
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        func(text)
        best = min(best, time.perf_counter() - start)
    return best


# Each input repeats a pattern n times; a step that rescans a run from each of its
# characters takes ~100x longer at 10n, a linear one ~10x.
ADVERSARIAL = {
    "one word and spaces": lambda n: "قصف" + " " * n,
    "spaces then a word": lambda n: " " * n + "قصف",
    "newlines and tabs": lambda n: "قصف" + "\n\t " * (n // 3),
    "an open quote and spaces": lambda n: '"' + " " * n,
    "quotes and spaces": lambda n: '" ' * (n // 2),
    "a digit and spaces": lambda n: "1" + " " * n + "x",
    "spaced dots": lambda n: ". " * (n // 2),
    "open brackets": lambda n: "( " * (n // 2),
    "closing brackets": lambda n: " )" * (n // 2),
    "digits and separators": lambda n: "1 : " * (n // 4),
    "invisible characters": lambda n: "\u200f \u200b" * (n // 3),
    "no-break spaces": lambda n: "ق" + "\u00a0" * n,
}


@pytest.mark.parametrize("name", ADVERSARIAL)
@pytest.mark.parametrize("switches", [{}, {"whitespace": False}], ids=["default", "no-whitespace-step"])
def test_work_grows_linearly(name, switches):
    make = ADVERSARIAL[name]
    n = 5_000
    small = _seconds(lambda t: normalise(t, **switches), make(n))
    large = _seconds(lambda t: normalise(t, **switches), make(10 * n))
    # Linear is ~10; quadratic ~100. The floor keeps timer noise on tiny times from failing it.
    assert large / max(small, 2e-4) < 35, f"{name}: {small:.5f}s at n, {large:.5f}s at 10n"


def test_a_100kb_record_of_one_word_and_spaces_is_normalised():
    assert normalise("قصف" + " " * 100_000) == "قصف"
    assert normalise('"' + " " * 100_000 + 'قصف "') == '"قصف"'


@given(st.text(alphabet=st.sampled_from(list("اأإآٱىةيه٠١٩۰۹0 .,()«»\"\n\t\u064e\u0651\u0640\u200f\u202b\ufeff\u00adabc"
                                             "\u00a0\u2028\x1c\r:/5[")),
               max_size=80),
       st.fixed_dictionaries({name: st.booleans() for name, _ in STEPS}))
@settings(max_examples=1000, deadline=None)
def test_one_pass_equals_the_steps_in_order(text, switches):
    # normalise() merges the single-character steps into one pass, and with white space collapsed maps
    # each word once (remembered): it must equal running every step in turn.
    expected = text
    for name, step in STEPS:
        if switches[name]:
            expected = step(expected)
    assert normalise(text, **switches) == expected


@given(st.text(alphabet=st.sampled_from(list(' .:/,5a()[{«»"\n')), max_size=60))
@settings(max_examples=500, deadline=None)
def test_unspacing_punctuation_skips_only_patterns_that_cannot_match(text):
    from classify.normalise import (_QUOTED, _SPACE_AFTER, _SPACE_BEFORE, _SPACED_DIGIT_SEP, _SPACED_ELLIPSIS,
                                    _strip_quoted, unspace_punctuation)

    expected = text
    for pattern, replacement in ((_SPACED_ELLIPSIS, "..."), (_SPACED_DIGIT_SEP, r"\1"), (_SPACE_BEFORE, r"\1"),
                                 (_SPACE_AFTER, r"\1"), (_QUOTED, _strip_quoted)):
        expected = pattern.sub(replacement, expected)
    assert unspace_punctuation(text) == expected
    single = " ".join(text.split())
    assert unspace_punctuation(single, single_spaced=True) == unspace_punctuation(single)


def _offsets_hold(text, **switches):
    from classify.normalise import normalise_with_offsets

    out, offsets = normalise_with_offsets(text, **switches)
    assert out == normalise(text, **switches)
    assert len(offsets) == len(out)
    assert all(0 <= o < len(text) for o in offsets)
    assert list(offsets) == sorted(offsets)
    # An offset repeats only where two dots grew into an ellipsis of three (". ." -> "...").
    assert all(a < b or out[k + 1] == "." for k, (a, b) in enumerate(zip(offsets[:-1], offsets[1:])))
    # Each character comes from the character it was mapped from (or is a space for white space).
    for char, o in zip(out, offsets):
        source = text[o]
        assert char == source or normalise(source, **{**switches, "whitespace": False, "punctuation": False}) == char or \
            (char == " " and source.isspace()), (char, source)


def test_offsets_on_examples():
    from classify.normalise import normalise_with_offsets

    text = 'بغداد ( رويترز ) - قال التحالفُ . . . في 01 : 13 " مبالغ "'
    out, offsets = normalise_with_offsets(text)
    assert out == normalise(text)
    word = out.index("التحالف")
    assert text[offsets[word]:offsets[word + len("التحالف") - 1] + 1] == "التحالف"
    _offsets_hold("  الجـــيش\u200f قَصَفَ  ")
    _offsets_hold(". .")  # two dots, three in the ellipsis: the last two share the second dot's offset
    assert normalise_with_offsets("")[0] == "" and len(normalise_with_offsets("")[1]) == 0


@given(arabic_text, st.sampled_from([{}, {"teh_marbuta": True}, {"punctuation": False}, {"whitespace": False},
                                     {"diacritics": False, "alef": False}]))
def test_offsets_map_back_to_the_original(text, switches):
    _offsets_hold(text, **switches)


@given(st.text(max_size=60))
def test_offsets_on_any_text(text):
    _offsets_hold(text)
