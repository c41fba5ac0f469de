"""Labelling on several processes (``predict --jobs N``) and on a Dask cluster (``--backend dask``):
the output is the single process's, record for record, written whole or not at all."""

import gzip
import json
import sys

import pytest

from classify import predict
from conftest import SEED_ARTICLE, one_line_error, run
from test_predict import ARTICLES


@pytest.fixture()
def inputs(tmp_path, corpus_dir, monkeypatch):
    """Three inputs (the fixture corpus's articles, more articles, the seed article) cut into many chunks."""
    articles = tmp_path / "articles.jsonl.gz"
    with gzip.open(articles, "wt", encoding="utf-8") as fh:
        for i in range(12):
            for a in ARTICLES:
                fh.write(json.dumps({**a, "doc_id": f"{a['doc_id']}-{i}"}, ensure_ascii=False) + "\n")
    # Chunks of a few records, so that two workers each label several, and finish out of order.
    monkeypatch.setattr(predict, "STREAM_BATCH", 5)
    monkeypatch.setattr(predict, "CHUNK_CHARS", 6000)
    return [corpus_dir / "unifiedfc.jsonl.gz", articles, SEED_ARTICLE]


def _predict(model, inputs, out, capsys, *options):
    status, _, err = run(["predict", "--model", model, *inputs, "-o", out, *options], capsys)
    assert status == 0, err
    return out.read_text(encoding="utf-8"), err


@pytest.mark.parametrize("segment", [[], ["--segment"]], ids=["records", "segment"])
def test_jobs_2_writes_what_one_process_writes(trained_model, inputs, tmp_path, capsys, segment):
    one, _ = _predict(trained_model, inputs, tmp_path / "one.jsonl", capsys, "--jobs", "1", *segment)
    two, err = _predict(trained_model, inputs, tmp_path / "two.jsonl", capsys, "--jobs", "2", *segment)
    assert two == one and "on 2 local worker(s)" in err
    records = [json.loads(line) for line in one.splitlines()]
    assert len(records) > 40 and len({r.get("doc_id") for r in records}) > 20
    if segment:
        assert all("start" in r for r in records)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["articles.jsonl.gz", "one.jsonl", "two.jsonl"]


def test_jobs_stop_at_a_bad_record_and_leave_the_output_whole(trained_model, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(predict, "STREAM_BATCH", 50)
    source = tmp_path / "in.jsonl"
    source.write_text('{"text": "قصف"}\n' * 1000 + '{"body": "x"}\n', encoding="utf-8")
    out = tmp_path / "out.jsonl"
    out.write_text("previous\n", encoding="utf-8")
    status, _, err = run(["predict", "--model", trained_model, source, "-o", out, "--jobs", "2"], capsys)
    one_line_error(status, err, "line 1001 has no string field 'text'")
    assert out.read_text(encoding="utf-8") == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "out.jsonl"]


@pytest.fixture(scope="module")
def dask_cluster():
    """A two-worker Dask cluster in this process (threads: processes take seconds each to start)."""
    distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")
    import logging

    from classify.scale import QUIET_SCHEDULER

    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None,
                                       scheduler_kwargs=QUIET_SCHEDULER, silence_logs=logging.ERROR)
    yield cluster
    cluster.close()


@pytest.mark.parametrize("segment", [[], ["--segment"]], ids=["records", "segment"])
def test_a_two_worker_dask_cluster_writes_what_one_process_writes(trained_model, inputs, tmp_path, capsys,
                                                                  dask_cluster, segment):
    one, _ = _predict(trained_model, inputs, tmp_path / "one.jsonl", capsys, *segment)
    dask, err = _predict(trained_model, inputs, tmp_path / "dask.jsonl", capsys, "--backend", "dask",
                         "--scheduler", dask_cluster.scheduler_address, *segment)
    assert dask == one and "on 2 dask worker(s)" in err


def test_dask_stops_at_a_bad_record_and_leaves_the_output_whole(trained_model, tmp_path, capsys, dask_cluster):
    source = tmp_path / "in.jsonl"
    source.write_text('{"text": "قصف"}\n' * 3000 + "[1]\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    status, _, err = run(["predict", "--model", trained_model, source, "-o", out, "--backend", "dask",
                          "--scheduler", dask_cluster.scheduler_address], capsys)
    one_line_error(status, err, "line 3001 is not a JSON object")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]


@pytest.mark.slow
def test_a_local_dask_cluster_of_two_processes_writes_what_one_process_writes(trained_model, inputs, tmp_path,
                                                                              capsys):
    pytest.importorskip("distributed", reason="the dask extra is not installed")
    one, _ = _predict(trained_model, inputs, tmp_path / "one.jsonl", capsys, "--segment")
    dask, err = _predict(trained_model, inputs, tmp_path / "dask.jsonl", capsys, "--segment", "--backend", "dask",
                         "--jobs", "2")
    assert dask == one and "on 2 dask worker(s)" in err


def test_dask_not_installed_is_one_line(trained_model, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed raises ImportError
    status, _, err = run(["predict", "--model", trained_model, SEED_ARTICLE, "-o", tmp_path / "out.jsonl",
                          "--backend", "dask"], capsys)
    one_line_error(status, err, "--backend dask needs dask.distributed, which is not installed",
                   "pip install 'classify[dask]'")
    assert list(tmp_path.iterdir()) == []


def test_an_unreachable_scheduler_is_one_line(trained_model, tmp_path, capsys, monkeypatch):
    pytest.importorskip("distributed", reason="the dask extra is not installed")
    from classify import scale

    monkeypatch.setattr(scale, "CONNECT_TIMEOUT", 2)
    for address in ("tcp://127.0.0.1:9", "no-such-host.invalid:8786", "not an address"):
        status, _, err = run(["predict", "--model", trained_model, SEED_ARTICLE, "-o", tmp_path / "out.jsonl",
                              "--backend", "dask", "--scheduler", address], capsys)
        one_line_error(status, err, f"cannot reach the Dask scheduler at {address}")
    assert list(tmp_path.iterdir()) == []


def test_a_cluster_without_workers_is_one_line(trained_model, tmp_path, capsys, monkeypatch):
    distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")
    import logging

    from classify import scale

    monkeypatch.setattr(scale, "CONNECT_TIMEOUT", 1)
    with distributed.LocalCluster(n_workers=0, processes=False, dashboard_address=None,
                                  scheduler_kwargs=scale.QUIET_SCHEDULER, silence_logs=logging.ERROR) as empty:
        status, _, err = run(["predict", "--model", trained_model, SEED_ARTICLE, "-o", tmp_path / "out.jsonl",
                              "--backend", "dask", "--scheduler", empty.scheduler_address], capsys)
    one_line_error(status, err, f"the Dask cluster at {empty.scheduler_address} has no worker (waited 1 s)")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("options,message", [
    (["--jobs", "0"], "--jobs must be at least 1, got 0"),
    (["--jobs", "-3"], "--jobs must be at least 1, got -3"),
    (["--scheduler", "tcp://127.0.0.1:8786"], "--scheduler ADDRESS goes with --backend dask"),
    (["--backend", "dask", "--scheduler", "tcp://127.0.0.1:8786", "--jobs", "2"], "leave --jobs out"),
])
def test_bad_scale_options_are_one_line(trained_model, tmp_path, capsys, options, message):
    status, _, err = run(["predict", "--model", trained_model, SEED_ARTICLE, "-o", tmp_path / "out.jsonl",
                          *options], capsys)
    one_line_error(status, err, message)
    assert list(tmp_path.iterdir()) == []
