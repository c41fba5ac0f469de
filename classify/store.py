"""Model folders on disk: saving, loading and checking a trained model.

A model folder ``DIR`` holds versions and a pointer to one of them::

    DIR/CURRENT                       the name of the version in use, replaced atomically
    DIR/v-<time>-<random>/model.skops the fitted pipeline, saved with skops, never pickle
    DIR/v-<time>-<random>/model.json  the model card: labels, thresholds, hashes, metrics
    DIR/.lock                         held by a writer while it saves

A save writes a complete new version, then replaces ``CURRENT``, so a reader always
finds a whole model, and an interrupted save leaves the previous one in use. Writers
take turns under the lock; the version before the current one is kept, so a reader that
has just read ``CURRENT`` still finds its version. Folders of the older flat layout
(``model.json`` and ``model.skops`` directly in ``DIR``) are still read, and converted
by the next save. Loading checks the hash and the types before anything is built.
"""

import fcntl
import json
import os
import platform
import re
import secrets
import shutil
import tempfile
import zipfile
from contextlib import contextmanager
from datetime import datetime, timezone
from hashlib import sha256
from pathlib import Path

import sklearn

from classify.corpus import file_sha256
from classify.errors import ClassifyError
from classify.io import default_mode, fsync_dir
from classify.rules import LABELS

FORMAT_VERSION = 1
# skops writes the vocabulary as JSON, uncompressed by default: deflate makes the file ~15x smaller.
SKOPS_COMPRESSION = {"compression": zipfile.ZIP_DEFLATED, "compresslevel": 6}
PIPELINE_FILE = "model.skops"
META_FILE = "model.json"
POINTER_FILE = "CURRENT"
LOCK_FILE = ".lock"
# Everything a save writes starts as a ".tmp-" entry; under the lock, any such entry is a dead run's.
TMP_PREFIX = ".tmp-"
VERSION_NAME = re.compile(r"v-\d{8}T\d{12}Z-[0-9a-f]{8}")
# The points between the steps of a save; a kill at any of them leaves a loadable model.
SAVE_STEPS = ("locked", "cleaned", "pipeline written", "card written", "version in place", "pointer written",
              "pointer replaced", "old versions pruned")
# A reader retries when the version it read was pruned under it by two quick saves.
_LOAD_ATTEMPTS = 5
# Types beyond skops' defaults that a classify model may contain; anything else is refused.
TRUSTED_TYPES = (
    "classify.normalise.ArabicNormaliser",
    "classify.pipeline.NBSVM",
    "classify.rules.CueFeatures",
    "classify.rules.KeywordRules",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.multiclass._ConstantPredictor",
    "sklearn.pipeline.FeatureUnion",
)


class _Vanished(Exception):
    """A model file disappeared while it was read (a writer pruned its version)."""


def _step(name):
    """Mark a point between two steps of a save; the tests replace it to kill a save there."""


def _is_ours(name):
    return name in (POINTER_FILE, LOCK_FILE) or name.startswith(TMP_PREFIX) or bool(VERSION_NAME.fullmatch(name))


def is_model_folder(folder):
    """Whether ``folder`` holds a classify model: a ``CURRENT`` pointer, or a flat ``model.json``.

    Parameters
    ----------
    folder : str or Path

    Returns
    -------
    bool
    """
    folder = Path(folder)
    if (folder / POINTER_FILE).is_file():
        return True
    try:
        meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(meta, dict) and "format_version" in meta


def check_target(folder):
    """Refuse a folder that saving a model there would damage.

    Only a missing or empty folder, a classify model, or what an interrupted save left
    may be saved to: saving never deletes anything else.

    Parameters
    ----------
    folder : str or Path

    Raises
    ------
    ClassifyError
        If ``folder`` is a file, or a folder that holds something other than a model.
    """
    folder = Path(folder)
    if not folder.exists():
        return
    if not folder.is_dir():
        raise ClassifyError(f"cannot save a model to {folder}: it exists and is not a folder")
    try:
        foreign = [p.name for p in folder.iterdir() if not _is_ours(p.name)]
    except OSError as exc:
        raise ClassifyError(f"cannot save a model to {folder}: {exc.strerror}") from None
    if foreign and not is_model_folder(folder):
        raise ClassifyError(f"refusing to save a model to {folder}: the folder exists and is not a classify model "
                            f"(it holds {foreign[0]!r}; choose a new or empty folder)")


