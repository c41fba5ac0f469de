"""Line rules: phrases and prose shape that mark a page line as furniture, on the line alone.

Crawled pages mix the article's lines with navigation, comment forms, share and login
text, cookie notices, copyright lines and lists of other headlines; :func:`is_furniture`
decides each line on its own, from the furniture phrases it contains and from how much
it reads like running prose. The rules favour keeping: a dropped article line loses a
labelled event for good. They are the fallback segmenter and, through
:func:`line_signals`, features of the page-aware line model.
"""

import re
from dataclasses import dataclass

from classify.normalise import _ALEF, _ALEF_MAQSURA, _TEH_MARBUTA, strip_diacritics

_LINE = re.compile(r"[^\n\r\u2028\u2029]+")
_ARABIC_LETTER = re.compile("[\u0621-\u064a\u0671-\u06d3]")
_LATIN_LETTER = re.compile("[A-Za-z]")
_WORD = re.compile(r"\w+")
_SENTENCE_END = re.compile(r"[.!?؟]['\"»)]?(\s|$)")
_DATE = re.compile(r"\b\d{1,4}\s?[/:.-]\s?\d{1,2}(\s?[/:.-]\s?\d{1,4})?\b")

# Matched after folding (alef forms unified, teh marbuta -> heh, lower case). Strong
# phrases are furniture wherever they stand; weak ones only in a short line, because an
# article may quote them ("شارك", "عاجل", "فيديو"). The first group also ends an article:
# what follows it on a page is footer and sidebar. ("اقرأ أيضا" is not in that group:
# sites put it between the paragraphs of an article.)
_END_OF_ARTICLE = (
    "مقالات ذات صلة", "اخبار ذات صلة", "مواضيع ذات صلة", "مواد ذات صلة", "قصص ذات صلة", "الاكثر قراءة",
    "الاكثر مشاهدة", "اترك تعليقا", "اضف تعليق", "لن يتم نشر", "جميع الحقوق محفوظة", "copyright",
    "all rights reserved", "share tools", "شارك هذا المقال", "الخبر التالي", "المقال التالي",
)
_STRONG = _END_OF_ARTICLE + (
    "اقرا ايضا", "اقرا المزيد", "اظهر المزيد", "شاهد ايضا", "الاكثر تعليقا", "الاكثر تداولا", "اضف تعليقك",
    "الحقول الالزامية", "الحقول المطلوبة", "بريدك", "كلمة المرور", "تسجيل الدخول", "تسجيل الخروج",
    "انشاء حساب", "نسيت كلمة", "النشرة البريدية", "نشرتنا", "اشترك الان", "الحقوق محفوظة", "حقوق النشر",
    "حقوق الطبع", "ملفات تعريف الارتباط", "ملفات الكوكيز", "cookies", "سياسة الخصوصية", "شروط الاستخدام",
    "الذهاب الى الاعلى", "العودة الى الاعلى", "شارك هذه الصفحة", "شارك على", "تابعونا", "تابعنا على",
    "اتصل بنا", "من نحن", "اعلن معنا", "خريطة الموقع", "ارسل لصديق", "ارسال لصديق", "حجم الخط",
    "طباعة الخبر", "الخبر السابق", "المقال السابق", "تخطي شريط التصفح", "media player", "watch now",
    "التعليقات", "جاري التحميل", "جاري التسجيل", "اضغط هنا", "انقر هنا", "حمل تطبيق", "تطبيق الهاتف", "rss",
    "click here", "most viewed", "لمزيد من المحتوى", "عمليات البحث الاكثر", "قم بالتسجيل", "هل تملك حساب",
    "لا تتحمل اي مسؤولية", "المخاطر والتكاليف", "اعادة نشر اي", "تحت طائلة", "اخلاء المسؤولية",
    "فشل التاكد من البريد", "اكتب الكلمات", "لست نصف الي", "اللغة العربية كلغة",
)
# A teaser of another story: an ellipsis cuts one story off and an agency dateline starts the next.
_TEASER = re.compile(r"(\. \. \.|\.\.\.|…)[^.]{0,60}\( ?(رويترز|ا ف ب|أ ف ب|د ب أ|الأناضول|سانا|AFP|Reuters) ?\)")
_WEAK = (
    "الرئيسيه", "شارك", "فيسبوك", "تويتر", "واتساب", "يوتيوب", "انستغرام", "تلغرام", "facebook",
    "twitter", "whatsapp", "youtube", "google", "عاجل", "فيديو", "صور", "بحث", "طباعه", "الارشيف",
    "المزيد", "اخبار", "اخر الاخبار", "اخر تحديث", "منذ", "دقيقه", "ساعه", "تعليق", "اعلان",
)


