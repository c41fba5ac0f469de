"""Sentence rows in training (experiments.sentence_mil): which sentences enter a label's rows, and the fit."""

import numpy as np
import pytest

from classify.model import quietly
from classify.normalise import normalise
from classify.pipeline import make_pipeline
from experiments.run import build
from experiments.sentence_mil import SentenceMIL, paragraph_sentences

SMALL = {"features__char__min_df": 1, "features__char__ngram_range": (2, 4), "features__clusters": "drop"}
SHELLING = ["قصفت الطائرات الحربية مواقع في حلب بعدة غارات.", "سقطت قذائف هاون على أحياء درعا صباح اليوم.",
            "شنت طائرات مسيرة غارات على ريف إدلب."]
OTHER = ["افتتح معرض للكتاب في حمص بمشاركة دور نشر.", "ارتفعت أسعار الخضار في أسواق حماة هذا الأسبوع.",
         "أقيمت مباراة ودية لكرة القدم في ملعب تدمر."]


def _data():
    # Label 0 (shelling) is in a paragraph iff one of its sentences shells; label 1 is every paragraph's other news.
    X, Y = [], []
    for i in range(12):
        shells = i % 2 == 0
        parts = [OTHER[i % 3]] + ([SHELLING[i % 3]] if shells else []) + ([OTHER[(i + 1) % 3]] if i % 3 else [])
        X.append(" ".join(parts) + f" تقرير رقم {i}.")
        Y.append([int(shells), int(not shells)])
    return X, np.array(Y)


@pytest.fixture(scope="module")
def fitted():
    X, Y = _data()
    return X, Y, {variant: quietly(SentenceMIL(make_pipeline("logreg", SMALL), variant=variant, weight=0.5).fit, X, Y)
                  for variant in ("negatives", "best_positive")}


def test_a_sentence_is_a_negative_for_the_labels_its_paragraph_lacks_and_absent_from_the_others(fitted):
    X, Y, models = fitted
    model = models["negatives"]
    sentences, owners = paragraph_sentences([normalise(x) for x in X])
    assert model.sentences_ == sentences and len(set(owners)) == len(X)  # every fixture paragraph has several
    for j in range(Y.shape[1]):
        index, target = model.rows_[j]
        assert (target == 0).all()
        # Exactly the sentences of the paragraphs without label j, none of a paragraph with it.
        np.testing.assert_array_equal(np.sort(index), np.flatnonzero(Y[owners, j] == 0))
        assert len(index) and (Y[owners[index], j] == 0).all()


def test_best_positive_adds_one_sentence_of_each_positive_paragraph_and_it_is_the_shelling_one(fitted):
    X, Y, models = fitted
    model = models["best_positive"]
    index, target = model.rows_[0]
    positives = index[target == 1]
    assert sorted(model.owners_[positives]) == list(np.flatnonzero(Y[:, 0] == 1))
    # The first fit learnt shelling from paragraphs and other-news negatives: the best sentence is the shelling one.
    assert all("غارات" in model.sentences_[i] or "قذائف" in model.sentences_[i] for i in positives)
    np.testing.assert_array_equal(np.sort(index[target == 0]), models["negatives"].rows_[0][0])


def test_fit_and_predict_shapes_weights_and_the_runner_wiring(fitted):
    X, Y, models = fitted
    for model in models.values():
        proba = model.predict_proba(X + ["قصفت الطائرات الحربية مواقع في منبج."])
        assert proba.shape == (len(X) + 1, 2) and ((proba >= 0) & (proba <= 1)).all()
        assert ((proba[:-1] >= 0.5) == Y).all() and proba[-1, 0] > proba[-1, 1]
        assert [name for name, _ in model.pipeline_.steps] == ["normalise", "features", "clf"]
    # The sentence rows' weight reaches the fit: another weight, other coefficients.
    heavy = quietly(SentenceMIL(make_pipeline("logreg", SMALL), weight=3.0).fit, X, Y)
    assert not np.allclose(heavy.pipeline_["clf"].estimators_[0].coef_, models["negatives"].pipeline_["clf"].estimators_[0].coef_)
    built = build("logreg_pooled_mil", {**SMALL, "mil__variant": "best_positive", "mil__weight": 0.3}, None)
    assert isinstance(built, SentenceMIL) and (built.variant, built.weight) == ("best_positive", 0.3)
    assert built.pipeline.get_params()["features__char__min_df"] == 1
    with pytest.raises(ValueError, match="variant"):
        SentenceMIL(make_pipeline("logreg", SMALL), variant="all").fit(X, Y)
