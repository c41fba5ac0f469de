"""The feature blocks that carry meaning: structure, sentences, stems, clusters."""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from classify.features.sentences import SentenceMaxTfidf, max_pool, split_sentences
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