def _versions():
    from importlib.metadata import PackageNotFoundError, version

    try:
        package = version("classify")
    except PackageNotFoundError:
        package = "unknown"
    return {"classify": package, "python": platform.python_version(), "scikit-learn": sklearn.__version__}


def save_model(model, folder, labels_file=None):
    """Save a model as a new version of a model folder and point the folder at it.

    Parameters
    ----------
    model : Model
    folder : str or Path
        Created if missing; a symbolic link is followed, not replaced.
    labels_file : str or Path, optional
        The labels file it was trained on; its SHA-256 is recorded.

    Returns
    -------
    Path
        ``folder``.

    Raises
    ------
    ClassifyError
        If ``folder`` exists and is neither empty nor a classify model (saving never
        deletes anything else), or the files cannot be written (the previous model is
        then still in use).
    """
    folder = Path(folder)
    check_target(folder)
    try:
        root = folder.resolve()
        root.mkdir(parents=True, exist_ok=True)
        with _writer_lock(root):
            check_target(root)  # again: another writer may have been first
            _step("locked")
            _clean_stale(root)
            _step("cleaned")
            version, meta = _write_version(model, root, labels_file)
            previous = _pointed_name(root)
            _write_pointer(root, version)
            _prune(root, keep={version, previous})
            _step("old versions pruned")
    except OSError as exc:
        raise ClassifyError(f"cannot save the model to {folder}: {exc.strerror or exc}") from None
    model.meta = meta
    return folder


@contextmanager
def _writer_lock(root):
    fd = os.open(root / LOCK_FILE, os.O_RDWR | os.O_CREAT, default_mode())
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # released by the kernel if the process dies
        yield
    finally:
        os.close(fd)


def _clean_stale(root):
    for entry in root.iterdir():
        if entry.name.startswith(TMP_PREFIX):
            _remove(entry)


