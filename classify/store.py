"""Model folders on disk: saving, loading and checking a trained model.

A model folder ``DIR`` holds versions and a pointer to one of them::

    DIR/CURRENT                       the name of the version in use, replaced atomically
    DIR/v-<time>-<random>/model.skops the fitted pipeline, saved with skops, never pickle
    DIR/v-<time>-<random>/runtime.npz the pipeline's arrays, for predicting without scikit-learn
    DIR/v-<time>-<random>/model.json  the model card: labels, thresholds, hashes, metrics
    DIR/.lock                         held by a writer while it saves

A save writes a complete new version, then replaces ``CURRENT``, so a reader always
finds a whole model, and an interrupted save leaves the previous one in use. Writers
take turns under the lock; the version before the current one is kept, so a reader that
has just read ``CURRENT`` still finds its version. Folders of the older flat layout
(``model.json`` and ``model.skops`` directly in ``DIR``) are still read, and converted
by the next save.

Loading trusts nothing it reads: the card must pass :func:`check_card` (every field's
type and range, and, from format 2, the SHA-256 of its own content, so an edited card
is refused); ``model.skops`` must match its SHA-256 in the card and hold only trusted
types; and the pipeline built from it must pass :func:`check_pipeline` before use.
A model of the default kind also has ``runtime.npz`` (:mod:`classify.runtime`): plain
arrays read with ``allow_pickle=False``, listed in the card with their SHA-256. Loading
such a model reads and hash-checks both files but builds only the runtime, which predicts
without importing scikit-learn (most of a cold start); the pipeline is built from the
checked bytes of ``model.skops`` when something needs it (explanations, reports, saving).
Folders without ``runtime.npz`` load through skops, as before.
The card hash detects edits and damage, not a forger who recomputes it: keep model
folders writable only by those who train models.
"""

import fcntl
import json
import math
import os
import platform
import re
import secrets
import shutil
import sys
import tempfile
import zipfile
from contextlib import contextmanager
from datetime import datetime, timezone
from hashlib import sha256
from pathlib import Path

from classify.corpus import file_sha256
from classify.errors import ClassifyError
from classify.io import default_mode, fsync_dir
from classify.pooling import POOLINGS
from classify.scheme import default_scheme, scheme_from_card

FORMAT_VERSION = 2
# Version 1 (no card hash) is read only in the flat layout that older classify wrote.
READABLE_FORMATS = (1, 2)
# skops writes the vocabulary as JSON, uncompressed by default: deflate makes the file ~15x smaller.
SKOPS_COMPRESSION = {"compression": zipfile.ZIP_DEFLATED, "compresslevel": 6}
PIPELINE_FILE = "model.skops"
RUNTIME_FILE = "runtime.npz"  # classify.runtime.RUNTIME_FILE, which imports NumPy and SciPy
META_FILE = "model.json"
POINTER_FILE = "CURRENT"
LOCK_FILE = ".lock"
# Everything a save writes starts as a ".tmp-" entry; under the lock, any such entry is a dead run's.
TMP_PREFIX = ".tmp-"
VERSION_NAME = re.compile(r"v-\d{8}T\d{12}Z-[0-9a-f]{8}")
# mkdtemp's and mkstemp's names, and pruned versions: nothing else is taken for a leftover.
_TMP_NAME = re.compile(re.escape(TMP_PREFIX) + r"(?:[a-z0-9_]{8}|" + VERSION_NAME.pattern + ")")
# The points between the steps of a save; a kill at any of them leaves a loadable model.
SAVE_STEPS = ("locked", "cleaned", "pipeline written", "card written", "version in place", "pointer written",
              "pointer replaced", "old versions pruned")
