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
