"""Model folders on disk: saving, loading and checking a trained model.

A model folder holds ``model.skops`` (the fitted pipeline, saved with skops, never
pickle) and ``model.json`` (labels, thresholds, parameters, hashes, metrics, versions).
Loading checks the hash and the types before anything is built from the file.
"""

import json
import platform
import shutil
import tempfile
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import sklearn

from classify.corpus import file_sha256
from classify.errors import ClassifyError
from classify.rules import LABELS

FORMAT_VERSION = 1
# skops writes the vocabulary as JSON, uncompressed by default: deflate makes the file ~15x smaller.
SKOPS_COMPRESSION = {"compression": zipfile.ZIP_DEFLATED, "compresslevel": 6}
PIPELINE_FILE = "model.skops"
META_FILE = "model.json"
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


def is_model_folder(folder):
    """Whether ``folder`` holds a classify model (its ``model.json`` names a format version).

    Parameters
    ----------
    folder : str or Path

    Returns
    -------
    bool
    """
    try:
        meta = json.loads((Path(folder) / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(meta, dict) and "format_version" in meta


def check_target(folder):
    """Refuse a folder that saving a model there would damage.

    Saving replaces a model folder's contents, so only a missing or empty folder, or a
    classify model, may be saved to.

    Parameters
    ----------
    folder : str or Path

    Raises
    ------
    ClassifyError
        If ``folder`` is a file, or a folder that holds something other than a model.
    """
    folder = Path(folder)
    if not folder.exists() and not folder.is_symlink():
        return
    if not folder.is_dir():
        raise ClassifyError(f"cannot save a model to {folder}: it exists and is not a folder")
    if any(folder.iterdir()) and not is_model_folder(folder):
        raise ClassifyError(f"refusing to save a model to {folder}: the folder exists and is not a classify model "
                            "(choose a new or empty folder)")


def _versions():
    from importlib.metadata import PackageNotFoundError, version

    try:
        package = version("classify")
    except PackageNotFoundError:
        package = "unknown"
    return {"classify": package, "python": platform.python_version(), "scikit-learn": sklearn.__version__}


def save_model(model, folder, labels_file=None):
    """Save a model folder atomically: a failed save leaves any previous model intact.

    Parameters
    ----------
    model : Model
    folder : str or Path
    labels_file : str or Path, optional
        The labels file it was trained on; its SHA-256 is recorded.

    Raises
    ------
    ClassifyError
        If ``folder`` exists and is neither empty nor a classify model: saving never
        deletes anything else.
    """
    import skops.io as sio

    folder = Path(folder)
    check_target(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}."))
    try:
        sio.dump(model.pipeline, tmp / PIPELINE_FILE, **SKOPS_COMPRESSION)
        meta = {**model.meta, "format_version": FORMAT_VERSION, "labels": list(model.labels),
                "thresholds": model.thresholds, "pipeline_file": PIPELINE_FILE,
                "pipeline_sha256": file_sha256(tmp / PIPELINE_FILE),
                "labels_file_sha256": file_sha256(labels_file) if labels_file else None,
                "versions": _versions(), "created": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        (tmp / META_FILE).write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
        # Swap folders: the old model stays whole until the new one is complete.
        old = folder.with_name(f".{folder.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        if folder.exists():
            folder.rename(old)
        tmp.rename(folder)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    model.meta = meta
    return folder


def load_model(folder="models/default"):
    """Load a model folder, refusing anything that cannot be trusted.

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
    import skops.io as sio

    from classify.model import Model

    folder = Path(folder)
    meta_path = folder / META_FILE
    if not meta_path.is_file():
        raise ClassifyError(f"no model at {folder} (expected {META_FILE} there; run 'classify train' first)")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ClassifyError(f"{meta_path}: not valid JSON ({exc})") from None
    if meta.get("format_version") != FORMAT_VERSION:
        raise ClassifyError(f"{meta_path}: unknown model format version {meta.get('format_version')!r} "
                            f"(this classify reads version {FORMAT_VERSION})")
    if tuple(meta.get("labels") or ()) != LABELS or set(meta.get("thresholds") or ()) != set(LABELS):
        raise ClassifyError(f"{meta_path}: unknown label set {meta.get('labels')!r} (expected {', '.join(LABELS)})")
    path = folder / PIPELINE_FILE
    if not path.is_file():
        raise ClassifyError(f"{path} is missing")
    if file_sha256(path) != meta.get("pipeline_sha256"):
        raise ClassifyError(f"{path}: SHA-256 differs from {META_FILE}: the model file was changed or damaged")
    try:
        untrusted = [t for t in sio.get_untrusted_types(file=path) if t not in TRUSTED_TYPES]
        if untrusted:
            raise ClassifyError(f"{path}: refusing to load untrusted type(s) {', '.join(untrusted)}")
        pipeline = sio.load(path, trusted=list(TRUSTED_TYPES))
    except ClassifyError:
        raise
    except Exception as exc:  # skops raises many types for a damaged archive
        raise ClassifyError(f"{path}: cannot be read as a skops model ({exc})") from None
    thresholds = {label: float(meta["thresholds"][label]) for label in LABELS}
    return Model(pipeline, thresholds, meta)
