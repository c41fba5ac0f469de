"""Arabic in a terminal: shaped (joined letter forms) and in visual right-to-left order.

Terminals lay text out left to right, letter by letter, so Arabic must be reshaped and
reordered before printing. A long paragraph is wrapped to the terminal's width first
and each line reordered on its own, or the terminal's own wrapping would put the
lines of a right-to-left paragraph in the wrong order. Files and pipes get plain
logical-order UTF-8.
"""

import shutil
import sys
import textwrap


def for_terminal(text):
    """``text`` shaped with arabic-reshaper and reordered with python-bidi."""
    import arabic_reshaper
    from bidi import get_display

    return get_display(arabic_reshaper.reshape(text))


def show(text, stream=None, indent=0):
    """Format ``text`` for ``stream``: wrapped visual lines for a terminal, unchanged otherwise.

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
    lines = textwrap.wrap(text, width) or [""]
    return ("\n" + " " * indent).join(for_terminal(line) for line in lines)
