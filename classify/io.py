"""Writing files so that an interrupted command never leaves a half-written one."""

import os
import re
import stat
import tempfile
from pathlib import Path

from classify.errors import ClassifyError


def umask():
    """The process's file mode creation mask.

    Returns
    -------
    int
    """
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
    """The mode ``open`` or ``mkdir`` would give a new file or folder under the current umask.

    Parameters
    ----------
    directory : bool
        A folder (0777 before the umask) rather than a file (0666).

    Returns
    -------
    int
    """
    return (0o777 if directory else 0o666) & ~umask()


def fsync_dir(folder):
    """Flush a folder's entries (a rename into it) to disk, where the platform allows.

    Parameters
    ----------
    folder : str or Path
    """
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


def atomic_write(path, write):
    """Call ``write(fh)`` on a temporary file beside ``path``, then rename it into place.

    An interrupted or failed write leaves any previous file at ``path`` whole. The new
    file keeps the mode of the file it replaces, or gets the umask's default; temporary
    files that killed runs left beside ``path`` are removed.

    Parameters
    ----------
    path : str or Path
    write : callable
        Given a text file open for writing (UTF-8, no newline translation).

    Raises
    ------
    ClassifyError
        If ``path`` is a folder or cannot be written (permissions, a full disk).
    """
    path = Path(path)
    if path.is_dir():
        raise ClassifyError(f"cannot write {path}: it is a folder (give a file name)")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _clean_dead_temporaries(path)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp")
    except OSError as exc:
        raise ClassifyError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        # mkstemp makes it 0600: a rename would turn a shared 0644 file private.
        os.fchmod(fd, stat.S_IMODE(path.stat().st_mode) if path.exists() else default_mode())
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            write(fh)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise ClassifyError(f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _clean_dead_temporaries(path):
    # A temporary is named after its writer's process id: one whose process is gone was left by a kill.
    own = re.compile(re.escape(f".{path.name}.") + r"(\d+)\.[^.]+\.tmp")
    for entry in path.parent.iterdir():
        found = own.fullmatch(entry.name)
        if found and not _alive(int(found[1])):
            entry.unlink(missing_ok=True)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, but someone else's
        return True
    return True
