"""The feature blocks that carry meaning: structure, sentences, stems, clusters."""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from classify.features.sentences import SentenceMaxTfidf, max_pool
from classify.sentences import split_sentences
from classify.features.stems import StemWords, stem_text
from classify.features.structure import FEATURES, StructureFeatures, sentence_features
from classify.normalise import normalise


def _names(text):
    return sentence_features(normalise(text))


def test_denial_scopes_over_the_event_it_precedes():
    denied = _names("نفت المصادر انسحاب التنظيم من البلدة")
    assert "withdraw@denied" in denied and "withdraw@plain" not in denied
    reported = _names("انسحب التنظيم من البلدة بعد هجوم مضاد")
    assert "withdraw@plain" in reported and "withdraw+from" in reported and "deny" not in reported


def test_health_is_not_a_denial_but_lack_of_truth_is():
    assert "deny" not in _names("أعلنت وزارة الصحة افتتاح مستشفى جديد")
    assert "deny" in _names("أكد المتحدث عدم صحة الأنباء عن سقوط المدينة")


def test_threats_are_modal_and_civilian_harm_is_a_conjunction():
    assert "advance@modal" in _names("تهدد القوات باقتحام المدينة خلال أيام")
    assert "civilian+harm" in _names("قتل خمسة مدنيين بينهم أطفال في قصف على حلب")
    assert "harm-civilian" in _names("قتل خمسة عناصر في اشتباكات")


def test_air_cover_without_the_word_for_shelling():
    assert "air@plain" in _names("وصلت القوات إلى الجسر بغطاء كثيف من طيران التحالف")


def test_structure_block_shape_and_weight():
    X = StructureFeatures(weight=0.5).fit_transform([normalise("نفت المصادر سيطرة القوات على البلدة"), ""])
    assert X.shape == (2, len(FEATURES)) and X[1].nnz == 0
    assert set(X.data) == {np.float32(0.5)}


def _reference_families(word):
    # The block's word matching as it was first written: proclitic by proclitic, length by length.
    from classify.runtime.structure import _LENGTHS, _PROCLITICS, _TABLE

    found = set()
    for clitic in _PROCLITICS:
        if clitic and not word.startswith(clitic):
            continue
        stem = word[len(clitic):]
        for n in _LENGTHS:
            if n > len(stem):
                break
            hit = _TABLE.get(stem[:n])
            if hit:
                found |= hit - {"from"} if n < len(stem) else hit
    return frozenset(found)


def _reference_sentence_features(text):
    # The block as it was first written: sentence by sentence, every word's families in a list.
    import re

    from classify.runtime.structure import _NEGATORS, EVENT_FAMILIES

    names = set()
    for sentence in re.findall(r"[^.!?؟؛\n]+", text):
        words = re.findall(r"\w+", sentence)
        seen = [_reference_families(w) for w in words]
        for i, fams in enumerate(seen):
            if "truth" in fams and i and words[i - 1] in _NEGATORS:
                seen[i] = fams | {"deny"}
        present = set().union(*seen) if seen else set()
        if not present:
            continue
        first = {}
        for i, fams in enumerate(seen):
            for f in fams:
                first.setdefault(f, i)
        for event in EVENT_FAMILIES:
            if event in present:
                frame = ("denied" if "deny" in present and first["deny"] <= first[event]
                         else "modal" if "modal" in present else "plain")
                names.add(f"{event}@{frame}")
        if "harm" in present:
            names.add("civilian+harm" if "civilian" in present else "harm-civilian")
        if "withdraw" in present:
            at = [i for i, f in enumerate(seen) if "withdraw" in f]
            if any("from" in f for i in at for f in seen[i + 1:i + 4]):
                names.add("withdraw+from")
        if "deny" in present:
            names.add("deny")
            if "advance" in present or "withdraw" in present:
                names.add("deny+advance+withdraw")
        if "modal" in present:
            names.add("modal")
        if "air" in present and "shell" in present:
            names.add("air+shell")
    return names


# Words of every family, with and without clitics, negators, "from", sentence ends and filler.
_STRUCTURE_WORDS = ["قصف", "والقصف", "غارات", "طيران", "بالطيران", "تقدم", "انسحاب", "وانسحب", "قتل", "مدنيين",
                    "نفت", "ونفي", "يعتزم", "سوف", "من", "منذ", "صحة", "عدم", "لا", "اساس", "الصحة", "المدينة",
                    "في", "قال", "مقاتلات", "خروج", "اهالي", ".", "؟", "؛", "\n", "!", "،", "5"]


@given(st.lists(st.sampled_from(_STRUCTURE_WORDS), max_size=40))
@settings(max_examples=500, deadline=None)
def test_structure_features_equal_the_word_by_word_reference(words):
    text = " ".join(words)
    assert sentence_features(text) == _reference_sentence_features(text)


