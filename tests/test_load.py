"""What makes a cold ``load_model`` faster changes nothing it checks or builds."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from classify.runtime import clusters

ROOT = Path(__file__).resolve().parents[1]

# Prints skops' trusted-type lists, and whether they came from classify's cache.
_LISTS = """
import json, sys
from classify.store import skops_io
skops_io()
module = sys.modules["skops.io._trusted_types"]
lists = {k: v for k, v in vars(module).items() if k.isupper() and isinstance(v, list) and all(isinstance(x, str) for x in v)}
print(json.dumps({"cached": "classify's cache" in (module.__doc__ or ""), "lists": lists}))
"""


def _lists(cache):
    env = {**os.environ, "CLASSIFY_CACHE": str(cache)}
    done = subprocess.run([sys.executable, "-c", _LISTS], capture_output=True, text=True, env=env, cwd=ROOT,
                          check=True)
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """skops' lists as skops builds them, and the cache classify saved of them."""
    cache = tmp_path_factory.mktemp("cache")
    first = _lists(cache)  # no cache: skops builds its lists, classify saves them
    assert not first["cached"]
    return first["lists"], cache / "skops-trusted-types.json"


def test_the_cache_gives_skops_the_trusted_types_it_finds_itself(built):
    truth, path = built
    second = _lists(path.parent)
    assert second["cached"] and second["lists"] == truth
    assert "sklearn.linear_model._logistic.LogisticRegression" in truth["SKLEARN_ESTIMATOR_TYPE_NAMES"]


TAMPERED = {
    "foreign module": lambda c: c["lists"]["SKLEARN_ESTIMATOR_TYPE_NAMES"].append("os.system"),
    "not a name": lambda c: c["lists"]["PRIMITIVE_TYPE_NAMES"].append("builtins.eval; import os"),
    "not a string": lambda c: c["lists"].update(EXTRA=[1]),
    "not upper case": lambda c: c["lists"].update(extra=["numpy.int64"]),
    "other versions": lambda c: c["key"].update({"scikit-learn": "0.1"}),
    "not a table": lambda c: c.update(lists=[]),
    "no estimators": lambda c: c["lists"].update(SKLEARN_ESTIMATOR_TYPE_NAMES=[]),
}


@pytest.mark.parametrize("tamper", TAMPERED.values(), ids=TAMPERED.keys())
def test_a_changed_cache_is_not_read(built, tmp_path, tamper):
    from classify.store import _read_trust_cache

    truth, path = built
    assert _read_trust_cache(path) == truth
    cache = json.loads(path.read_text(encoding="utf-8"))
    tamper(cache)
    (tmp_path / path.name).write_text(json.dumps(cache), encoding="utf-8")
    assert _read_trust_cache(tmp_path / path.name) is None
    (tmp_path / path.name).write_text("{not json", encoding="utf-8")
    assert _read_trust_cache(tmp_path / path.name) is None


def test_a_changed_cache_is_ignored_and_rewritten(built, tmp_path):
    truth, path = built
    cache = json.loads(path.read_text(encoding="utf-8"))
    TAMPERED["foreign module"](cache)
    (tmp_path / path.name).write_text(json.dumps(cache), encoding="utf-8")
    again = _lists(tmp_path)
    assert not again["cached"] and again["lists"] == truth
    assert json.loads((tmp_path / path.name).read_text(encoding="utf-8"))["lists"] == truth


def test_an_unwritable_cache_folder_only_costs_time(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    assert not _lists(blocker / "cache")["cached"]


def test_the_fast_cluster_table_parse_reads_what_the_line_by_line_parse_reads():
    import gzip

    text = gzip.decompress(clusters.TABLE.read_bytes()).decode("utf-8")
    rows = [line.split("\t") for line in text.splitlines()]
    assert list(clusters._parse_table(text).items()) == [(w, int(c)) for w, c in rows]
    assert clusters._WELL_FORMED.fullmatch(text)  # the fast path is the one taken
    for odd in ["a\t1\nb\t2", "a\t1\n\nb\t2\n", "a\tb\t1\nc\t2\n", "a\u2028b\t1\n", "a\t١\n", "a\t1\r\nb\t2\r\n"]:
        try:
            slow = {w: int(c) for w, c in (line.split("\t") for line in odd.splitlines())}
        except ValueError:
            with pytest.raises(ValueError):
                clusters._parse_table(odd)
        else:
            assert clusters._parse_table(odd) == slow, odd
