"""Fixtures: a tiny corpus of Arabic paragraphs written for these tests, in both corpus formats."""

import gzip
import json
import random
from pathlib import Path

import pytest

from classify.data import span_sha1

SEED_ARTICLE = Path(__file__).resolve().parents[1] / ".." / "shared" / "seed" / "article_hajin_2018.txt"
REAL_CORPUS = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus"

PLACES = ["حلب", "إدلب", "درعا", "الرقة", "دير الزور", "حمص", "حماة", "تدمر", "منبج", "الباب", "عفرين", "جرابلس"]
SENTENCES = {
    "shelling": ["قصفت الطائرات الحربية مواقع في {p} بعدة غارات جوية", "سقطت قذائف هاون على أحياء {p} صباح اليوم",
                 "استهدف القصف المدفعي والصاروخي أطراف {p} بشكل مكثف", "شنت طائرات مسيرة غارات على ريف {p}"],
    "ground_advance": ["تقدمت القوات وسيطرت على قرى جديدة في ريف {p}", "اقتحمت الفصائل بلدة قرب {p} بعد معارك عنيفة",
                       "شنت القوات هجوما واسعا للسيطرة على {p}", "وصلت القوات المهاجمة إلى مشارف {p}"],
    "withdrawal": ["انسحب عناصر التنظيم من مواقعهم في {p}", "اضطرت القوات للانسحاب من {p} بعد هجوم مضاد",
                   "تراجع المقاتلون باتجاه أطراف {p} وأخلوا مقراتهم", "أعلن الفصيل انسحابه الكامل من {p}"],
    "humanitarian": ["نزح آلاف المدنيين من {p} هربا من المعارك", "يعاني الأهالي المحاصرون في {p} من نقص الغذاء والدواء",
                     "قتل مدنيون بينهم أطفال في {p} وأصيب آخرون", "وصلت قافلة مساعدات إنسانية إلى {p}"],
    "claim_denial": ["نفت المصادر صحة الأنباء عن سقوط {p}", "أكد المتحدث عدم صحة المعلومات المتداولة عن {p}",
                     "وصف المسؤول الأخبار عن {p} بأنها شائعات لا صحة لها", "كذب الناطق الرواية المنشورة حول {p}"],
    "": ["افتتح معرض للكتاب في {p} بمشاركة دور نشر عربية", "ناقش المجلس المحلي في {p} خطة لتحسين الطرق",
         "ارتفعت أسعار الخضار في أسواق {p} هذا الأسبوع", "أقيمت مباراة ودية لكرة القدم في ملعب {p}"],
}
FURNITURE = ["مقالات ذات صلة", "اترك تعليقاً", "جميع الحقوق محفوظة © 2018", "شارك على فيسبوك تويتر واتساب"]


def _paragraph(rng, labels, serial):
    place = rng.choice(PLACES)
    parts = [rng.choice(SENTENCES[label]).format(p=place) for label in labels] or \
            [rng.choice(SENTENCES[""]).format(p=place)]
    # The serial number keeps every paragraph distinct, as the held-out split requires.
    return "، و".join(parts) + f" بحسب التقرير رقم {serial}."


def _articles(seed=7, n=40):
    """(doc_id, corpus, group fields, paragraphs with labels) of a reproducible fake corpus."""
    rng = random.Random(seed)
    choices = [[], ["shelling"], ["ground_advance"], ["withdrawal"], ["humanitarian"], ["claim_denial"],
               ["shelling", "humanitarian"], ["ground_advance", "withdrawal"], ["claim_denial", "ground_advance"]]
    out = []
    for i in range(n):
        paragraphs = [(_paragraph(rng, ls, 4 * i + k), ls) for k, ls in enumerate(rng.sample(choices, 4))]
        if i % 2 == 0:
            out.append((f"ufc-T{i % 10}-{i:02d}", "unifiedfc", {"claim_id": f"T{i % 10}"}, paragraphs))
        else:
            out.append((f"snn-2015-07-{20 + i % 5}-{i:04d}", "saudinewsnet",
                        {"date_extracted": f"2015-07-{20 + i % 5} 10:00:00", "title": "عنوان"}, paragraphs))
    return out


