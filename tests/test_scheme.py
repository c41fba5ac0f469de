"""Label schemes: the labels and cue words from a TOML file; the codebook's is the default."""

import gzip
import json
import random
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from classify.cli import main
from classify.data import span_sha1
from classify.errors import ClassifyError
from classify.features.cues import CueFeatures, cue_labels, cue_matrix
from classify.normalise import normalise
from classify.scheme import Scheme, default_scheme, load_scheme
from conftest import SENTENCES, labels_csv, one_line_error, run

ROOT = Path(__file__).resolve().parents[1]
CODEBOOK = ROOT / ".." / "shared" / "codebook.md"

# The labels and cue words that classify/features/cues.py held in code before schemes, frozen
# here: the shipped scheme must keep them exactly, in this order.
OLD_LABELS = ("shelling", "ground_advance", "withdrawal", "humanitarian", "claim_denial")
OLD_CUE_WORDS = {
    "shelling": ("قصف", "غارات", "غارة", "قذائف", "صواريخ", "هاون", "الطيران الحربي", "المسيّر",
                 "براميل متفجرة", "مدفعي", "غطاء جوي"),
    "ground_advance": ("تقدم", "سيطرة", "سيطرت", "اقتحام", "اقتحمت", "هجوم", "معارك", "اشتباكات",
                       "محور", "وصلت إلى"),
    "withdrawal": ("انسحاب", "تراجع", "انسحبت", "انسحب", "اضطرت للانسحاب", "إخلاء المقرات"),
    "humanitarian": ("مدنيين", "مدنيون", "نازحين", "عالقين", "حصار", "مساعدات", "المعابر",
                     "الوضع الإنساني", "ضحايا"),
    "claim_denial": ("نفى", "نفت", "عدم صحة", "تضاربت الأنباء", "شائعات", "لا صحة", "كذّب"),
}

TWO_LABELS = '''name = "arrests"
[labels.shelling]
cues = ["قصف", "غارات", "قذائف"]
[labels.arrest]
cues = ["اعتقال", "اعتقلت", "معتقلين"]
'''
ARREST = ["اعتقلت قوات الأمن عشرات الشبان في {p} فجر اليوم", "شنت الأجهزة الأمنية حملة اعتقال واسعة في {p}",
          "داهمت دورية منازل في {p} واعتقلت ثلاثة أشخاص", "طالبت عائلات بالإفراج عن معتقلين من {p}"]
PLACES = ["حلب", "إدلب", "درعا", "الرقة", "حمص", "حماة", "تدمر", "منبج"]


# -- the shipped scheme ------------------------------------------------------------------


def test_the_shipped_scheme_is_the_codebooks_cues():
    scheme = default_scheme()
    assert scheme.name == "codebook" and scheme.labels == OLD_LABELS
    assert scheme.cues == OLD_CUE_WORDS and list(scheme.cues) == list(OLD_LABELS)
    assert load_scheme() is scheme
    # The file inside the package reads the same through the path a user would give.
    shipped = load_scheme(ROOT / "classify" / "schemes" / "codebook.toml")
    assert shipped == scheme and shipped.sha256 == scheme.sha256
    # Its hash is pinned: a change to the shipped scheme changes every new model's card.
    assert scheme.sha256 == "6adc27bc56b083cc2f3cce322674ca8355295e1b3d045688c9d4df56e8cf67b3"
    from classify import LABELS
    from classify.rules import CUE_WORDS

    assert LABELS == OLD_LABELS and CUE_WORDS == OLD_CUE_WORDS


@pytest.mark.skipif(not CODEBOOK.is_file(), reason="the codebook (../shared/codebook.md) is not beside this checkout")
def test_every_arabic_example_of_the_codebooks_includes_column_is_cued_for_its_label():
    rows = re.findall(r"^\| `(\w+)` \| [^|]+ \| ([^|]+) \|", CODEBOOK.read_text(encoding="utf-8"), re.M)
    assert [label for label, _ in rows] == list(OLD_LABELS)
    for label, includes in rows:
        examples = [w.strip() for w in includes.split(";")[-1].split("،")]
        assert len(examples) >= 5 and all(re.fullmatch(r"[\u0600-\u06ff ]+", w) for w in examples), examples
        for example in examples:
            assert label in cue_labels(example), (label, example)


