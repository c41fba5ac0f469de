"""The fast feature blocks give exactly what the reference implementations give."""

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import TfidfVectorizer

from classify.features.char import CharTfidf
from classify.features.cues import CUE_WORDS, LABELS, CueFeatures, cue_labels
from classify.normalise import normalise
from classify.rules import KeywordRules

# Written for these tests: diacritics, hamza forms, digits, Latin, short words, an emoji,
# punctuation glued to words, runs of mixed white space, an empty text.
FIXTURE = [
    "قصفت الطائرات الحربية أحياء المدينة صباح اليوم، وقُتل 3 مدنيين.",
    "نفت المصادر صحة الأنباء عن انسحاب القوات من البلدة",
    "و في  حلب\tاشتباكات\nعنيفة بين الفصائل و القوات الحكومية",
    "أعلن التحالف (بقيادة واشنطن) عن غارات جديدة على مواقع ISIS قرب الرقة 2018",
    "وصلت قافلة مساعدات إنسانية إلى المعابر 🚚 صباحا",
    "ب ك ل و في من إلى على",
    "",
    "تقدم تقدم تقدم القوات القوات",
    "مدنيون عالقون   في\u00a0الأحياء المحاصرة\u2003منذ أسابيع",
    "Shelling hit the old city; 12 civilians were killed, officials said.",
]
NEW_TEXTS = ["غارة جوية على ريف إدلب", "كلمات لم ترَ قبلا: زززز ؤؤؤ", "", "  ", "x", "قصف قصف قصف"]

PARAMS = [
    {},
    {"ngram_range": (1, 3)},
    {"ngram_range": (4, 6)},  # words shorter than min_n count once, whole
    {"ngram_range": (2, 5), "min_df": 1, "sublinear_tf": False},
    {"analyzer": "char", "ngram_range": (1, 3)},
    {"analyzer": "char", "ngram_range": (3, 6), "min_df": 1},
    {"ngram_range": (2, 4), "min_df": 1, "max_features": 50},
    {"min_df": 0.2, "max_df": 0.6},
    {"lowercase": True, "min_df": 1, "dtype": np.float64},
]


def _pair(**params):
    params = {"analyzer": "char_wb", "ngram_range": (3, 6), "min_df": 2, "sublinear_tf": True,
              "lowercase": False, "dtype": np.float32, **params}
    return TfidfVectorizer(**params), CharTfidf(**params)