@pytest.fixture(scope="session")
def corpus_dir(tmp_path_factory):
    """A corpus folder with both files of the fixture corpus."""
    return _write_corpus(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="session")
def spans(corpus_dir):
    """(doc_id, start, end, labels, text) of every paragraph of the fixture corpus."""
    return _SPANS[str(corpus_dir)]


@pytest.fixture(scope="session")
def split_spans(spans):
    """The fixture corpus's paragraphs as arrays: held out are the articles with "T0"/"T1" in their id."""
    import numpy as np

    from classify.model import binarize

    held_out = [any(f"-{g}-" in s[0] for g in ("T0", "T1")) for s in spans]
    train = [s for s, out in zip(spans, held_out) if not out]
    test = [s for s, out in zip(spans, held_out) if out]
    return {"X": [s[4] for s in train], "Y": binarize([s[3] for s in train]), "groups": np.array([s[0] for s in train]),
            "X_test": [s[4] for s in test], "Y_test": binarize([s[3] for s in test])}


_SPANS = {}


def _write_corpus(folder):
    files = {"unifiedfc": [], "saudinewsnet": []}
    spans = []
    for doc_id, corpus, fields, paragraphs in _articles():
        lines = [FURNITURE[len(doc_id) % len(FURNITURE)]]
        text = lines[0] + "\n"
        for paragraph, labels in paragraphs:
            start = len(text)
            text += paragraph + ("\n" if corpus == "unifiedfc" else "\n\n")
            spans.append((doc_id, start, start + len(paragraph), labels, paragraph))
        text += FURNITURE[(len(doc_id) + 1) % len(FURNITURE)]
        files[corpus].append({"doc_id": doc_id, "corpus": corpus, "text": text, **fields})
    for corpus, records in files.items():
        with gzip.open(folder / f"{corpus}.jsonl.gz", "wt", encoding="utf-8") as fh:
            fh.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    _SPANS[str(folder)] = spans
    return folder


@pytest.fixture(scope="session")
def corpus(corpus_dir):
    from classify.corpus import load_corpus

    return load_corpus(corpus_dir)


def labels_csv(spans, test_groups=("T0", "T1", "2015-07-20")):
    """The span table as labels.csv text; articles of ``test_groups`` go to the test split."""
    rows = ["doc_id,start,end,labels,split,source,sha1"]
    for doc_id, start, end, labels, text in spans:
        split = "test" if any(f"-{g}-" in doc_id for g in test_groups) else "train"
        rows.append(f"{doc_id},{start},{end},{';'.join(labels)},{split},manual,{span_sha1(text)}")
    return "\n".join(rows) + "\n"


@pytest.fixture()
def labels_file(tmp_path, spans):
    path = tmp_path / "labels.csv"
    path.write_text(labels_csv(spans), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def trained_model(tmp_path_factory, corpus_dir, spans):
    """A model trained once through the command line on the fixture corpus."""
    from classify.cli import main

    folder = tmp_path_factory.mktemp("model")
    labels = folder / "labels.csv"
    labels.write_text(labels_csv(spans), encoding="utf-8")
    out = folder / "model"
    assert main(["train", "--labels", str(labels), "--corpus", str(corpus_dir), "--out", str(out),
                 "--config", str(write_config(folder))]) == 0
    return out


def write_config(folder):
    path = folder / "small.toml"
    path.write_text('classifier = "logreg"\nn_splits = 3\n[params]\n"features__char__min_df" = 1\n'
                    '"features__char__ngram_range" = [2, 4]\n', encoding="utf-8")
    return path


def run(argv, capsys):
    """The CLI in-process: (exit status, standard output, standard error)."""
    from classify.cli import main

    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def one_line_error(status, err, *fragments):
    """A user error: exit 2 and one line on standard error naming every fragment."""
    assert status == 2, err
    assert err.count("\n") == 1 and err.startswith("classify: ") and "Traceback" not in err, err
    for fragment in fragments:
        assert fragment in err, err
