"""Read the articles of the corpus folder (UnifiedFC and SaudiNewsNet JSONL files)."""

import gzip
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from classify.errors import ClassifyError
from classify.jsonl import records

DEFAULT_CORPUS = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus"
CORPUS_FILES = ("unifiedfc.jsonl.gz", "saudinewsnet.jsonl.gz")
_REQUIRED = ("doc_id", "corpus", "text")


@dataclass(frozen=True)
class Article:
    """One article: its id, corpus, full text, and the group it is split by."""

    doc_id: str
    corpus: str
    text: str
    group: str
    meta: dict = field(default_factory=dict, compare=False, repr=False)


def corpus_dir(path=None):
    """The corpus folder: ``path``, else ``$CLASSIFY_CORPUS``, else ``../shared/corpus``."""
    return Path(path or os.environ.get("CLASSIFY_CORPUS") or DEFAULT_CORPUS).resolve()


def _group(record):
    # UnifiedFC articles of one claim retell one story, SaudiNewsNet wire copies land on
    # one day: splitting by these groups keeps a story out of both train and test.
    if record["corpus"] == "unifiedfc":
        return "claim:" + str(record.get("claim_id", record["doc_id"]))
    return "day:" + str(record.get("date_extracted", ""))[:10]


def corpus_files(path=None):
    """The corpus files present in the folder, checked to exist."""
    folder = corpus_dir(path)
    if not folder.is_dir():
        raise ClassifyError(
            f"corpus folder {folder} not found: expected a folder with {' and '.join(CORPUS_FILES)} "
            "(set --corpus or CLASSIFY_CORPUS)")
    files = [folder / name for name in CORPUS_FILES if (folder / name).is_file()]
    if not files:
        raise ClassifyError(f"corpus folder {folder} has none of the expected files {', '.join(CORPUS_FILES)}")
    return files


def _read(path):
    try:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for n, record in records(fh, path):
                missing = [k for k in _REQUIRED if not isinstance(record.get(k), str)]
                if missing:
                    raise ClassifyError(f"{path}: line {n} lacks the string field(s) {', '.join(missing)}")
                yield record
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise ClassifyError(f"{path}: cannot read it as gzip-compressed UTF-8 JSONL ({exc})") from None


_CACHE = {}


def load_corpus(path=None):
    """Every article of the corpus folder, by doc_id.

    Parameters
    ----------
    path : str or Path, optional
        The corpus folder; see :func:`corpus_dir` for the default.

    Returns
    -------
    dict of str to Article
    """
    files = corpus_files(path)
    key = tuple((str(f), f.stat().st_mtime_ns) for f in files)
    if key not in _CACHE:
        articles = {}
        for f in files:
            for record in _read(f):
                meta = {k: v for k, v in record.items() if k not in ("text", "doc_id", "corpus")}
                articles[record["doc_id"]] = Article(record["doc_id"], record["corpus"], record["text"],
                                                     _group(record), meta)
        _CACHE.clear()
        _CACHE[key] = articles
    return _CACHE[key]


def file_sha256(path):
    """SHA-256 hex digest of a file, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