def _assert_same(reference, fast, fit_texts, texts):
    expected, got = reference.fit_transform(fit_texts), fast.fit_transform(fit_texts)
    assert list(fast.get_feature_names_out()) == list(reference.get_feature_names_out())
    for expected, got in ((expected, got), (reference.transform(texts), fast.transform(texts))):
        assert got.shape == expected.shape and got.dtype == expected.dtype
        np.testing.assert_allclose(got.toarray(), expected.toarray(), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("params", PARAMS, ids=str)
def test_char_block_equals_tfidf_vectorizer_on_fixture_text(params):
    _assert_same(*_pair(**params), FIXTURE, FIXTURE + NEW_TEXTS)


def test_char_block_equals_tfidf_vectorizer_on_normalised_text():
    folded = [normalise(t) for t in FIXTURE]
    _assert_same(*_pair(min_df=1), folded, folded + [normalise(t) for t in NEW_TEXTS])


def test_char_block_processes_long_input_in_batches(monkeypatch):
    import classify.runtime.char as char

    reference, fast = _pair(min_df=1)
    reference.fit(FIXTURE)
    fast.fit(FIXTURE)
    texts = FIXTURE * 30
    monkeypatch.setattr(char, "BATCH_CHARS", 500)
    np.testing.assert_allclose(fast.transform(texts).toarray(), reference.transform(texts).toarray(), rtol=1e-6)


def test_char_block_remembers_words_across_batches_and_forgets_them_without_changing_anything(monkeypatch):
    import classify.runtime.char as char

    reference, fast = _pair(min_df=1)
    reference.fit(FIXTURE)
    fast.fit(FIXTURE)
    texts = FIXTURE + NEW_TEXTS
    expected = reference.transform(texts).toarray()
    np.testing.assert_allclose(fast.transform(texts).toarray(), expected, rtol=1e-6)
    np.testing.assert_allclose(fast.transform(texts).toarray(), expected, rtol=1e-6)  # every word remembered
    kernel = fast.kernel()
    assert set(kernel._row) == {w for t in texts for w in t.split()}
    # Small batches and a memory of a few words: forgotten and relearnt many times over.
    monkeypatch.setattr(char, "BATCH_CHARS", 60)
    monkeypatch.setattr(char, "MEMO_WORDS", 12)
    np.testing.assert_allclose(fast.transform(texts * 3).toarray(), np.vstack([expected] * 3), rtol=1e-6)


def test_pipeline_renormalises_for_the_cues_only_after_a_non_default_normaliser():
    from classify.pipeline import make_pipeline

    def renormalise(params):
        params = {"features__cues": "cues", **params}  # the cue block is off in the default model
        return make_pipeline(params=params).named_steps["features"].get_params()["cues"].renormalise

    assert renormalise({}) is False
    assert renormalise({"normalise__alef": False}) is True
    assert renormalise({"features__cues__renormalise": True}) is True


@pytest.mark.parametrize("texts", [[], [""], ["", " \t "], ["😀😀", "zzz"]], ids=repr)
def test_char_block_gives_empty_rows_for_text_without_known_ngrams(texts):
    reference, fast = _pair(min_df=1)
    reference.fit(FIXTURE)
    fast.fit(FIXTURE)
    got = fast.transform(texts)
    assert got.shape == (len(texts), len(fast.keys_)) and got.nnz == 0
    if texts:  # scikit-learn's refuses an empty list
        np.testing.assert_array_equal(got.toarray(), reference.transform(texts).toarray())


def test_char_block_refuses_what_it_cannot_do():
    with pytest.raises(ValueError, match="analyzer"):
        CharTfidf(analyzer="word").fit(FIXTURE)
    with pytest.raises(ValueError, match="raw text"):
        CharTfidf().fit("one string")
    with pytest.raises(ValueError):
        CharTfidf(min_df=5).fit(["ab", "cd"])


# Arabic letters and marks, Latin, digits, punctuation and many kinds of white space.
_CHARS = st.sampled_from(list("ابتثجحخدذرسشصضطظعغفقكلمنهويءأإآةى") + list("ًٌٍَُِّْـ") + list("abcXYZ019٣.,،؟!()")
                         + [" ", " ", " ", "\t", "\n", "\u00a0", "\u2003", "\x1c", "\u200f", "😀", "_"])
_TEXT = st.text(alphabet=_CHARS, max_size=40)


@settings(max_examples=150, deadline=None)
@given(fit_texts=st.lists(_TEXT, min_size=1, max_size=8), texts=st.lists(_TEXT, max_size=4),
       analyzer=st.sampled_from(["char_wb", "char"]), low=st.integers(1, 4), extra=st.integers(0, 3),
       min_df=st.integers(1, 2), sublinear=st.booleans())
def test_char_block_equals_tfidf_vectorizer_on_generated_text(fit_texts, texts, analyzer, low, extra, min_df,
                                                               sublinear):
    reference, fast = _pair(analyzer=analyzer, ngram_range=(low, low + extra), min_df=min_df,
                            sublinear_tf=sublinear)
    try:
        reference.fit(fit_texts)
    except ValueError:  # nothing left to learn: the fast block must refuse too
        with pytest.raises(ValueError):
            fast.fit(fit_texts)
        return
    _assert_same(reference, fast, fit_texts, fit_texts + texts)


# -- cue words ---------------------------------------------------------------------------

# The one-regex-per-label matcher that classify.features.cues replaces, kept as the reference.
_PROCLITIC = "(?:[وف]?(?:[بلك]|ال|بال|لل|كال)?)"
_REFERENCE_PATTERNS = {
    label: re.compile(r"(?<!\w)" + _PROCLITIC + "(?:" + "|".join(re.escape(normalise(w)) for w in words) + ")")
    for label, words in CUE_WORDS.items()}


def _reference_cue_labels(text):
    folded = normalise(text)
    return [label for label in LABELS if _REFERENCE_PATTERNS[label].search(folded)]


_CUE_TEXTS = FIXTURE + NEW_TEXTS + [
    "تنفيذ الهجوم", "والقصف", "فبالغارات", "كالقذائف", "للانسحاب", "اضطرت للانسحاب", "وإخلاء المقرات",
    "عدم صحة", "لا صحة لما يشاع", "_قصف", "9قصف", "x قصف", "مدنيين.", "(نفت", "بالطيران الحربي",
    "الطيران الحربيين", "تضاربت الأنباء", "وللمدنيين", "ببالغارات", "وفقصف", "المسيّر والمسير",
]


@pytest.mark.parametrize("text", _CUE_TEXTS)
def test_cue_labels_equal_the_regex_per_label_reference(text):
    assert cue_labels(text) == _reference_cue_labels(text)


_CUE_PIECES = st.sampled_from(
    [normalise(w) for words in CUE_WORDS.values() for w in words] + [w for words in CUE_WORDS.values() for w in words]
    + ["و", "ف", "ب", "ل", "ك", "ال", "بال", "لل", "كال", "ت", "ن", "ي", "ات", " ", " ", " ", "_", "3", "x", "،", "-",
       "\u0651", "\u0640", "أ"])


@settings(max_examples=300, deadline=None)
@given(st.lists(_CUE_PIECES, max_size=12).map("".join) | _TEXT)
def test_cue_labels_equal_the_reference_on_generated_text(text):
    assert cue_labels(text) == _reference_cue_labels(text)


def test_cue_block_and_rules_agree_with_cue_labels():
    matrix = CueFeatures(weight=2.0).fit(_CUE_TEXTS).transform(_CUE_TEXTS).toarray()
    expected = np.array([[2.0 * (label in _reference_cue_labels(t)) for label in LABELS] for t in _CUE_TEXTS])
    np.testing.assert_array_equal(matrix, expected)
    assert matrix.dtype == np.float32
    folded = [normalise(t) for t in _CUE_TEXTS]
    np.testing.assert_array_equal(CueFeatures(weight=2.0, renormalise=False).transform(folded).toarray(), expected)
    rules = KeywordRules().fit(_CUE_TEXTS)
    np.testing.assert_array_equal(rules.predict(_CUE_TEXTS), (expected > 0).astype(int))
    assert CueFeatures().transform([]).shape == (0, len(LABELS))


# -- the default model -------------------------------------------------------------------


@pytest.mark.slow
def test_default_model_predicts_the_same_with_the_fast_and_the_reference_blocks():
    from conftest import REAL_CORPUS

    if not (REAL_CORPUS / "unifiedfc.jsonl.gz").is_file():
        pytest.skip("the real corpus (../shared/corpus) is not beside this checkout")
    from pathlib import Path

    from classify.corpus import load_corpus
    from classify.data import load_labels
    from classify.model import binarize, quietly
    from classify.pipeline import make_pipeline

    table = load_labels(Path(__file__).resolve().parents[1] / "data" / "labels.csv", load_corpus(REAL_CORPUS))
    train, test = table[table.split == "train"], table[table.split == "test"]
    assert [cue_labels(t) for t in table.text] == [_reference_cue_labels(t) for t in table.text]
    Y = binarize(train.labels)
    fast = quietly(make_pipeline().fit, train.text.tolist(), Y)
    # The reference computes the char block with scikit-learn; the other blocks are the same objects.
    reference = quietly(make_pipeline(params={"features__char": "reference"}).fit, train.text.tolist(), Y)
    assert type(reference.named_steps["features"].transformer_list[0][1]) is TfidfVectorizer
    folded = fast.named_steps["normalise"].transform(test.text.tolist())
    difference = abs(fast.named_steps["features"].transform(folded) - reference.named_steps["features"].transform(folded))
    assert difference.max() <= 1e-6
    p_fast, p_ref = fast.predict_proba(test.text.tolist()), reference.predict_proba(test.text.tolist())
    np.testing.assert_allclose(p_fast, p_ref, atol=1e-5)
    grid = np.round(np.arange(0.05, 0.96, 0.025), 3)
    assert all(((p_fast >= t) == (p_ref >= t)).all() for t in grid)


def test_blocks_round_trip_through_skops_with_arrays_and_no_caches():
    import skops.io as sio

    from classify.store import TRUSTED_TYPES

    fast = CharTfidf(min_df=1).fit(FIXTURE)
    expected = fast.transform(FIXTURE).toarray()  # builds the lookup tables, which are not saved
    loaded = sio.loads(sio.dumps(fast), trusted=list(TRUSTED_TYPES))
    assert not {"_kernel", "_kernel_params"} & set(vars(loaded))
    assert isinstance(loaded.keys_, np.ndarray) and loaded.keys_.dtype == np.uint64
    np.testing.assert_array_equal(loaded.transform(FIXTURE).toarray(), expected)
    # A cue block saved before ``renormalise`` existed keeps normalising again.
    old = CueFeatures()
    del old.renormalise
    assert sio.loads(sio.dumps(old), trusted=list(TRUSTED_TYPES)).renormalise is True
