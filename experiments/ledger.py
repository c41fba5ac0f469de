"""The run ledger, ``experiments/runs.jsonl``: one JSON record per line, appended atomically."""

import fcntl
import json
import os
from pathlib import Path

LEDGER = Path(__file__).resolve().parent / "runs.jsonl"


def append(record, path=LEDGER):
    """Append one record as a single line.

    The line goes out in one ``write`` on an ``O_APPEND`` descriptor under an exclusive
    ``flock``: two runs finishing at once never interleave or lose a line, and a crash
    mid-call leaves at worst nothing, never half a line.
    """
    line = (json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        written = os.write(fd, line)
        if written != len(line):  # a full disk: take the partial line back out
            os.ftruncate(fd, os.lseek(fd, 0, os.SEEK_END) - written)
            raise OSError(f"short write to {path}")
        os.fsync(fd)
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def read(path=LEDGER):
    """Every record of the ledger, oldest first; a damaged line is skipped, not fatal."""
    if not Path(path).is_file():
        return []
    records = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records