def _remove(path):
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _write_version(model, root, labels_file):
    import skops.io as sio

    tmp = Path(tempfile.mkdtemp(dir=root, prefix=TMP_PREFIX))
    try:
        os.chmod(tmp, default_mode(directory=True))
        sio.dump(model.pipeline, tmp / PIPELINE_FILE, **SKOPS_COMPRESSION)
        _fsync(tmp / PIPELINE_FILE)
        _step("pipeline written")
        meta = {**model.meta, "format_version": FORMAT_VERSION, "labels": list(model.labels),
                "thresholds": model.thresholds, "pipeline_file": PIPELINE_FILE,
                "pipeline_sha256": file_sha256(tmp / PIPELINE_FILE),
                "labels_file_sha256": file_sha256(labels_file) if labels_file else None,
                "versions": _versions(), "created": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        (tmp / META_FILE).write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
        _fsync(tmp / META_FILE)
        _step("card written")
        version = f"v-{datetime.now(timezone.utc):%Y%m%dT%H%M%S%f}Z-{secrets.token_hex(4)}"
        os.rename(tmp, root / version)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    fsync_dir(root)
    _step("version in place")
    return version, meta


def _write_pointer(root, version):
    fd, tmp = tempfile.mkstemp(dir=root, prefix=TMP_PREFIX)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(version + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, default_mode())
        _step("pointer written")
        os.replace(tmp, root / POINTER_FILE)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(root)
    _step("pointer replaced")


def _prune(root, keep):
    for entry in root.iterdir():
        if VERSION_NAME.fullmatch(entry.name) and entry.name not in keep:
            # Renamed out of sight first: a kill during the removal leaves a temporary, not half a version.
            hidden = root / f"{TMP_PREFIX}{entry.name}"
            os.rename(entry, hidden)
            shutil.rmtree(hidden, ignore_errors=True)
    # The flat layout of older versions is superseded by the pointer.
    for name in (META_FILE, PIPELINE_FILE):
        (root / name).unlink(missing_ok=True)


def _fsync(path):
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def _pointed_name(root):
    try:
        name = (root / POINTER_FILE).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return name if VERSION_NAME.fullmatch(name) else None


def current_version(folder):
    """The folder that holds the files of the model in use in a model folder.

    Parameters
    ----------
    folder : str or Path

    Returns
    -------
    Path
        ``folder/v-...`` named by ``folder/CURRENT``, or ``folder`` itself for the older
        flat layout.

    Raises
    ------
    ClassifyError
        If there is no model, or ``CURRENT`` does not name a version.
    """
    folder = Path(folder)
    pointer = folder / POINTER_FILE
    try:
        name = pointer.read_text(encoding="ascii").strip()
    except (FileNotFoundError, NotADirectoryError):
        if (folder / META_FILE).is_file():
            return folder
        raise ClassifyError(f"no model at {folder} (expected {POINTER_FILE} or {META_FILE} there; "
                            "run 'classify train' first)") from None
    except OSError as exc:
        raise ClassifyError(f"cannot read {pointer}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ClassifyError(f"{pointer}: not a model version name") from None
    if not VERSION_NAME.fullmatch(name):
        raise ClassifyError(f"{pointer}: not a model version name (got {name[:40]!r})")
    return folder / name


def load_model(folder="models/default"):
    """Load the model in use in a model folder, refusing anything that cannot be trusted.

    Parameters
    ----------
    folder : str or Path

    Returns
    -------
    Model

    Raises
    ------
    ClassifyError
        If the folder or its files are missing, ``model.skops`` does not match the
        SHA-256 in ``model.json``, the file holds types outside skops' defaults and
        :data:`TRUSTED_TYPES`, or the format version or label set is unknown.
    """
    version = current_version(folder)
    for _ in range(_LOAD_ATTEMPTS):
        try:
            return _load_version(version)
        except _Vanished:
            moved = current_version(folder)
            if moved == version:
                raise ClassifyError(f"{version}: the model files are missing") from None
            version = moved
    raise ClassifyError(f"{folder}: the model was replaced {_LOAD_ATTEMPTS} times while it was read; try again")


def _read_bytes(path):
    try:
        return path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        raise _Vanished(path) from None
    except OSError as exc:
        raise ClassifyError(f"cannot read {path}: {exc.strerror}") from None


def _load_version(folder):
    import skops.io as sio

    from classify.model import Model

    meta_path = folder / META_FILE
    try:
        meta = json.loads(_read_bytes(meta_path).decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ClassifyError(f"{meta_path}: not valid JSON ({exc})") from None
    if meta.get("format_version") != FORMAT_VERSION:
        raise ClassifyError(f"{meta_path}: unknown model format version {meta.get('format_version')!r} "
                            f"(this classify reads version {FORMAT_VERSION})")
    if tuple(meta.get("labels") or ()) != LABELS or set(meta.get("thresholds") or ()) != set(LABELS):
        raise ClassifyError(f"{meta_path}: unknown label set {meta.get('labels')!r} (expected {', '.join(LABELS)})")
    path = folder / PIPELINE_FILE
    # One read serves the hash, the type check and the load: the file cannot change in between.
    data = _read_bytes(path)
    if sha256(data).hexdigest() != meta.get("pipeline_sha256"):
        raise ClassifyError(f"{path}: SHA-256 differs from {META_FILE}: the model file was changed or damaged")
    try:
        untrusted = [t for t in sio.get_untrusted_types(data=data) if t not in TRUSTED_TYPES]
        if untrusted:
            raise ClassifyError(f"{path}: refusing to load untrusted type(s) {', '.join(untrusted)}")
        pipeline = sio.loads(data, trusted=list(TRUSTED_TYPES))
    except ClassifyError:
        raise
    except Exception as exc:  # skops raises many types for a damaged archive
        raise ClassifyError(f"{path}: cannot be read as a skops model ({exc})") from None
    thresholds = {label: float(meta["thresholds"][label]) for label in LABELS}
    return Model(pipeline, thresholds, meta)
