"""Self-contained HTML pages: explanations and the model report.

Every page is one file with no external asset: the style sheet is inline and images are
PNG data URIs. All text from the data is HTML-escaped (and its control characters written
as visible escapes); Arabic blocks carry ``dir="rtl" lang="ar"``, so the browser shapes and
orders them itself.
"""

import base64
import html
import io
import re

from classify.display import escape_controls

# One hue per label, by the label's position in the model (labels come from the model).
_HUES = [(214, 39, 40), (255, 127, 14), (148, 103, 189), (44, 160, 44), (31, 119, 180), (140, 86, 75),
         (227, 119, 194), (188, 189, 34), (23, 190, 207), (127, 127, 127)]
_AGAINST = (90, 110, 140)
#: A span's shade is full at this weight (decision units) or more.
FULL_WEIGHT = 2.0

CSS = """
body { font-family: "Noto Sans", "DejaVu Sans", sans-serif; margin: 1.5em auto; max-width: 70em; color: #222;
       line-height: 1.45; padding: 0 1em; }
[lang="ar"] { font-family: "Noto Naskh Arabic", "Noto Sans Arabic", "DejaVu Sans", sans-serif; }
p.text { font-size: 1.3em; line-height: 2.1; margin: .4em 0; }
mark { border-radius: .2em; padding: .05em .1em; color: inherit; }
mark.against { text-decoration: underline dotted #234; }
table { border-collapse: collapse; margin: .5em 0; }
td, th { border: 1px solid #ccc; padding: .2em .5em; vertical-align: top; }
th { background: #f3f3f3; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
section.para { border-top: 2px solid #888; margin-top: 1.5em; padding-top: .5em; }
div.label table { width: 100%; }
div.label { margin: .6em 0 1em; padding-inline-start: .8em; border-inline-start: .35em solid var(--hue); }
.meta { color: #555; font-size: .9em; }
.swatch { display: inline-block; min-width: 2.6em; text-align: center; border-radius: .2em; margin: 0 .15em;
          font-size: .85em; }
.legend { font-size: .9em; margin: .3em 0; }
img { max-width: 100%; border: 1px solid #ddd; }
code { font-size: .9em; word-break: break-all; }
"""


def esc(text):
    """Text for HTML: control characters as visible escapes, then ``& < > " '`` escaped."""
    return html.escape(escape_controls(str(text)), quote=True)


def page(title, body, lang="en", direction="ltr"):
    """A whole HTML document: ``<html dir=direction lang=lang>``, the inline style sheet, ``body``."""
    return (f'<!DOCTYPE html>\n<html dir="{direction}" lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n<title>{esc(title)}</title>\n'
            f"<style>{CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n")


def head(title, lang="en", direction="ltr"):
    """The start of :func:`page`, for pages written a part at a time."""
    return page(title, "\x00", lang, direction).split("\x00")[0]


TAIL = "\n</body>\n</html>\n"


def hue(index):
    """The colour of the label at ``index`` of the model's labels."""
    return _HUES[index % len(_HUES)]


def shade(weight, colour):
    """The background of a span of ``weight``: the label's colour (or the grey-blue of "against"), by strength."""
    r, g, b = colour if weight >= 0 else _AGAINST
    alpha = 0.12 + 0.73 * min(abs(weight) / FULL_WEIGHT, 1.0)
    return f"rgba({r}, {g}, {b}, {alpha:.2f})"


def marked_text(text, spans, colour):
    """``text`` as an Arabic paragraph with each span in a ``<mark>`` shaded by its weight."""
    out, last = [], 0
    for span in sorted(spans, key=lambda s: s.start):
        if span.start < last:
            continue
        features = "; ".join(f"{name} {w:+.3f}" for name, w in span.features[:6])
        kind = "toward" if span.weight >= 0 else "against"
        out.append(esc(text[last:span.start]))
        out.append(f'<mark class="{kind}" style="background: {shade(span.weight, colour)}" '
                   f'title="{span.weight:+.3f}: {esc(features)}">{esc(text[span.start:span.end])}</mark>')
        last = span.end
    out.append(esc(text[last:]))
    return f'<p class="text" dir="rtl" lang="ar">{"".join(out)}</p>'


