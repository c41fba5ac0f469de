"""Label schemes: the label set and its cue words, read from a TOML file, not from code.

A scheme file names the scheme and gives one table per label, in column order::

    name = "my-project"
    [labels.shelling]
    cues = ["قصف", "غارات"]
    [labels.arrest]
    cues = ["اعتقال"]

The codebook's scheme (its five labels and cue words) ships inside the package as
``classify/schemes/codebook.toml`` and is the default. A model records the scheme it was
trained with in its card (:meth:`Scheme.card`), so it predicts, evaluates and checks
labels with its own labels and cues, whatever the default.
"""

import json
import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from hashlib import sha256
from importlib.resources import files
from pathlib import Path

from classify.errors import ClassifyError

DEFAULT_SCHEME_FILE = "codebook.toml"
# A label name is a column of labels.csv (split at ";"), a JSON key and a feature name.
LABEL_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")
# Names that the tables of label counts already use for columns of their own.
RESERVED = frozenset({"none", "corpus", "split", "paragraphs"})
# Cue matches are kept as bit masks in 64-bit integers.
MAX_LABELS = 63
_KEYS = {"name", "labels"}
_LABEL_KEYS = {"cues"}


@dataclass(frozen=True)
class Scheme:
    """A label set and the cue words of each label.

    Attributes
    ----------
    name : str
    labels : tuple of str
        In column order: the order of the model's probabilities and of every report.
    cues : dict of str to tuple of str
        Each label's cue words as written (matched after normalisation); may be empty.
    sha256 : str
        SHA-256 of the canonical JSON form of name, labels and cues (see :meth:`canonical`).
    """

    name: str
    labels: tuple
    cues: dict = field(hash=False)
    sha256: str = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "sha256", sha256(self.canonical().encode("utf-8")).hexdigest())

    def canonical(self):
        """The scheme as compact JSON: name, labels in order, each label's cues in order."""
        body = {"name": self.name, "labels": list(self.labels),
                "cues": {label: list(self.cues[label]) for label in self.labels}}
        return json.dumps(body, ensure_ascii=False, separators=(",", ":"))

    def card(self):
        """What a model card records: name, labels, cues and sha256 (JSON types)."""
        return {"name": self.name, "labels": list(self.labels),
                "cues": {label: list(self.cues[label]) for label in self.labels}, "sha256": self.sha256}


def _shown(value):
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _cue_problem(cue):
    """Why ``cue`` cannot be a cue word, or ``None``."""
    from classify.normalise import normalise

    if not isinstance(cue, str):
        return f"is a {type(cue).__name__}, not a string"
    if not normalise(cue).strip():
        # An empty cue would fire on every word (after any proclitic).
        return "is empty (or nothing but spaces, diacritics, tatweel or invisible characters)"
    return None


