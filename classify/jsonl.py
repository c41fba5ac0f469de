"""JSON Lines reading with errors that name the file and line."""

import json

from classify.errors import ClassifyError


def records(lines, source):
    """``(line_number, record)`` for each non-blank line; each must be a JSON object."""
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ClassifyError(f"{source}: line {n} is not valid JSON ({exc.msg})") from None
        if not isinstance(record, dict):
            raise ClassifyError(f"{source}: line {n} is not a JSON object")
        yield n, record
