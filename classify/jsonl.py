"""JSON Lines reading with errors that name the file and line.

Python's ``json`` accepts more than JSON and more than UTF-8 can hold; a record is refused,
with one line naming the file and line, when it

- nests arrays and objects more than :data:`MAX_DEPTH` levels deep (``json`` would raise
  ``RecursionError`` at some depth near a thousand, depending on the stack);
- holds ``NaN``, ``Infinity``, ``-Infinity`` or a number too large for a double (``1e400``):
  not JSON, and not writable as JSON;
- holds an integer of more than 4,300 digits (Python's limit on converting one);
- holds a lone surrogate escape (``"\\ud800"``): not a character, so not writable as UTF-8.

A duplicated key keeps its last value, as ``json`` does.
"""

import json
import math
import sys

from classify.errors import ClassifyError

#: Levels of nested arrays and objects a record may have (the record itself is level 1).
MAX_DEPTH = 100


def _finite(text):
    value = float(text)
    if math.isinf(value):
        raise _NotFinite(text)
    return value


def _constant(name):
    raise _NotFinite(name)


class _NotFinite(ValueError):
    pass


def _depth_exceeds(value, limit):
    """Whether ``value`` nests more than ``limit`` levels deep (without recursion)."""
    stack = [(value, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (list, dict)):
            if depth > limit:
                return True
            stack.extend((v, depth + 1) for v in (value.values() if isinstance(value, dict) else value))
    return False


def _lone_surrogate(value, where="the record"):
    """``(where, character)`` of the first string holding a lone surrogate, or None."""
    stack = [(value, where)]
    while stack:
        value, where = stack.pop()
        if isinstance(value, str):
            for ch in value:
                if "\ud800" <= ch <= "\udfff":
                    return where, ch
        elif isinstance(value, dict):
            for k, v in value.items():
                stack.append((k, "a key"))
                stack.append((v, f"field {k!r}" if where == "the record" else where))
        elif isinstance(value, list):
            stack.extend((v, where) for v in value)
    return None


def parse(line, where):
    """One JSON value from ``line``, refused with ``where`` named when it is not writable JSON.

    Parameters
    ----------
    line : str
    where : str
        The file and line, for messages (``"in.jsonl: line 3"``).

    Returns
    -------
    object

    Raises
    ------
    ClassifyError
        For invalid JSON and the cases listed in the module's description.
    """
    try:
        value = json.loads(line, parse_float=_finite, parse_constant=_constant)
    except json.JSONDecodeError as exc:
        raise ClassifyError(f"{where} is not valid JSON ({exc.msg} at column {exc.colno})") from None
    except _NotFinite as exc:
        raise ClassifyError(f"{where} holds the number {exc}, which JSON cannot hold "
                            "(expected a finite number, or null)") from None
    except RecursionError:
        raise ClassifyError(f"{where} nests arrays and objects more than {MAX_DEPTH} levels deep") from None
    except ValueError as exc:  # an integer beyond Python's digit limit
        raise ClassifyError(f"{where} holds an integer of more than {sys.get_int_max_str_digits()} digits "
                            f"({str(exc).split(':')[0]})") from None
    # Both checks look further only when the line could fail them: cheap on ordinary records.
    if line.count("[") + line.count("{") > MAX_DEPTH and _depth_exceeds(value, MAX_DEPTH):
        raise ClassifyError(f"{where} nests arrays and objects more than {MAX_DEPTH} levels deep")
    if "\\ud" in line or "\\uD" in line:
        found = _lone_surrogate(value)
        if found:
            raise ClassifyError(f"{where}: {found[0]} holds a lone surrogate \\u{ord(found[1]):04x}, which is "
                                "not a character (expected text UTF-8 can encode; a pair such as "
                                "\\ud83d\\ude00 is fine)")
    return value


def records(lines, source):
    """``(line_number, record)`` for each non-blank line; each must be a JSON object (see :func:`parse`)."""
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        record = parse(line, f"{source}: line {n}")
        if not isinstance(record, dict):
            raise ClassifyError(f"{source}: line {n} is not a JSON object (it is {kind(record)}; "
                                'expected one record per line, e.g. {"text": "..."})')
        yield n, record


def kind(value):
    """What ``value`` is, in JSON's words, for messages: ``"a string"``, ``"null"``, ``"an array"``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"