# -- the default scheme changes nothing ------------------------------------------------------

_PROCLITIC = "(?:[وف]?(?:[بلك]|ال|بال|لل|كال)?)"
_OLD_PATTERNS = [re.compile(r"(?<!\w)" + _PROCLITIC + "(?:" + "|".join(re.escape(normalise(w)) for w in words) + ")")
                 for words in OLD_CUE_WORDS.values()]
_PIECES = st.sampled_from(
    [w for words in OLD_CUE_WORDS.values() for w in words] + [normalise(w) for words in OLD_CUE_WORDS.values()
                                                              for w in words]
    + ["و", "ف", "ب", "ل", "ك", "ال", "بال", "لل", "ت", "ات", " ", " ", "_", "3", "x", "،", "\u0651", "أ", "اعتقال"])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(_PIECES, max_size=10).map("".join) | st.text(max_size=30), max_size=6))
def test_the_default_scheme_gives_the_cue_matrix_of_before(texts):
    folded = [normalise(t) for t in texts]
    expected = np.array([[float(bool(p.search(f))) for p in _OLD_PATTERNS] for f in folded],
                        dtype=np.float32).reshape(-1, len(OLD_LABELS))
    np.testing.assert_array_equal(cue_matrix(folded), expected)
    # The same cues as a scheme read from a file (another dict, another matcher), and as the
    # parameter a trained pipeline stores (lists), give the same matrix.
    shipped = load_scheme(ROOT / "classify" / "schemes" / "codebook.toml").cues
    np.testing.assert_array_equal(cue_matrix(folded, shipped), expected)
    as_lists = {label: list(words) for label, words in shipped.items()}
    np.testing.assert_array_equal(CueFeatures(cues=as_lists).transform(texts).toarray(),
                                  CueFeatures().transform(texts).toarray())


def test_the_default_scheme_builds_the_pipeline_of_before():
    from classify.pipeline import make_pipeline

    texts = [t.format(p="حلب") for ts in SENTENCES.values() for t in ts]
    assert repr(make_pipeline(scheme=default_scheme()).get_params()) == repr(make_pipeline().get_params())
    # With the cue block on, the features are the same (only the block's stored cues differ).
    with_cues = make_pipeline(params={"features__cues": "cues"}, scheme=default_scheme())[:-1]
    before = make_pipeline(params={"features__cues": "cues"})[:-1]
    assert (with_cues.fit_transform(texts) != before.fit_transform(texts)).nnz == 0
    rules = make_pipeline("rules", scheme=default_scheme()).fit(texts)
    np.testing.assert_array_equal(rules.predict_proba(texts), make_pipeline("rules").fit(texts).predict_proba(texts))


# -- scheme files ----------------------------------------------------------------------


def test_a_scheme_file_gives_its_labels_in_order(tmp_path):
    path = tmp_path / "two.toml"
    path.write_text(TWO_LABELS, encoding="utf-8")
    scheme = load_scheme(path)
    assert scheme.name == "arrests" and scheme.labels == ("shelling", "arrest")
    assert scheme.cues == {"shelling": ("قصف", "غارات", "قذائف"), "arrest": ("اعتقال", "اعتقلت", "معتقلين")}
    assert cue_labels("واعتقلت الشرطة رجلا بعد القصف", scheme.cues) == ["shelling", "arrest"]
    assert cue_labels("واعتقلت الشرطة رجلا") == []  # not a codebook cue
    # The hash is of the content: the name counts, comments and spacing do not.
    spaced = tmp_path / "spaced.toml"
    spaced.write_text("# my scheme\n" + TWO_LABELS.replace(", ", ",   "), encoding="utf-8")
    assert load_scheme(spaced).sha256 == scheme.sha256
    assert Scheme("other", scheme.labels, scheme.cues).sha256 != scheme.sha256
    # No name: the file's stem; no cues: a label the cue block and the rules never mark.
    bare = tmp_path / "bare.toml"
    bare.write_text("[labels.a]\n[labels.b]\ncues = []\n", encoding="utf-8")
    assert load_scheme(bare) == Scheme("bare", ("a", "b"), {"a": (), "b": ()})
    assert cue_matrix(["قصف"], load_scheme(bare).cues).tolist() == [[0.0, 0.0]]


