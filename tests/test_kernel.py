"""The compiled predict kernel (classify.runtime._kernel) gives the NumPy kernels' probabilities."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from classify import load_model, save_model
from classify.normalise import normalise
from classify.runtime import fast
from classify.sentences import split_sentences

# Arabic letters and their variants, harakat, tatweel, digits of three scripts, the punctuation
# the normaliser moves, white space of several kinds, invisible controls, Latin, an emoji.
ALPHABET = ("ابتثجحخدذرسشصضطظعغفقكلمنهوي" + "أإآٱىةءؤئ" + "\u064b\u064e\u0651\u0652\u0670" + "\u0640"
            + "0123456789٠١٢٣٤٥٦٧٨٩۴" + ".,،؛;:!?؟()[]{}«»\"-/_" + " \n\t\u00a0\u2028\x1c" + "\u200f\ufeff\u00ad"
            + "abcXYZ" + "\U0001F600" + "中")
TEXTS = ["قصفت الطائرات الحربية مواقع في حلب وقتل مدنيون", "نفت الوزارة انسحاب القوات من المدينة",
         "انسحب المقاتلون من البلدة بعد معارك عنيفة. وتقدمت القوات نحو محور الجنوب",
         "أكد المتحدث عدم صحة الأنباء ، و قال : « لا أساس لها » . . .", 'قال " المصدر " إن 12 : 30 و 3 , 5',
         "", "   \n\t ", "و", "a", "中文 😀 ｘ", "1234 !!", "( رويترز ) - ذكرت", "قصف " * 3000,
         " ".join(f"كلمة{i} قصف" for i in range(5000)), "ـــ\u200f\u064e ـ", "صحة عدم صحة . لا صحة",
         "س" * 150 + " " + "قصفت" * 40 + ". انسحب"]


@pytest.fixture(scope="module")
def runtime(trained_model):
    runtime = load_model(trained_model).runtime
    assert runtime is not None
    return runtime


def _close(runtime, texts):
    got = runtime.predict_proba(texts)
    np.testing.assert_allclose(got, runtime.reference_proba(texts), rtol=1e-9, atol=0)
    return got


def test_the_extension_is_built():
    # Without it every prediction silently takes the slower NumPy path: CI must say so.
    assert fast.available(), "classify.runtime._kernel is not built: pip install -e . (or make) builds it"


def test_a_default_model_predicts_through_the_kernel(runtime):
    assert [kind for kind, _, _ in runtime.parts] == ["char", "structure", "clusters"]
    assert runtime._fast is not None


def test_the_kernel_gives_the_reference_probabilities_on_edge_cases(runtime, spans):
    texts = [s[4] for s in spans] + TEXTS
    got = _close(runtime, texts)
    assert got.shape == (len(texts), len(runtime.intercept))
    # Bit for bit, in fact: the kernel rounds and adds in the reference's order.
    np.testing.assert_array_equal(got, runtime.reference_proba(texts))
    # An empty text has no features: its scores are the intercepts.
    np.testing.assert_allclose(got[len(spans) + TEXTS.index("")], 1 / (1 + np.exp(-runtime.intercept)), rtol=1e-15)


def test_the_kernel_normalises_as_normalise(runtime):
    for text in TEXTS:
        assert runtime._fast.inner.normalise(text) == runtime.normalise(text) == normalise(text)


def test_the_kernel_forgets_its_words_and_still_agrees(runtime, spans):
    kernel = fast.kernel(runtime)
    kernel.inner.max_words = 50
    texts = [s[4] for s in spans]
    np.testing.assert_array_equal(kernel.predict_proba(texts), runtime.reference_proba(texts))
    assert kernel.inner.n_words < 50 + 200  # forgotten between texts, not grown with the input


def test_non_string_texts_are_refused(runtime):
    with pytest.raises(TypeError):
        runtime._fast.predict_proba(["نص", 3])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.text(alphabet=ALPHABET, max_size=120), min_size=1, max_size=4))
def test_any_text_gets_the_reference_probabilities(runtime, texts):
    for text in texts:
        assert runtime._fast.inner.normalise(text) == runtime.normalise(text)
    _close(runtime, texts)


# Sentences of every shape the splitter meets: short fragments that join the one before (with
# or without a space between), runs of ends, a line break, leading ends, quotes and brackets
# that the normaliser treats differently once a sentence stands alone, doubled spaces.
PIECES = st.sampled_from(["قصفت الطائرات الحربية مواقع في حلب", "انسحب المقاتلون من البلدة", "نزح الأهالي", "3", ".5",
                          ".", "...", "؟", "!", "؛", "\n", " ", "  ", '"', '" ', "( ", ")", "،", "و", "ـ", "نفى الجيش ذلك"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.lists(PIECES, max_size=14).map("".join), st.text(alphabet=ALPHABET, max_size=160)))
def test_the_kernel_pools_sentences_as_the_reference(runtime, text):
    # Its splitter is classify.sentences', on the normalised text ...
    assert fast._kernel.split_sentences(normalise(text)) == split_sentences(normalise(text))
    # ... and its pooled probabilities are the reference's, bit for bit, whether a sentence's
    # words are the paragraph's (reused) or change when it is normalised on its own (scored anew).
    texts = [text, "قصف " + text, text + " ثم انسحب الجيش من القرية."]
    np.testing.assert_array_equal(runtime.predict_proba(texts, "sentence"), runtime.reference_proba(texts, "sentence"))


def test_pooling_changes_a_text_of_several_sentences_only(runtime, spans):
    texts = [s[4] for s in spans] + TEXTS
    pooled, plain = runtime.predict_proba(texts, "sentence"), runtime.predict_proba(texts)
    np.testing.assert_array_equal(pooled, runtime.reference_proba(texts, "sentence"))
    several = np.array([len(split_sentences(normalise(t))) > 1 for t in texts])
    assert several.any() and not several.all()
    np.testing.assert_array_equal(pooled[~several], plain[~several])
    assert (pooled[several] != plain[several]).any(axis=1).all()


def test_words_shorter_than_the_shortest_gram_count_whole(spans, tmp_path):
    # With 4-grams and longer, " و " (three characters) is shorter than any gram: scikit-learn's
    # char_wb counts it once, whole, and the kernel must too.
    from classify.model import train

    rows = spans[:60]
    texts = [s[4].replace("، و", "، و ") for s in rows]  # "و" as a word of its own
    model = train(texts, [s[3] for s in rows], [s[0] for s in rows], n_splits=2,
                  params={"features__char__min_df": 1, "features__char__ngram_range": (4, 5)})
    runtime = load_model(save_model(model, tmp_path / "m")).runtime
    assert runtime._fast is not None
    texts += ["و ب في من و و", "و", "ا ل م", "في"] + TEXTS[:6]
    np.testing.assert_array_equal(runtime.predict_proba(texts), runtime.reference_proba(texts))
    # The case is there: the vocabulary has " و ", a whole short word.
    assert runtime.blocks[0][1](["و"]).nnz == 1