# A reader retries when the version it read was pruned under it by two quick saves.
_LOAD_ATTEMPTS = 5
# Types beyond skops' defaults that a classify model may contain; anything else is refused.
# The classify.features names are the blocks of the features/ package (branches main and speed).
TRUSTED_TYPES = (
    "classify.features.char.CharTfidf",
    "classify.features.clusters.ClusterWords",
    "classify.features.cues.CueFeatures",
    "classify.features.sentences.SentenceMaxTfidf",
    "classify.features.stems.StemWords",
    "classify.features.structure.StructureFeatures",
    "classify.normalise.ArabicNormaliser",  # its name in files saved before it moved to classify.normaliser
    "classify.normaliser.ArabicNormaliser",
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
    # Not CURRENT: a folder is a model's only if its CURRENT names a version (is_model_folder).
    return name == LOCK_FILE or bool(_TMP_NAME.fullmatch(name) or VERSION_NAME.fullmatch(name))


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
    try:
        pointer = (folder / POINTER_FILE).read_text(encoding="ascii").strip()
        return bool(VERSION_NAME.fullmatch(pointer))
    except (OSError, ValueError):
        pass
    try:
        meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(meta, dict) and {"format_version", "labels", "pipeline_sha256"} <= set(meta)


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


def skops_io():
    """``skops.io``, imported without importing every module of scikit-learn when it can be.

    Importing ``skops.io`` builds its default trusted-type lists (``skops.io._trusted_types``):
    every estimator of scikit-learn, found by importing all of it, and every ufunc of NumPy
    and SciPy, each located by a scan of the loaded modules; 1-2 s, most of a cold
    :func:`load_model`. The lists depend only on the versions installed, so the first
    import saves them to a cache file (see :func:`trust_cache_path`) and later imports give
    skops the same lists from it: skops trusts exactly the types it would otherwise. A cache
    that is missing, unreadable, for other versions, or holding anything but dotted names
    of builtins, numpy, scipy or sklearn is ignored and rewritten; if skops asks for a name
    the cache lacks, the real module is imported instead.

    Returns
    -------
    module
    """
    if "skops.io" in sys.modules:
        return sys.modules["skops.io"]
    cache = trust_cache_path()
    lists = _read_trust_cache(cache)
    if lists is not None:
        import types

        stand_in = types.ModuleType(_TRUSTED_MODULE, "The trusted-type lists of skops, from classify's cache.")
        stand_in.__dict__.update(lists)
        sys.modules[_TRUSTED_MODULE] = stand_in
        try:
            import skops.io

            return skops.io
        except ImportError:  # another skops, which wants a name the cache lacks: the real import
            for name in [m for m in sys.modules if m == "skops.io" or m.startswith("skops.io.")]:
                del sys.modules[name]
    import skops.io

    real = sys.modules[_TRUSTED_MODULE]
    _write_trust_cache(cache, {name: value for name, value in vars(real).items() if name.isupper()
                               and isinstance(value, list) and all(isinstance(v, str) for v in value)})
    return skops.io


_TRUSTED_MODULE = "skops.io._trusted_types"
# What a cached list may hold: dotted names under these packages (a type name, not code).
_TRUSTED_NAME = re.compile(r"(?:builtins|numpy|scipy|sklearn)(?:\.[A-Za-z_][A-Za-z0-9_]*)+")


def trust_cache_path():
    """Where :func:`skops_io` keeps skops' trusted-type lists: ``$CLASSIFY_CACHE``, else
    ``$XDG_CACHE_HOME/classify``, else ``~/.cache/classify``.

    Returns
    -------
    Path
    """
    root = os.environ.get("CLASSIFY_CACHE") or Path(os.environ.get("XDG_CACHE_HOME") or
                                                    Path.home() / ".cache") / "classify"
    return Path(root) / "skops-trusted-types.json"


def _trust_cache_key():
    # The modules' own versions: importlib.metadata would cost more than it saves.
    import numpy
    import scipy
    import skops
    import sklearn

    return {"python": platform.python_version(), "skops": skops.__version__, "scikit-learn": sklearn.__version__,
            "numpy": numpy.__version__, "scipy": scipy.__version__,
            "sklearn_path": str(Path(sklearn.__file__).resolve().parent)}


def _read_trust_cache(path):
    try:
        cached = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(cached, dict) or cached.get("key") != _trust_cache_key():
        return None
    lists = cached.get("lists")
    if not isinstance(lists, dict) or not lists.get("SKLEARN_ESTIMATOR_TYPE_NAMES"):
        return None
    for name, values in lists.items():
        if not (isinstance(name, str) and name.isupper() and name.isidentifier() and isinstance(values, list)
                and all(isinstance(v, str) and _TRUSTED_NAME.fullmatch(v) for v in values)):
            return None
    return lists


def _write_trust_cache(path, lists):
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=TMP_PREFIX)
    except OSError:
        return  # no cache: the next import builds the lists again
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"key": _trust_cache_key(), "lists": lists}, fh)
        os.chmod(tmp, default_mode())
        os.replace(tmp, path)
    except OSError:
        Path(tmp).unlink(missing_ok=True)