def legend(label, colour):
    """Swatches of the shades of one label: toward it at a few weights, and against it."""
    cells = "".join(f'<span class="swatch" style="background: {shade(w, colour)}">{w:+.1f}</span>'
                    for w in (0.25, 0.5, 1.0, FULL_WEIGHT))
    against = "".join(f'<span class="swatch" style="background: {shade(-w, colour)}">{-w:+.1f}</span>'
                      for w in (0.5, FULL_WEIGHT))
    return (f'<div class="legend" dir="ltr"><b>{esc(label)}</b>: pushes toward {cells} '
            f'(full shade at {FULL_WEIGHT:+.1f} or more); against {against}</div>')


def _features(pairs):
    """Feature names and weights, left to right, each name isolated so Arabic inside it keeps its order."""
    def name_html(name):
        # Each bracketed group (a word cluster's example words) isolated too: a bigram's two stay in order.
        return re.sub(r"\[([^\]]*)\]", r"[<bdi>\1</bdi>]", esc(name))

    return " · ".join(f'<span class="feat"><bdi>{name_html(name)}</bdi>&nbsp;{w:+.2f}</span>' for name, w in pairs)


def explanation_block(item, text, colour, top=5, note=""):
    """One label of one paragraph: its score, the paragraph with its top spans marked, the spans and features."""
    spans = item.top(top)
    verdict = "passes" if item.passed else "does not pass"
    note = f" ({esc(note)})" if note else ""
    rows = "".join(
        f'<tr><td dir="rtl" lang="ar">{esc(s.text)}</td><td class="num" dir="ltr">{s.weight:+.3f}</td>'
        f'<td dir="ltr">{_features(s.features[:5])}</td></tr>'
        for s in spans)
    return (f'<div class="label" style="--hue: rgb{colour}">\n'
            f'<h3 dir="ltr">{esc(item.label)}{note} <span class="meta">score {item.score:.3f}, threshold '
            f'{item.threshold:.3f} ({verdict}); decision value {item.decision:+.3f} = bias {item.bias:+.3f} '
            f'+ spans + other features</span></h3>\n'
            f"{marked_text(text, spans, colour)}\n"
            f'<table dir="rtl"><tr><th>span</th><th class="num">weight</th><th>features (heaviest first)</th></tr>'
            f"{rows}</table>\n"
            f'<p class="meta" dir="ltr">Not in a span: {_features(item.other[:8]) or "none"}.</p>\n'
            + (f'<p class="meta" dir="ltr">Best sentence (its own score {item.sentence[2]:.3f}): '
               f'<span dir="rtl" lang="ar">{esc(text[item.sentence[0]:item.sentence[1]])}</span></p>\n'
               if item.sentence else "") + "</div>")


def png(figure_or_bytes, alt):
    """An ``<img>`` of a matplotlib figure (closed afterwards) or PNG bytes, as a data URI."""
    if isinstance(figure_or_bytes, bytes):
        data = figure_or_bytes
    else:
        import matplotlib.pyplot as plt

        buffer = io.BytesIO()
        figure_or_bytes.savefig(buffer, format="png", dpi=100)
        plt.close(figure_or_bytes)
        data = buffer.getvalue()
    return f'<img alt="{esc(alt)}" src="data:image/png;base64,{base64.b64encode(data).decode("ascii")}">'


def table(header, rows, numeric=()):
    """An HTML table; cells are escaped; columns whose index is in ``numeric`` are right-aligned."""
    def cell(tag, i, v):
        number = ' class="num"' if i in numeric else ""
        return f"<{tag}{number}>{esc(v)}</{tag}>"

    head_row = "".join(cell("th", i, h) for i, h in enumerate(header))
    body = "".join("<tr>" + "".join(cell("td", i, v) for i, v in enumerate(r)) + "</tr>" for r in rows)
    return f"<table><tr>{head_row}</tr>{body}</table>"