def scheme_from_dict(raw, where, default_name=None):
    """Validate a parsed scheme (a TOML file's content, or a model card's ``scheme``).

    Parameters
    ----------
    raw : object
    where : str
        Names the file (and field) in messages.
    default_name : str, optional
        The name when ``raw`` gives none (a file's stem).

    Returns
    -------
    Scheme

    Raises
    ------
    ClassifyError
        One line naming ``where`` and the field at fault.
    """
    if not isinstance(raw, dict):
        raise ClassifyError(f"{where}: a label scheme must be a table, got {type(raw).__name__}")
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        raise ClassifyError(f"{where}: unknown key {_shown(unknown[0])} "
                            f"(a scheme has name and [labels.NAME] tables of cues)")
    name = raw.get("name", default_name)
    if not isinstance(name, str) or not name.strip():
        raise ClassifyError(f"{where}: name must be a non-empty string, got {_shown(name)}")
    labels = raw.get("labels")
    if labels is None or labels == {}:
        raise ClassifyError(f"{where}: no labels (expected one [labels.NAME] table per label, "
                            f"with cues = [\"...\"])")
    if not isinstance(labels, dict):
        raise ClassifyError(f"{where}: labels must be [labels.NAME] tables, got {type(labels).__name__}")
    if len(labels) == 1:
        # One-vs-rest would read a single column as a two-class target.
        raise ClassifyError(f"{where}: only one label ({next(iter(labels))}); a scheme needs at least two labels")
    if len(labels) > MAX_LABELS:
        raise ClassifyError(f"{where}: {len(labels)} labels, more than the limit of {MAX_LABELS}")
    cues = {}
    for label, table in labels.items():
        if not LABEL_NAME.fullmatch(label):
            raise ClassifyError(f"{where}: bad label name {_shown(label)} (expected a lowercase letter, then "
                                "lowercase letters, digits or underscores, at most 40 characters)")
        if label in RESERVED:
            raise ClassifyError(f"{where}: label name {label!r} is reserved (not one of {', '.join(sorted(RESERVED))})")
        if not isinstance(table, dict):
            raise ClassifyError(f"{where}: labels.{label} must be a table with cues = [...], "
                                f"got {_shown(table)}")
        extra = sorted(set(table) - _LABEL_KEYS)
        if extra:
            raise ClassifyError(f"{where}: unknown key {_shown(extra[0])} in labels.{label} (expected cues)")
        words = table.get("cues", [])
        if not isinstance(words, (list, tuple)):
            raise ClassifyError(f"{where}: labels.{label}.cues must be a list of non-empty strings, "
                                f"got {_shown(words)}")
        for i, cue in enumerate(words):
            problem = _cue_problem(cue)
            if problem:
                raise ClassifyError(f"{where}: labels.{label}.cues[{i}] {problem}: cues must be a list of "
                                    f"non-empty strings, got {_shown(cue)}")
        repeated = next((w for i, w in enumerate(words) if w in words[:i]), None)
        if repeated is not None:
            raise ClassifyError(f"{where}: labels.{label}.cues repeats {repeated!r}")
        cues[label] = tuple(words)
    return Scheme(name, tuple(labels), cues)


def load_scheme(path=None):
    """Read and validate a scheme file; no path gives the codebook's scheme shipped with the package.

    Parameters
    ----------
    path : str or Path, optional

    Returns
    -------
    Scheme

    Raises
    ------
    ClassifyError
        If the file cannot be read or is not valid TOML, has no labels, a bad label name,
        cues that are not a list of non-empty strings, a label declared twice, or an
        unknown key: one line naming the file and the field.
    """
    if path is None:
        return default_scheme()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ClassifyError(f"cannot read scheme {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ClassifyError(f"{path}: not UTF-8 (undecodable byte at offset {exc.start})") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib names a table declared twice ("Cannot declare ('labels', 'x') twice") and where.
        raise ClassifyError(f"{path}: not valid TOML ({exc})") from None
    return scheme_from_dict(raw, str(path), default_name=Path(path).stem)


@lru_cache(maxsize=1)
def default_scheme():
    """The codebook's scheme, shipped as ``classify/schemes/codebook.toml``."""
    resource = files("classify") / "schemes" / DEFAULT_SCHEME_FILE
    return scheme_from_dict(tomllib.loads(resource.read_text(encoding="utf-8")),
                            f"classify/schemes/{DEFAULT_SCHEME_FILE}")


def scheme_from_card(value, where):
    """The scheme a model card records (``None``, from cards older than schemes: the codebook's).

    Raises
    ------
    ClassifyError
        If the field is not a valid scheme, or its ``sha256`` is not that of its content.
    """
    if value is None:
        return default_scheme()
    where = f"{where}: field 'scheme'"
    if not isinstance(value, dict):
        raise ClassifyError(f"{where} must be a table of name, labels, cues and sha256, got {_shown(value)}")
    missing = [k for k in ("name", "labels", "cues", "sha256") if k not in value]
    if missing:
        raise ClassifyError(f"{where} lacks {missing[0]!r}")
    extra = sorted(set(value) - {"name", "labels", "cues", "sha256"})
    if extra:
        raise ClassifyError(f"{where}: unknown key {_shown(extra[0])}")
    labels, cues = value["labels"], value["cues"]
    if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels) or len(set(labels)) != len(labels):
        raise ClassifyError(f"{where}: labels must be a list of distinct label names, got {_shown(labels)}")
    if not isinstance(cues, dict) or list(cues) != labels:
        raise ClassifyError(f"{where}: cues must be a table of each label's cue words, in label order, "
                            f"got {_shown(cues)}")
    scheme = scheme_from_dict({"name": value["name"], "labels": {label: {"cues": cues[label]} for label in labels}},
                              where)
    if scheme.sha256 != value["sha256"]:
        raise ClassifyError(f"{where}: sha256 is not that of the scheme's content")
    return scheme