def _versions():
    from importlib.metadata import PackageNotFoundError, version

    import sklearn

    try:
        package = version("classify")
    except PackageNotFoundError:
        package = "unknown"
    return {"classify": package, "python": platform.python_version(), "scikit-learn": sklearn.__version__}


_HEX64 = re.compile(r"[0-9a-f]{64}")


def _number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _fraction(value):
    return _number(value) and 0 < value < 1


def _score(value):
    return _number(value) and 0 <= value <= 1


def _hex64(value):
    return isinstance(value, str) and bool(_HEX64.fullmatch(value))


def _timestamp(value):
    try:
        datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return False
    return True


def _cv(value):
    checks = {"folds": lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1,
              "micro_f1": _score, "macro_f1": _score, "macro_f1_std": _score,
              "per_label_f1": lambda v: isinstance(v, dict) and all(map(_score, v.values()))}
    return isinstance(value, dict) and set(value) == set(checks) and all(checks[k](v) for k, v in value.items())


# field: (required, check, what is expected); optional fields are what ``train`` records.
# "labels", "thresholds" and "cv" are checked here for their types, and against the
# card's scheme (the codebook's for cards without one) by _check_labels.
CARD_FIELDS = {
    "format_version": (True, lambda v: v in READABLE_FORMATS and type(v) is int,
                       f"one of {', '.join(map(str, READABLE_FORMATS))}"),
    "labels": (True, lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
               "the list of the scheme's labels"),
    "thresholds": (True, lambda v: isinstance(v, dict) and all(map(_fraction, v.values())),
                   "a table of one number strictly between 0 and 1 per label"),
    "pipeline_file": (True, lambda v: v == PIPELINE_FILE, repr(PIPELINE_FILE)),
    "pipeline_sha256": (True, _hex64, "64 lowercase hex digits"),
    "labels_file_sha256": (True, lambda v: v is None or _hex64(v), "null or 64 lowercase hex digits"),
    "versions": (True, lambda v: isinstance(v, dict) and all(isinstance(x, str) for x in v.values()),
                 "a table of version strings"),
    "created": (True, _timestamp, "an ISO 8601 time"),
    "card_sha256": (False, _hex64, "64 lowercase hex digits"),
    # Both or neither (checked in _check_fields): models of other kinds, and older ones, have no runtime.
    "runtime_file": (False, lambda v: v == RUNTIME_FILE, repr(RUNTIME_FILE)),
    "runtime_sha256": (False, _hex64, "64 lowercase hex digits"),
    "classifier": (False, lambda v: isinstance(v, str), "a classifier name"),
    "params": (False, lambda v: isinstance(v, dict), "a table of step__param settings"),
    "thresholds_by": (False, lambda v: v == "cv" or _fraction(v), '"cv" or a number strictly between 0 and 1'),
    "cv": (False, _cv, "a table of folds, micro_f1, macro_f1, macro_f1_std and per_label_f1, scores in [0, 1]"),
    "n_train": (False, lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0, "a count"),
    "config": (False, lambda v: isinstance(v, str), "a configuration name"),
    # Checked by scheme_from_card; cards written before schemes have none: the codebook's.
    "scheme": (False, lambda v: isinstance(v, dict), "a table of name, labels, cues and sha256"),
    # Checked against the card's labels in _check_fields.
    "calibration": (False, lambda v: v is None or isinstance(v, dict),
                    'null or a table of "method" (sigmoid or isotonic) and "per_label" parameters'),
    # Models saved before pooling score paragraphs alone.
    "pooling": (False, lambda v: v in POOLINGS, " or ".join(f'"{p}"' for p in POOLINGS)),
    "oof_reliability": (False, lambda v: isinstance(v, dict),
                        "a table per label of ece, brier, log_loss and reliability bins"),
}


