"""Arabic in a terminal: shaped (joined letter forms) and in visual right-to-left order.

Terminals lay text out left to right, letter by letter, so Arabic must be reshaped and
reordered before printing. Files and pipes get plain logical-order UTF-8.
"""

import sys


def for_terminal(text):
    """``text`` shaped with arabic-reshaper and reordered with python-bidi."""
    import arabic_reshaper
    from bidi import get_display

    return get_display(arabic_reshaper.reshape(text))


def show(text, stream=None):
    """Format ``text`` for ``stream``: visual order for a terminal, unchanged otherwise."""
    stream = stream or sys.stdout
    return for_terminal(text) if getattr(stream, "isatty", lambda: False)() else text
