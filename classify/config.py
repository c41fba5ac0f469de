"""Training configurations: small TOML files naming a classifier and pipeline parameters."""

import tomllib
from pathlib import Path

from classify.errors import ClassifyError
from classify.pipeline import CLASSIFIERS, DEFAULT_CLASSIFIER

DEFAULTS = {"name": "default", "classifier": DEFAULT_CLASSIFIER, "thresholds": "cv", "n_splits": 5, "params": {}}
_KEYS = set(DEFAULTS) | {"grid", "seeds", "train_sizes", "description", "plots"}


def load_config(path=None, extra_classifiers=()):
    """Read a configuration file; no path gives the package defaults.

    The file may set ``name``, ``classifier`` (see :data:`classify.pipeline.CLASSIFIERS`,
    or ``rules``), ``thresholds`` (``"cv"`` or a number), ``n_splits`` and a ``[params]``
    table of ``step__param`` settings; ``experiments/`` also reads ``[grid]``, ``seeds``
    and ``train_sizes``. ``extra_classifiers`` names classifiers a caller builds itself.

    Returns
    -------
    dict
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
    if config["classifier"] not in (*CLASSIFIERS, "rules", *extra_classifiers):
        raise ClassifyError(f"{path}: unknown classifier {config['classifier']!r} "
                            f"(expected one of {', '.join(CLASSIFIERS)}, rules)")
    if config["thresholds"] != "cv" and not isinstance(config["thresholds"], (int, float)):
        raise ClassifyError(f"{path}: thresholds must be \"cv\" or a number, got {config['thresholds']!r}")
    if not isinstance(config["params"], dict):
        raise ClassifyError(f"{path}: [params] must be a table of step__param settings")
    return config
