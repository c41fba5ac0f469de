"""The story-boundary experiment's helpers (experiments.segmentation_storybounds)."""

from experiments.segmentation_storybounds import _runs, _title_words, headline_like

PROSE = "وقال المتحدث باسم الوزارة إن القوات استعادت السيطرة على البلدة صباح اليوم بعد اشتباكات ."
HEADLINE = "القوات الحكومية تستعيد السيطرة على بلدة في الريف الشمالي"


def test_one_line_gaps_are_bridged_unless_told_not_to_or_the_gap_is_hard():
    words, rule = [12, 3, 12, 12], [False, True, False, False]
    assert _runs(words, rule) == (0, 3)
    assert _runs(words, rule, bridge=False) == (2, 3)
    assert _runs([12, 12, 3, 12], [False, False, True, False], hard=[False, False, True, False]) == (0, 1)


def test_a_short_unpunctuated_line_before_prose_is_headline_like_and_prose_is_not():
    assert headline_like([HEADLINE, PROSE, PROSE]).tolist() == [True, False, False]
    assert not headline_like([HEADLINE]).any()  # nothing follows it


def test_title_words_come_from_the_decoded_slug_and_the_first_line():
    url = ("http://example.com/news/%D8%B9%D9%88%D9%86-%D8%A7%D9%84%D9%89-%D8%AA%D8%B1%D9%83%D9%8A%D8%A7-"
           "%D9%84%D9%84%D9%85%D8%B4%D8%A7%D8%B1%D9%83%D8%A9/2017/12/09/")
    title, slug = _title_words(["عنوان الخبر هنا | الموقع"], url)
    assert slug and {"عون", "تركيا", "عنوان", "الخبر"} <= title
    assert _title_words(["عنوان الخبر هنا"], None)[1] is False