def _shown(value):
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def card_sha256(card):
    """SHA-256 of a model card's content, in a canonical JSON form.

    Parameters
    ----------
    card : dict
        The card; its own ``card_sha256`` field, if any, is left out.

    Returns
    -------
    str
        64 lowercase hex digits.
    """
    body = {k: v for k, v in card.items() if k != "card_sha256"}
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return sha256(canonical.encode("utf-8")).hexdigest()


def check_card(card, where=META_FILE):
    """Refuse a model card with a field missing, unknown, of the wrong type or out of range.

    Parameters
    ----------
    card : object
        The parsed ``model.json``.
    where : str
        Names the file in messages.

    Raises
    ------
    ClassifyError
        Naming the first field at fault, or saying that the card's content no longer
        matches its ``card_sha256`` (format 2 and later).
    """
    _check_fields(card, where)
    if "card_sha256" not in card and card["format_version"] != 1:
        raise ClassifyError(f"{where}: the model card lacks the field 'card_sha256'")
    if "card_sha256" in card and card_sha256(card) != card["card_sha256"]:
        raise ClassifyError(f"{where}: the model card was changed after it was saved (its content SHA-256 differs)")


def _check_fields(card, where):
    if not isinstance(card, dict):
        raise ClassifyError(f"{where}: the model card must be a JSON object, got {type(card).__name__}")
    for name in card:
        if name not in CARD_FIELDS:
            raise ClassifyError(f"{where}: unknown field {_shown(name)} in the model card")
    for name, (required, check, expected) in CARD_FIELDS.items():
        if name not in card:
            if required:
                raise ClassifyError(f"{where}: the model card lacks the field {name!r}")
        elif not check(card[name]):
            raise ClassifyError(f"{where}: field {name!r} must be {expected}, got {_shown(card[name])}")
    if ("runtime_file" in card) != ("runtime_sha256" in card):
        raise ClassifyError(f"{where}: the model card must have both 'runtime_file' and 'runtime_sha256', or neither")
    _check_labels(card, where)
    from classify.calibration import check_calibrator, check_reliability

    # Checked against the card's own labels, which _check_labels has just verified.
    for name, check in (("calibration", check_calibrator), ("oof_reliability", check_reliability)):
        if name in card and not check(card[name], card["labels"]):
            raise ClassifyError(f"{where}: field {name!r} must be {CARD_FIELDS[name][2]}, one per label, "
                                f"got {_shown(card[name])}")


def _check_labels(card, where):
    """The card's labels, thresholds and per-label scores are those of its own scheme."""
    scheme = scheme_from_card(card.get("scheme"), where)
    labels = list(scheme.labels)
    if card["labels"] != labels:
        raise ClassifyError(f"{where}: field 'labels' must be the list {', '.join(labels)} (the labels of "
                            f"scheme {scheme.name!r}), got {_shown(card['labels'])}")
    if set(card["thresholds"]) != set(labels):
        raise ClassifyError(f"{where}: field 'thresholds' must be a table of one number strictly between 0 and 1 "
                            f"per label ({', '.join(labels)}), got {_shown(card['thresholds'])}")
    if "cv" in card and set(card["cv"]["per_label_f1"]) != set(labels):
        raise ClassifyError(f"{where}: field 'cv' must have per_label_f1 for the labels {', '.join(labels)}, "
                            f"got {_shown(card['cv']['per_label_f1'])}")
    return scheme


def check_pipeline(pipeline, n_labels=None, where=PIPELINE_FILE):
    """Refuse a loaded object that is not a classify pipeline giving ``n_labels`` probabilities.

    Parameters
    ----------
    pipeline : object
    n_labels : int, optional
        The number of the scheme's labels; default the codebook's.
    where : str
        Names the file in messages.

    Raises
    ------
    ClassifyError
        If it is not a scikit-learn ``Pipeline`` that starts with the Arabic normaliser
        and ends in a classifier with ``predict_proba``, or a trial prediction does not
        give ``n_labels`` probabilities in [0, 1].
    """
    from sklearn.pipeline import Pipeline

    from classify.normaliser import ArabicNormaliser

    n_labels = len(default_scheme().labels) if n_labels is None else n_labels
    if not isinstance(pipeline, Pipeline):
        raise ClassifyError(f"{where}: holds a {type(pipeline).__name__}, not a scikit-learn Pipeline")
    names = [name for name, _ in pipeline.steps]
    if names[0] != "normalise" or not isinstance(pipeline.steps[0][1], ArabicNormaliser) or names[-1] != "clf":
        raise ClassifyError(f"{where}: pipeline steps {', '.join(names)} are not normalise, ..., clf")
    if not hasattr(pipeline.steps[-1][1], "predict_proba"):
        raise ClassifyError(f"{where}: the pipeline's classifier has no predict_proba")
    _check_proba(pipeline.predict_proba, n_labels, where)