def test_structure_features_equal_the_reference_on_real_paragraphs():
    from conftest import REAL_CORPUS

    if not (REAL_CORPUS / "unifiedfc.jsonl.gz").is_file():
        pytest.skip("the real corpus (../shared/corpus) is not beside this checkout")
    from pathlib import Path

    from classify.corpus import load_corpus
    from classify.data import load_labels

    texts = [normalise(t) for t in load_labels(Path(__file__).resolve().parents[1] / "data" / "labels.csv",
                                               load_corpus(REAL_CORPUS)).text]
    assert [sentence_features(t) for t in texts] == [_reference_sentence_features(t) for t in texts]


@given(st.lists(st.lists(st.tuples(st.integers(0, 6), st.floats(0.01, 1.0)), max_size=5), min_size=1, max_size=6))
@settings(max_examples=60, deadline=None)
def test_max_pool_equals_a_dense_groupwise_max(groups):
    rows, owners = [], []
    for g, cells in enumerate(groups):
        for _ in range(2):  # two sentences per paragraph
            dense = np.zeros(7)
            for col, val in cells:
                dense[col] = max(dense[col], val)
            rows.append(dense * (1.0 if len(rows) % 2 else 0.5))
            owners.append(g)
    M = np.array(rows)
    got = max_pool(sp.csr_matrix(M), np.array(owners), len(groups)).toarray()
    want = np.array([M[np.array(owners) == g].max(axis=0) for g in range(len(groups))])
    np.testing.assert_allclose(got, want)


def test_sentences_split_and_pool_keep_the_short_event_sentence():
    text = normalise("افتتح معرض للكتاب في المدينة بمشاركة دور نشر عربية كثيرة. قصفت الطائرات البلدة.")
    assert len(split_sentences(text)) == 2
    block = SentenceMaxTfidf(min_df=1).fit([text, normalise("قصفت الطائرات البلدة.")])
    pooled = block.transform([text]).toarray()[0]
    alone = block.transform([normalise("قصفت الطائرات البلدة.")]).toarray()[0]
    # Every n-gram of the event sentence keeps at least the weight it has on its own.
    assert (pooled >= alone - 1e-6).all()


def test_stems_meet_across_clitics():
    assert stem_text(normalise("وطردوهم")).startswith("طرد")
    X = StemWords(min_df=1).fit_transform([normalise("وطردوهم من المدينة"), normalise("طرد المقاتلين من المدينة")])
    assert (X[0].multiply(X[1])).sum() > 0


def test_cluster_block_refuses_another_table(monkeypatch):
    from classify.errors import ClassifyError
    from classify.features import clusters

    if not clusters.TABLE.is_file():
        pytest.skip("no cluster table built")
    block = clusters.ClusterWords(min_df=1).fit([normalise("قصفت الطائرات المدينة"), normalise("انسحب المقاتلون")])
    assert block.transform([normalise("قصفت الطائرات المدينة")]).nnz > 0
    block.table_sha256_ = "0" * 64
    with pytest.raises(ClassifyError, match="cluster table"):
        block.transform(["قصف"])


def test_cluster_block_equals_tfidf_over_cluster_words():
    from sklearn.feature_extraction.text import TfidfVectorizer

    from classify.features import clusters

    if not clusters.TABLE.is_file():
        pytest.skip("no cluster table built")
    texts = [normalise(t) for t in ("قصفت الطائرات الحربية المدينة وانسحب المقاتلون", "انسحب المقاتلون من المدينة",
                                    "قصفت الطائرات المدينة", "نفت المصادر انسحاب المقاتلين من المدينة", "", "xyz")]
    block = clusters.ClusterWords(min_df=1).fit(texts)
    words = [" ".join(f"c{c}" for c in clusters.cluster_tokens(t)) for t in texts]
    reference = TfidfVectorizer(analyzer="word", token_pattern=r"\S+", ngram_range=(1, 2), min_df=1,
                                sublinear_tf=True, lowercase=False).fit(words)
    assert list(block.get_feature_names_out()) == [f"cluster_{n}" for n in reference.get_feature_names_out()]
    np.testing.assert_allclose(block.transform(texts).toarray(), reference.transform(words).toarray(), atol=1e-6)


def test_the_expanded_lexicon_adds_the_readers_words_and_only_there():
    import csv

    from classify.runtime import structure

    with open(structure._EXPANSION_FILE, encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    assert rows and {r["family"] for r in rows} <= set(structure.EVENT_FAMILIES) | set(structure.MARK_FAMILIES)
    for row in rows:
        word = normalise(row["word"])
        assert row["family"] in structure._families(word, "expanded"), row
        assert row["family"] not in structure._families(word, "codebook"), row
    # The reading of a sentence is the same; only the word lists grow.
    text = normalise("وتقصف المدفعية البلدة بينما يفرون من القرية")
    assert sentence_features(text) == {"shell@plain"}
    assert {"withdraw@plain", "withdraw+from"} <= sentence_features(text, "expanded")


def test_an_unknown_lexicon_is_refused():
    with pytest.raises(ValueError, match="lexicon"):
        StructureFeatures(lexicon="mine").fit(["نص"])