@dataclass(frozen=True)
class Paragraph:
    """One paragraph of an article: ``text == article[start:end]``."""

    start: int
    end: int
    text: str


# The letters normalise's unify_alef, unify_alef_maqsura and unify_teh_marbuta map, as pairs.
_FOLD_PAIRS = tuple((chr(k), v) for table in (_ALEF, _ALEF_MAQSURA, _TEH_MARBUTA) for k, v in table.items())


def _fold(text):
    # Only what the phrase lists need: cheaper than full normalisation on every page line. The
    # same letters as normalise's unify_* functions, by str.replace (in C), not str.translate
    # (a dict look-up per character): a third of the time of every line's features.
    text = strip_diacritics(text)
    for letter, plain in _FOLD_PAIRS:
        if letter in text:
            text = text.replace(letter, plain)
    return text.lower()


# Plain substring tests run in C; one big regex alternation was several times slower.
_STRONG_FOLDED = tuple(_fold(p) for p in _STRONG)
_WEAK_WORDS = frozenset(_fold(p) for p in _WEAK if " " not in p)
_WEAK_PHRASES = tuple(_fold(p) for p in _WEAK if " " in p)
_END_FOLDED = tuple(_fold(p) for p in _END_OF_ARTICLE)


def _prose_score(line):
    """How much a line reads like running prose: Arabic words and finished sentences."""
    words = _WORD.findall(line)
    arabic = len(_ARABIC_LETTER.findall(line))
    latin = len(_LATIN_LETTER.findall(line))
    sentences = len(_SENTENCE_END.findall(line))
    return len(words), arabic / max(arabic + latin, 1), sentences


def line_signals(line):
    """The measurements :func:`is_furniture` decides on, for one line (also model features).

    Returns
    -------
    dict
        ``words``, ``arabic_share``, ``sentences``, ``strong`` (furniture phrases),
        ``weak`` (0/1), ``dates``, ``teaser`` (0/1), ``separators``, ``ends_article`` (0/1).
    """
    n_words, arabic_share, sentences = _prose_score(line)
    folded = _fold(line)
    return {
        "words": n_words, "arabic_share": arabic_share, "sentences": sentences,
        "strong": sum(phrase in folded for phrase in _STRONG_FOLDED),
        "weak": int(not _WEAK_WORDS.isdisjoint(folded.split()) or any(p in folded for p in _WEAK_PHRASES)),
        "dates": len(_DATE.findall(line)), "teaser": int(bool(_TEASER.search(line))),
        "separators": line.count("|") + line.count("»") + line.count("•"),
        "ends_article": int(any(marker in folded for marker in _END_FOLDED)),
    }


def is_furniture(line, signals=None):
    """Whether one line of a page is furniture rather than article text, by the rules alone.

    Parameters
    ----------
    line : str
        One line of the page, without its line break.
    signals : dict, optional
        :func:`line_signals` of ``line``, when the caller has them already.

    Returns
    -------
    bool
    """
    s = signals or line_signals(line)
    n_words, sentences, strong = s["words"], s["sentences"], s["strong"]
    if n_words == 0 or s["arabic_share"] < 0.5:
        return True
    if s["teaser"]:
        return True
    if strong:
        # A long line that carries finished sentences besides the furniture is a
        # paragraph the crawler glued to a footer: keep it (lose no article text).
        return not (n_words >= 25 and sentences >= 2 and strong == 1)
    if n_words <= 4:
        return True
    if n_words <= 10 and (s["weak"] or s["dates"]) and not sentences:
        return True
    # A long line with no finished sentence and several separators is a list of
    # headlines, a menu or a breadcrumb.
    return s["separators"] >= 3 and sentences <= 1


def segment_by_rules(text):
    """Split an article into its paragraphs with the line rules alone (no page model).

    A line is furniture by :func:`is_furniture`. Once the article has begun, a line
    that ends articles (related stories, comments, copyright) is furniture and so is
    everything after it.

    Parameters
    ----------
    text : str
        The article's full text, lines separated by line breaks.

    Returns
    -------
    list of Paragraph
    """
    kept = []
    for p in split_lines(text):
        if not is_furniture(p.text):
            kept.append(p)
        elif len(kept) >= 2 and any(marker in _fold(p.text) for marker in _END_FOLDED):
            break  # the article is over: the rest is footer, sidebar and comments
    return kept


def split_lines(text):
    """Every non-blank line of ``text`` as a :class:`Paragraph`, furniture included."""
    paragraphs = []
    for match in _LINE.finditer(text):
        raw = match.group()
        stripped = raw.strip()
        if stripped:
            start = match.start() + (len(raw) - len(raw.lstrip()))
            paragraphs.append(Paragraph(start, start + len(stripped), stripped))
    return paragraphs