BAD_SCHEMES = [
    ('name = "x"\n[labels.shelling\n', ["not valid TOML"]),
    ('name = "x"\n', ["no labels"]),
    ('name = "x"\nlabels = 3\n', ["labels must be [labels.NAME] tables"]),
    ('[labels.Shelling]\ncues = ["قصف"]\n[labels.b]\n', ["bad label name 'Shelling'"]),
    ('[labels."a b"]\ncues = ["قصف"]\n[labels.b]\n', ["bad label name 'a b'"]),
    ('[labels.a]\n[labels."a;b"]\n', ["bad label name 'a;b'"]),
    ('[labels.none]\n[labels.b]\n', ["label name 'none' is reserved"]),
    ('[labels.a]\ncues = "قصف"\n[labels.b]\n', ["labels.a.cues must be a list of non-empty strings"]),
    ('[labels.a]\ncues = ["قصف", ""]\n[labels.b]\n', ["labels.a.cues[1] is empty", "non-empty strings"]),
    ('[labels.a]\ncues = [" \u0640 ", "قصف"]\n[labels.b]\n', ["labels.a.cues[0] is empty"]),
    ('[labels.a]\ncues = ["قصف", 3]\n[labels.b]\n', ["labels.a.cues[1] is a int, not a string"]),
    ('[labels.a]\ncues = ["قصف"]\n[labels.a]\ncues = ["غارة"]\n', ["not valid TOML", "('labels', 'a') twice"]),
    ('[labels.a]\ncues = ["قصف", "قصف"]\n[labels.b]\n', ["labels.a.cues repeats 'قصف'"]),
    ('[labels.a]\ncue = ["قصف"]\n[labels.b]\n', ["unknown key 'cue' in labels.a"]),
    ('[labels.a]\n[labels.b]\n[colour]\n', ["unknown key 'colour'"]),
    ('labels.a = 1\nlabels.b = 2\n', ["labels.a must be a table with cues"]),
    ('name = ""\n[labels.a]\n[labels.b]\n', ["name must be a non-empty string"]),
    ('[labels.a]\ncues = ["قصف"]\n', ["only one label (a)", "at least two labels"]),
    ("".join(f"[labels.l{i}]\n" for i in range(64)), ["64 labels, more than the limit of 63"]),
    (b'[labels.a]\ncues = ["\xd9"]\n', ["not UTF-8"]),
]


@pytest.mark.parametrize("content,fragments", BAD_SCHEMES)
def test_a_bad_scheme_is_one_line(content, fragments, tmp_path, labels_file, corpus_dir, capsys):
    path = tmp_path / "bad.toml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    status, _, err = run(["train", "--scheme", path, "--labels", labels_file, "--corpus", corpus_dir,
                          "--out", tmp_path / "m"], capsys)
    one_line_error(status, err, str(path), *fragments)
    assert not (tmp_path / "m").exists()
    status, _, err = run(["data", "check", "--scheme", path, "--labels", labels_file, "--corpus", corpus_dir], capsys)
    one_line_error(status, err, str(path), *fragments)
    with pytest.raises(ClassifyError):
        load_scheme(path)


