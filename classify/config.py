"""Training configurations: small TOML files naming a classifier and pipeline parameters.

Every value is checked when the file is read, before any data is loaded, so a bad
configuration is one line naming the key, not a traceback minutes into training.
"""

import math
import re
import tomllib
from pathlib import Path

from classify.calibration import DEFAULT_CALIBRATION, METHODS
from classify.errors import ClassifyError
from classify.pipeline import CLASSIFIERS, DEFAULT_CLASSIFIER
from classify.pooling import DEFAULT_POOLING, POOLINGS

DEFAULTS = {"name": "default", "classifier": DEFAULT_CLASSIFIER, "thresholds": "cv", "n_splits": 5, "params": {},
            "calibration": DEFAULT_CALIBRATION, "pooling": DEFAULT_POOLING}
_KEYS = set(DEFAULTS) | {"grid", "seeds", "train_sizes", "description", "plots", "scheme"}


def _integer(value, low):
    return isinstance(value, int) and not isinstance(value, bool) and value >= low


def _thresholds(value):
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    return value == "cv" or (number and math.isfinite(value) and 0 < value < 1)


# key: (check, what is expected); "params" and "classifier" are checked against the pipeline.
_CHECKS = {
    "name": (lambda v: isinstance(v, str) and v != "", "a non-empty string"),
    "description": (lambda v: isinstance(v, str), "a string"),
    "thresholds": (_thresholds, '"cv" or a number strictly between 0 and 1'),
    "n_splits": (lambda v: _integer(v, 2), "a whole number of at least 2"),
    "params": (lambda v: isinstance(v, dict), "a [params] table of step__param settings"),
    "grid": (lambda v: isinstance(v, dict) or (isinstance(v, list) and all(isinstance(g, dict) for g in v)),
             "a [grid] table or a list of tables"),
    "seeds": (lambda v: isinstance(v, list) and all(_integer(s, 0) for s in v), "a list of whole numbers"),
    "train_sizes": (lambda v: isinstance(v, list) and all(_integer(s, 0) for s in v),
                    "a list of whole numbers (0 = the whole training split)"),
    "plots": (lambda v: isinstance(v, bool), "true or false"),
    "scheme": (lambda v: isinstance(v, str) and v.strip() != "", "the path of a label scheme file (TOML)"),
    "calibration": (lambda v: v in METHODS, " or ".join(f'"{m}"' for m in METHODS)),
    "pooling": (lambda v: v in POOLINGS, " or ".join(f'"{p}"' for p in POOLINGS)),
}


def load_config(path=None, extra_classifiers=()):
    """Read a configuration file; no path gives the package defaults.

    The file may set ``name``, ``classifier`` (see :data:`classify.pipeline.CLASSIFIERS`,
    or ``rules``), ``thresholds`` (``"cv"`` or a number in (0, 1)), ``n_splits`` (at
    least 2), ``calibration`` (``"sigmoid"``, ``"isotonic"`` or ``"none"``; see
    :mod:`classify.calibration`), ``pooling`` (``"sentence"`` or ``"none"``; see
    :mod:`classify.pooling`), a ``[params]`` table of ``step__param`` settings, and ``scheme``, the path of
    a label scheme file (relative to the configuration's folder; see :mod:`classify.scheme`),
    which is read and checked here and returned as an absolute path; ``experiments/`` also
    reads ``[grid]``, ``seeds``, ``train_sizes``, ``description`` and ``plots``.
    ``extra_classifiers`` names classifiers a caller builds itself (their parameters are
    not checked here).

    Returns
    -------
    dict

    Raises
    ------
    ClassifyError
        Naming the key at fault: an unknown key, a value of the wrong type or out of
        range, an unknown classifier, or a pipeline parameter that does not exist or
        that scikit-learn would refuse.
    """
    if path is None:
        return {**DEFAULTS, "params": {}}
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ClassifyError(f"cannot read config {path}: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ClassifyError(f"{path}: not valid TOML ({exc})") from None
    unknown = set(raw) - _KEYS
    if unknown:
        raise ClassifyError(f"{path}: unknown key(s) {', '.join(sorted(unknown))} (expected {', '.join(sorted(_KEYS))})")
    config = {**DEFAULTS, "name": Path(path).stem, **raw}
    for key, (check, expected) in _CHECKS.items():
        if key in config and not check(config[key]):
            raise ClassifyError(f"{path}: {key} must be {expected}, got {config[key]!r}")
    if not isinstance(config["classifier"], str) or \
            config["classifier"] not in (*CLASSIFIERS, "rules", *extra_classifiers):
        raise ClassifyError(f"{path}: unknown classifier {config['classifier']!r} "
                            f"(expected one of {', '.join(CLASSIFIERS)}, rules)")
    if config["classifier"] in CLASSIFIERS:
        _check_params(path, config["classifier"], config["params"])
    if "scheme" in config:
        from classify.scheme import load_scheme

        config["scheme"] = str((Path(path).parent / config["scheme"]).resolve())
        load_scheme(config["scheme"])  # a bad scheme is one line now, not after loading the data
    return config


def _check_params(path, classifier, params):
    """Build the pipeline and let scikit-learn check each parameter now, not at fit time."""
    from sklearn.utils._param_validation import InvalidParameterError

    from classify.pipeline import make_pipeline

    for key, value in params.items():
        if key.startswith("normalise__") and not isinstance(value, bool):
            raise ClassifyError(f"{path}: {key} must be true or false, got {value!r}")
    try:
        pipeline = make_pipeline(classifier, params)
    except ClassifyError as exc:
        # scikit-learn's message lists every valid parameter over many lines: name the culprit instead.
        found = re.search(r"Invalid parameter '(\w+)' for estimator (\w+)", str(exc))
        if not found:
            raise ClassifyError(f"{path}: {' '.join(str(exc).split())}") from None
        key = next((k for k in params if found[1] in k.split("__")), found[1])
        raise ClassifyError(f"{path}: unknown parameter {key!r} in [params] "
                            f"({found[2]} has no parameter {found[1]!r})") from None
    estimators = [pipeline, *(v for v in pipeline.get_params(deep=True).values() if hasattr(v, "get_params"))]
    for estimator in estimators:
        if not hasattr(estimator, "_parameter_constraints"):
            continue
        try:
            estimator._validate_params()
        except InvalidParameterError as exc:
            raise ClassifyError(f"{path}: bad value in [params]: {' '.join(str(exc).split())}") from None
    for key, value in pipeline.get_params(deep=True).items():
        if key.endswith("ngram_range") and not (isinstance(value, tuple) and len(value) == 2 and
                                                all(_integer(n, 1) for n in value) and value[0] <= value[1]):
            raise ClassifyError(f"{path}: {key} must be [min, max] with 1 <= min <= max, got {value!r}")