def _check_proba(predict_proba, n_labels, where):
    """Refuse a ``predict_proba`` that fails on a trial, or gives other than ``n_labels`` probabilities."""
    import numpy as np

    try:
        proba = np.asarray(predict_proba(["قصف", ""]), dtype=float)
    except Exception as exc:  # whatever an unfitted or mismatched estimator raises
        raise ClassifyError(f"{where}: the pipeline cannot predict ({type(exc).__name__}: {exc})") from None
    if proba.shape != (2, n_labels) or not np.all((proba >= 0) & (proba <= 1)):
        raise ClassifyError(f"{where}: the pipeline gives probabilities of shape {proba.shape}, "
                            f"expected (2, {n_labels}) in [0, 1]")


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
        if _TMP_NAME.fullmatch(entry.name):
            _remove(entry)


def _remove(path):
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _write_version(model, root, labels_file):
    sio = skops_io()

    tmp = Path(tempfile.mkdtemp(dir=root, prefix=TMP_PREFIX))
    try:
        os.chmod(tmp, default_mode(directory=True))
        sio.dump(model.pipeline, tmp / PIPELINE_FILE, **SKOPS_COMPRESSION)
        _fsync(tmp / PIPELINE_FILE)
        _step("pipeline written")
        from classify.runtime import export_runtime

        runtime = export_runtime(model.pipeline)
        if runtime is not None:
            (tmp / RUNTIME_FILE).write_bytes(runtime)
            _fsync(tmp / RUNTIME_FILE)
        meta = {**model.meta, "format_version": FORMAT_VERSION, "labels": list(model.labels),
                "scheme": model.scheme.card(),
                "thresholds": model.thresholds, "pipeline_file": PIPELINE_FILE,
                "pipeline_sha256": file_sha256(tmp / PIPELINE_FILE),
                "labels_file_sha256": file_sha256(labels_file) if labels_file else None,
                "versions": _versions(), "created": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        for name in ("card_sha256", "runtime_file", "runtime_sha256"):
            meta.pop(name, None)  # a loaded model's, of its old card and files
        if runtime is not None:
            meta |= {"runtime_file": RUNTIME_FILE, "runtime_sha256": sha256(runtime).hexdigest()}
        _check_fields(meta, "the model to save")  # never write a card that loading would refuse
        meta["card_sha256"] = card_sha256(meta)
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
        # classify before versioned folders renamed the old model aside while saving; a kill there left it.
        aside = folder.with_name(f".{folder.name}.old")
        if (aside / META_FILE).is_file():
            raise ClassifyError(f"no model at {folder}, but an interrupted save of an older classify left one "
                                f"in {aside}: rename it to {folder}") from None
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
        :data:`TRUSTED_TYPES`, the format version is unknown, or the card's labels are not
        those of the scheme it records (cards without a scheme: the codebook's).
    """
    return model_from_files(*read_model_files(folder))


def read_model_files(folder="models/default"):
    """The checked card and the bytes of ``model.skops`` and ``runtime.npz`` of the model in use in a folder.

    What :func:`model_from_files` builds a model from, in this process or another one (the
    workers of ``classify predict --jobs`` and ``--backend dask`` get these bytes, never a
    pickled model, and check them again).

    Parameters
    ----------
    folder : str or Path

    Returns
    -------
    meta : dict
        The model card, checked by :func:`check_card`.
    data : bytes
        The content of ``model.skops``, its SHA-256 checked against the card.
    where : str
        The path of ``model.skops``, for messages.
    runtime : bytes or None
        The content of ``runtime.npz`` (checked by :func:`model_from_files`), ``None`` for a
        model without one.

    Raises
    ------
    ClassifyError
        As :func:`load_model`, for a missing folder, a refused card or a changed file.
    """
    version = current_version(folder)
    for _ in range(_LOAD_ATTEMPTS):
        try:
            return _read_version(version)
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


def _read_card(path):
    def refuse(constant):
        raise ValueError(f"{constant} is not a JSON number")

    try:
        return json.loads(_read_bytes(path).decode("utf-8"), parse_constant=refuse)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise ClassifyError(f"{path}: not valid JSON ({str(exc) or type(exc).__name__})") from None


def _read_version(folder):
    meta_path = folder / META_FILE
    meta = _read_card(meta_path)
    check_card(meta, meta_path)
    if meta["format_version"] == 1 and VERSION_NAME.fullmatch(folder.name):
        # Versioned folders are written with a card hash; format 1 there would be a way around it.
        raise ClassifyError(f"{meta_path}: format version 1 in a versioned model folder (expected {FORMAT_VERSION})")
    path = folder / PIPELINE_FILE
    # One read serves the hash, the type check and the load: the file cannot change in between.
    data = _read_bytes(path)
    _check_hash(meta, data, path)
    # Checked by model_from_files, as the same version's: read now, before a writer may prune it.
    runtime = _read_bytes(folder / RUNTIME_FILE) if "runtime_file" in meta else None
    return meta, data, str(path), runtime


def _check_hash(meta, data, path, field="pipeline_sha256"):
    if sha256(data).hexdigest() != meta.get(field):
        raise ClassifyError(f"{path}: SHA-256 differs from {META_FILE}: the model file was changed or damaged")


def model_from_files(meta, data, where=PIPELINE_FILE, runtime=None):
    """Build a model from what :func:`read_model_files` returns, checking it all again.

    The SHA-256 of ``data`` against the card, the types it holds against skops' defaults
    and :data:`TRUSTED_TYPES`, and the pipeline with :func:`check_pipeline`. With
    ``runtime`` (the bytes of ``runtime.npz``, for a card that lists it), the model predicts
    through :class:`classify.runtime.Runtime`, checked at once; the pipeline is built from
    ``data`` and checked when first needed.

    Parameters
    ----------
    meta : dict
    data : bytes
    where : str
        Names the file in messages.
    runtime : bytes, optional

    Returns
    -------
    Model

    Raises
    ------
    ClassifyError
    """
    from classify.model import Model

    check_card(meta, Path(where).with_name(META_FILE))
    _check_hash(meta, data, where)
    scheme = scheme_from_card(meta.get("scheme"), Path(where).with_name(META_FILE))
    thresholds = {label: float(meta["thresholds"][label]) for label in scheme.labels}

    def load_pipeline():
        return _pipeline_from_bytes(data, where, len(scheme.labels))

    if runtime is None:
        return Model(load_pipeline(), thresholds, meta, scheme=scheme)
    from classify.runtime import OtherRuntimeVersion, Runtime

    runtime_where = Path(where).with_name(RUNTIME_FILE)
    _check_hash(meta, runtime, runtime_where, "runtime_sha256")
    try:
        built = Runtime(runtime, runtime_where)
    except OtherRuntimeVersion:  # written by another classify: the pipeline serves
        return Model(load_pipeline(), thresholds, meta, scheme=scheme)
    _check_proba(built.predict_proba, len(scheme.labels), runtime_where)
    return Model(None, thresholds, meta, scheme=scheme, runtime=built, load_pipeline=load_pipeline)


def _pipeline_from_bytes(data, path, n_labels):
    """The pipeline in the (hash-checked) bytes of ``model.skops``, its types and predictions checked."""
    sio = skops_io()
    from skops.io.exceptions import UntrustedTypesFoundException

    try:
        # One pass: loads audits every type against skops' defaults and TRUSTED_TYPES before it
        # constructs anything, and names the others.
        pipeline = sio.loads(data, trusted=list(TRUSTED_TYPES))
    except UntrustedTypesFoundException as exc:
        untrusted = sorted(exc.args[0]) if exc.args and isinstance(exc.args[0], (set, list)) else [str(exc)]
        raise ClassifyError(f"{path}: refusing to load untrusted type(s) {', '.join(untrusted)}") from None
    except Exception as exc:  # skops raises many types for a damaged archive
        raise ClassifyError(f"{path}: cannot be read as a skops model ({exc})") from None
    check_pipeline(pipeline, n_labels, path)
    return pipeline
