"""Arabic in a terminal: shaped (joined letter forms) and in visual right-to-left order.

Terminals lay text out left to right, letter by letter, so Arabic must be reshaped and
reordered before printing. A long paragraph is wrapped to the terminal's width first
and each line reordered on its own, or the terminal's own wrapping would put the
lines of a right-to-left paragraph in the wrong order. Control characters are shown
as escapes, never sent raw: a crawled page can hold ``ESC ] 0;...`` (retitle the
window) or ``ESC [31m`` (recolour), which a terminal would obey. Files and pipes get
plain logical-order UTF-8.
"""

import re
import shutil
import sys
import textwrap

# C0 controls but tab and newline, DEL, and the C1 controls (U+0080-U+009F, which some
# terminals read as escape sequences too).
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def escape_controls(text):
    """``text`` with every control character but tab and newline written as ``\\xNN``.

    Parameters
    ----------
    text : str

    Returns
    -------
    str
        Safe to print on a terminal: ``"\\x1b[31m"`` stays visible text.
    """
    return _CONTROLS.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def for_terminal(text):
    """``text`` shaped with arabic-reshaper and reordered with python-bidi."""
    import arabic_reshaper
    from bidi import get_display

    return get_display(arabic_reshaper.reshape(text))


def show(text, stream=None, indent=0):
    """Format ``text`` for ``stream``: wrapped visual lines for a terminal, unchanged otherwise.

    On a terminal, control characters are escaped first (see :func:`escape_controls`).

    Parameters
    ----------
    text : str
    stream : file, optional
        Standard output by default.
    indent : int
        Columns already used on the first line (a prefix); later lines are indented as much.
    """
    stream = stream or sys.stdout
    if not getattr(stream, "isatty", lambda: False)():
        return text
    width = max(shutil.get_terminal_size().columns - indent, 20)
    lines = textwrap.wrap(escape_controls(text), width) or [""]
    return ("\n" + " " * indent).join(for_terminal(line) for line in lines)


# Marks around spans: bidi-neutral brackets that no news text uses stand in for them while a line
# is wrapped and reordered, and are replaced by colours (on a terminal) afterwards.
_SENTINELS = {"+": ("\u27e6", "\u27e7"), "-": ("\u2983", "\u2984")}
_SIGN_OF = {c: sign for sign, pair in _SENTINELS.items() for c in pair}
#: Plain-text marks, for files and pipes: ``[pushes toward]`` and ``{pushes against}``.
BRACKETS = {"+": ("[", "]"), "-": ("{", "}")}
_COLOURS = {"+": "\x1b[1;30;43m", "-": "\x1b[4;34m"}
_RESET = "\x1b[0m"


def _with_marks(text, marks, pairs, escape=False):
    out, last = [], 0
    for start, end, sign in sorted(marks):
        if start < last:  # overlapping marks: the first one wins
            continue
        piece = text[last:start], text[start:end]
        out += [escape_controls(piece[0]) if escape else piece[0], pairs[sign][0],
                escape_controls(piece[1]) if escape else piece[1], pairs[sign][1]]
        last = end
    out.append(escape_controls(text[last:]) if escape else text[last:])
    return "".join(out)


def show_marked(text, marks, stream=None, indent=0):
    """Format ``text`` with spans marked: coloured and shaped on a terminal, bracketed otherwise.

    Parameters
    ----------
    text : str
    marks : iterable of (int, int, str)
        ``(start, end, sign)`` spans of ``text``; sign ``"+"`` (pushes toward a label) or ``"-"``.
    stream : file, optional
        Standard output by default. On a terminal each wrapped line is shaped, put in visual
        order and the spans coloured; elsewhere ``text`` stays in logical order with the spans
        in :data:`BRACKETS`.
    indent : int
        Columns already used on the first line.
    """
    stream = stream or sys.stdout
    marks = list(marks)
    if not getattr(stream, "isatty", lambda: False)():
        return _with_marks(text, marks, BRACKETS)
    width = max(shutil.get_terminal_size().columns - indent, 20)
    lines = textwrap.wrap(_with_marks(text, marks, _SENTINELS, escape=True), width) or [""]
    # A span cut by the wrapping is closed at the end of its line and opened again on the next.
    balanced, open_sign = [], None
    for line in lines:
        if open_sign:
            line = _SENTINELS[open_sign][0] + line
        for char in line:
            sign = _SIGN_OF.get(char)
            if sign:
                open_sign = sign if char == _SENTINELS[sign][0] else None
        balanced.append(line + _SENTINELS[open_sign][1] if open_sign else line)
    return ("\n" + " " * indent).join(_colour(for_terminal(line)) for line in balanced)


def _colour(visual):
    # Reordering may reverse and mirror the marks: any mark toggles its span's colour on or off.
    out, current = [], None
    for char in visual:
        sign = _SIGN_OF.get(char)
        if sign is None:
            out.append(char)
        elif current is None:
            out.append(_COLOURS[sign])
            current = sign
        else:
            out.append(_RESET)
            current = None
    if current:
        out.append(_RESET)
    return "".join(out)
