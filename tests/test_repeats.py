import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from classify.segment import LineCounts, segment, site_of
from classify.segment.repeats import line_key

SIDEBAR = "أعلنت وزارة الصحة افتتاح مستشفى جديد في العاصمة يضم مئتي سرير ويخدم أكثر من مليون نسمة ."
MENU = "الرئيسية | أخبار | سوريا"


def _article(place):
    return [f"في {place} قصفت الطائرات الحربية مواقع في الريف الجنوبي وقتل ثلاثة مدنيين بينهم طفلان .",
            f"ومن {place} قال ناشطون إن القصف استهدف الأحياء السكنية وأدى إلى نزوح عشرات العائلات .",
            f"وفي {place} عملت فرق الدفاع المدني على انتشال الضحايا من تحت الأنقاض طوال الليل ."]


def test_line_key_folds_and_reads_the_first_ten_words():
    assert line_key("قصف الطيران مدينة إدلب صباح اليوم") == line_key("قصف  الطيران مدينة ادلب صباح اليوم")
    long = " ".join(f"كلمة{k}" for k in range(12))
    assert line_key(long) == line_key(long + " وأكثر") != line_key("أخرى " + long)
    assert line_key("ثلاث كلمات فقط") is None and line_key("") is None


def test_counts_say_on_how_many_other_pages_and_sites_a_line_stands():
    pages = [(_article(p) + [SIDEBAR, MENU], "a.example") for p in ("حلب", "إدلب", "درعا")]
    pages.append(([SIDEBAR, SIDEBAR], "b.example"))  # twice on one page counts once
    counts = LineCounts.count(pages)
    assert counts.pages == 4
    X = counts.features(pages[0][0], "a.example")
    assert X.shape == (5, 2)
    assert np.allclose(X[:3], 0)  # the article's own lines stand on no other page
    assert np.allclose(X[3], np.log1p([3, 2]))  # the sidebar: three other pages, two of its own site
    assert np.allclose(X[4], 0)  # too short to count
    assert np.allclose(counts.features([SIDEBAR], "b.example"), np.log1p([[3, 0]]))
    assert counts.features([], "a.example").shape == (0, 2)
    assert np.allclose(LineCounts.count([]).features([SIDEBAR]), 0)
    texts = [("\n\n".join(lines), f"https://www.{site}/x", None) for lines, site in pages]
    assert np.array_equal(LineCounts.of_articles(texts).site_counts, counts.site_counts)


@given(st.lists(st.sampled_from([SIDEBAR, MENU] + _article("حلب") + _article("حمص")), max_size=8),
       st.sampled_from(["a.example", "b.example", None]))
def test_a_page_alone_in_its_crawl_repeats_nothing(lines, site):
    assert np.allclose(LineCounts.count([(lines, site)]).features(lines, site), 0)


def test_counting_in_batches_counts_the_same(monkeypatch):
    from classify.segment import repeats

    pages = [(_article(PLACES[k % 5]) + [SIDEBAR, f"خبر رقم {k} عن الأحداث في المدينة اليوم"], f"s{k % 2}.example")
             for k in range(40)]
    whole = LineCounts.count(pages)
    monkeypatch.setattr(repeats, "_BATCH", 7)
    batched = LineCounts.count(pages)
    for name in ("keys", "counts", "site_keys", "site_counts"):
        assert np.array_equal(getattr(whole, name), getattr(batched, name)), name
    assert whole.counts.max() == 40 and whole.pages == batched.pages == 40


def test_site_of():
    assert site_of("https://www.Example.com/news/1") == "example.com"
    assert site_of("https://example.com/x", domain="Other.org") == "other.org"
    assert site_of(None) is None and site_of("not an address") is None


PLACES = ["حلب", "إدلب", "درعا", "حمص", "حماة", "الرقة", "منبج", "تدمر", "جرابلس", "عفرين", "الباب", "دوما"]
VERBS = ["قصفت الطائرات الحربية", "استهدفت المدفعية الثقيلة", "شنت القوات الحكومية غارات على", "سقطت قذائف صاروخية على"]


def _story(place, k):
    return [f"{VERBS[(k + j) % 4]} مواقع في {place} صباح اليوم وقتل {j + 2} مدنيين بحسب مصادر محلية ." for j in range(3)]


def _crawl():
    from classify.segment.model import Page

    # Each page prints one of two other stories whole, anywhere among its own lines and
    # written just like them: only the crawl tells the sidebar from the article.
    sidebars = _story("القامشلي", 1)[0], _story("الحسكة", 2)[1]
    pages = []
    for k, place in enumerate(PLACES):
        lines, at = _story(place, k), k % 4
        lines.insert(at, sidebars[k % 2])
        pages.append(Page(f"page-{k}", f"site{k % 3}.example", None, lines, np.arange(4) != at))
    return pages


def test_the_line_model_learns_what_a_crawl_repeats():
    from classify.segment.model import fit

    pages = _crawl()
    counts = LineCounts.count((p.lines, p.domain) for p in pages)
    for p in pages:
        p.repeats = counts.features(p.lines, p.domain)
    model = fit(pages, n_splits=3)
    wrong_alone = 0
    for page in pages:
        text = "\n".join(page.lines)
        kept = [p.text for p in segment(text, model=model, counts=counts, site=page.domain)]
        assert kept == [line for line, k in zip(page.lines, page.keep) if k]
        wrong_alone += int((model.keep(page.lines) != page.keep).sum())
    assert wrong_alone > 0  # judged alone, the same pages cannot be told apart