def test_a_missing_scheme_file_or_a_bad_config_scheme_is_one_line(tmp_path, labels_file, corpus_dir, capsys):
    argv = ["train", "--labels", labels_file, "--corpus", corpus_dir, "--out", tmp_path / "m"]
    status, _, err = run(argv + ["--scheme", tmp_path / "nowhere.toml"], capsys)
    one_line_error(status, err, f"cannot read scheme {tmp_path / 'nowhere.toml'}")
    config = tmp_path / "c.toml"
    config.write_text('scheme = "nowhere.toml"\n', encoding="utf-8")
    status, _, err = run(argv + ["--config", config], capsys)
    one_line_error(status, err, f"cannot read scheme {tmp_path / 'nowhere.toml'}")
    config.write_text("scheme = 3\n", encoding="utf-8")
    status, _, err = run(argv + ["--config", config], capsys)
    one_line_error(status, err, f"{config}: scheme must be the path of a label scheme file (TOML), got 3")


# -- a scheme of one's own, end to end -------------------------------------------------------


@pytest.fixture(scope="module")
def arrests(tmp_path_factory):
    """A corpus of shelling and arrest paragraphs, its labels file, the two-label scheme, a small config."""
    folder = tmp_path_factory.mktemp("arrests")
    rng = random.Random(3)
    records, rows = [], ["doc_id,start,end,labels,split,source,sha1"]
    for i in range(24):
        doc_id, claim = f"ufc-A{i % 8}-{i:02d}", f"A{i % 8}"
        text = "مقالات ذات صلة\n"
        for k, labels in enumerate(rng.sample([[], ["shelling"], ["arrest"], ["shelling", "arrest"]], 4)):
            place = rng.choice(PLACES)
            parts = [rng.choice(SENTENCES["shelling"] if label == "shelling" else ARREST).format(p=place)
                     for label in labels] or [rng.choice(SENTENCES[""]).format(p=place)]
            paragraph = "، و".join(parts) + f" بحسب التقرير رقم {4 * i + k}."
            start = len(text)
            text += paragraph + "\n"
            split = "test" if claim in ("A0", "A1") else "train"
            rows.append(f"{doc_id},{start},{start + len(paragraph)},{';'.join(labels)},{split},manual,"
                        f"{span_sha1(paragraph)}")
        records.append({"doc_id": doc_id, "corpus": "unifiedfc", "text": text + "اترك تعليقاً", "claim_id": claim})
    corpus = folder / "corpus"
    corpus.mkdir()
    with gzip.open(corpus / "unifiedfc.jsonl.gz", "wt", encoding="utf-8") as fh:
        fh.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    (folder / "labels.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (folder / "two.toml").write_text(TWO_LABELS, encoding="utf-8")
    (folder / "small.toml").write_text(
        'classifier = "logreg"\nn_splits = 3\n[params]\n"features__char__min_df" = 1\n'
        '"features__char__ngram_range" = [2, 4]\n"features__cues" = "cues"\n', encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def arrest_model(arrests):
    out = arrests / "model"
    assert main(["train", "--scheme", str(arrests / "two.toml"), "--config", str(arrests / "small.toml"),
                 "--labels", str(arrests / "labels.csv"), "--corpus", str(arrests / "corpus"), "--out", str(out)]) == 0
    return out


def test_a_two_label_scheme_trains_saves_and_loads_with_its_labels(arrests, arrest_model):
    from classify import load_model
    from classify.store import current_version

    model = load_model(arrest_model)
    scheme = load_scheme(arrests / "two.toml")
    assert model.labels == ("shelling", "arrest") and model.scheme == scheme
    assert set(model.thresholds) == {"shelling", "arrest"} and set(model.meta["cv"]["per_label_f1"]) == set(model.labels)
    card = json.loads((current_version(arrest_model) / "model.json").read_text(encoding="utf-8"))
    assert card["labels"] == ["shelling", "arrest"]
    assert card["scheme"] == {"name": "arrests", "labels": ["shelling", "arrest"],
                              "cues": {"shelling": ["قصف", "غارات", "قذائف"], "arrest": ["اعتقال", "اعتقلت", "معتقلين"]},
                              "sha256": scheme.sha256}
    # The saved pipeline carries its own cues, in the scheme's column order.
    block = model.pipeline.named_steps["features"].get_params()["cues"]
    assert isinstance(block, CueFeatures) and list(block.cues) == ["shelling", "arrest"]
    assert list(block.get_feature_names_out()) == ["cue_shelling", "cue_arrest"]
    assert block.transform(["واعتقلت الشرطة رجلا"]).toarray().tolist() == [[0.0, 1.0]]
    proba = model.predict_proba(["اعتقلت قوات الأمن عشرات الشبان في حلب", "قصفت الطائرات الحربية مواقع في حمص"])
    assert list(proba.columns) == ["shelling", "arrest"]
    assert model.predict(["اعتقلت قوات الأمن عشرات الشبان في حلب فجر اليوم"]) == [["arrest"]]


def test_a_two_label_scheme_predicts_and_evaluates_with_its_labels(arrests, arrest_model, tmp_path, capsys):
    jsonl = tmp_path / "in.jsonl"
    jsonl.write_text('{"id": 1, "text": "شنت الأجهزة الأمنية حملة اعتقال واسعة في درعا"}\n', encoding="utf-8")
    status, out, err = run(["predict", "--model", arrest_model, jsonl], capsys)
    assert status == 0, err
    record = json.loads(out)
    assert set(record["scores"]) == {"shelling", "arrest"} and record["labels"] == ["arrest"]
    reports = tmp_path / "reports"
    status, out, err = run(["evaluate", "--model", arrest_model, "--labels", arrests / "labels.csv",
                            "--corpus", arrests / "corpus", "--reports", reports], capsys)
    assert status == 0, err
    result = json.loads((reports / "metrics.json").read_text(encoding="utf-8"))
    assert list(result["per_label"]) == ["shelling", "arrest"] and result["macro_f1"] > 0.8
    # The keyword baseline uses the scheme's cues: "اعتقلت" and "معتقلين" are arrest cues here.
    assert list(result["baseline_keyword_rules"]["per_label"]) == ["shelling", "arrest"]
    assert result["baseline_keyword_rules"]["per_label"]["arrest"]["recall"] == 1.0
    assert "| arrest |" in out and "cue words of scheme arrests" in out
    assert "| arrest |" in (reports / "metrics.md").read_text(encoding="utf-8")
    status, out, err = run(["data", "check", "--scheme", arrests / "two.toml", "--labels", arrests / "labels.csv",
                            "--corpus", arrests / "corpus"], capsys)
    assert status == 0, err
    assert "labels of scheme arrests" in out and "arrest" in out.splitlines()[1].split()


def test_the_scheme_flag_wins_over_the_configuration(arrests, tmp_path, capsys):
    from classify import load_model

    renamed = tmp_path / "renamed.toml"
    renamed.write_text(TWO_LABELS.replace('"arrests"', '"renamed"'), encoding="utf-8")
    config = tmp_path / "config.toml"
    config.write_text(f'scheme = "{arrests / "two.toml"}"\n' + (arrests / "small.toml").read_text(encoding="utf-8"),
                      encoding="utf-8")
    argv = ["train", "--config", config, "--labels", arrests / "labels.csv", "--corpus", arrests / "corpus"]
    status, _, err = run(argv + ["--out", tmp_path / "by_config"], capsys)
    assert status == 0, err
    assert load_model(tmp_path / "by_config").scheme.name == "arrests"
    status, _, err = run(argv + ["--out", tmp_path / "by_flag", "--scheme", renamed], capsys)
    assert status == 0, err
    assert load_model(tmp_path / "by_flag").scheme.name == "renamed"


def test_a_relative_config_scheme_is_read_beside_the_config(arrests, tmp_path):
    from classify.config import load_config

    (tmp_path / "schemes").mkdir()
    (tmp_path / "schemes" / "two.toml").write_text(TWO_LABELS, encoding="utf-8")
    config = tmp_path / "config.toml"
    config.write_text('scheme = "schemes/two.toml"\n', encoding="utf-8")
    assert load_config(config)["scheme"] == str((tmp_path / "schemes" / "two.toml").resolve())


def _first_row_outside(spans, labels):
    # Rows are written in span order after the header (line 1).
    return next((n, next(x for x in ls if x not in labels))
                for n, (_, _, _, ls, _) in enumerate(spans, 2) if set(ls) - set(labels))


def test_a_label_outside_the_scheme_is_one_line_naming_the_row(arrests, arrest_model, labels_file, spans,
                                                                corpus_dir, tmp_path, capsys):
    row, label = _first_row_outside(spans, ("shelling", "arrest"))
    expected = f"{labels_file}: row {row}: unknown label {label!r}, not in scheme 'arrests'"
    status, _, err = run(["train", "--scheme", arrests / "two.toml", "--labels", labels_file, "--corpus", corpus_dir,
                          "--out", tmp_path / "m"], capsys)
    one_line_error(status, err, expected, "expected some of shelling, arrest")
    assert not (tmp_path / "m").exists()
    status, _, err = run(["data", "check", "--scheme", arrests / "two.toml", "--labels", labels_file,
                          "--corpus", corpus_dir], capsys)
    one_line_error(status, err, expected)
    # evaluate checks the labels file against the model's own scheme.
    status, _, err = run(["evaluate", "--model", arrest_model, "--labels", labels_file, "--corpus", corpus_dir,
                          "--allow-other-labels", "--reports", tmp_path / "r"], capsys)
    one_line_error(status, err, expected)
    # And the codebook's scheme refuses an arrest label.
    status, _, err = run(["data", "check", "--labels", arrests / "labels.csv", "--corpus", arrests / "corpus"], capsys)
    one_line_error(status, err, "unknown label 'arrest', not in scheme 'codebook'")


def test_train_refuses_labels_outside_its_scheme():
    from classify import train

    with pytest.raises(ClassifyError, match="label 'looting' is not in scheme 'codebook'"):
        train(["قصف"] * 4, [["looting"]] * 4, ["a", "b", "c", "d"])


def test_the_rules_classifier_uses_the_scheme(arrests):
    from classify.pipeline import make_pipeline

    rules = make_pipeline("rules", scheme=load_scheme(arrests / "two.toml")).fit(["x"])
    assert rules.predict_proba(["واعتقلت الشرطة رجلا بعد القصف", "لا شيء"]).tolist() == [[1.0, 1.0], [0.0, 0.0]]


def test_the_experiments_runner_refuses_a_scheme(arrests, tmp_path):
    from experiments.run import run_config

    config = tmp_path / "c.toml"
    config.write_text(f'scheme = "{arrests / "two.toml"}"\n', encoding="utf-8")
    with pytest.raises(ClassifyError, match="the experiments runner uses the codebook's labels"):
        run_config(config, None, {})


def test_a_two_label_scheme_explains_and_reports_with_its_labels(arrests, arrest_model, tmp_path, capsys):
    from classify import load_model

    text = "شنت الأجهزة الأمنية حملة اعتقال واسعة في درعا"
    explanation = load_model(arrest_model).explain(text, ["arrest"])
    spans = explanation["arrest"].spans
    assert spans and all(text[s.start:s.end] == s.text for s in spans)
    article = tmp_path / "article.txt"
    article.write_text(text + " فجر اليوم بحسب ناشطين محليين\n", encoding="utf-8")
    status, _, err = run(["explain", "--model", arrest_model, article, "-o", tmp_path / "e.html"], capsys)
    assert status == 0, err
    assert "arrest" in (tmp_path / "e.html").read_text(encoding="utf-8")
    status, _, err = run(["report", "--model", arrest_model, "--labels", arrests / "labels.csv", "--corpus",
                          arrests / "corpus", "--runs", tmp_path / "none.jsonl", "-o", tmp_path / "r.html"], capsys)
    assert status == 0, err
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert ">arrest<" in page and "withdrawal" not in page
    # The keyword baseline of the report is the scheme's own: its arrest cues find the arrests of the test split.
    baseline = page.split("keyword baseline", 1)[1]
    assert re.search(r">arrest</td>(<td[^>]*>[^<]*</td>){4}<td[^>]*>1\.000</td>", baseline), baseline[:3000]
