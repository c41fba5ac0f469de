"""Writing files so that an interrupted command never leaves a half-written one."""

import os
from pathlib import Path


def umask():
    """The process's file mode creation mask."""
    # /proc gives it without changing it; os.umask has to set it to read it.
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def default_mode(directory=False):
    """The mode ``open`` or ``mkdir`` would give a new file or folder under the current umask."""
    return (0o777 if directory else 0o666) & ~umask()


def fsync_dir(folder):
    """Flush a folder's entries (a rename into it) to disk, where the platform allows."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
