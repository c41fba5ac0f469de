"""Labelling on several processes: a local pool (``predict --jobs N``) or a Dask cluster (``--backend dask``).

The main process reads the inputs and cuts them into chunks of records (:func:`classify.predict.chunks`);
workers segment and label a chunk each; the results come back in input order, so the output is the
one a single process writes, record for record. At most :data:`WINDOW` chunks per worker are in
flight, so memory stays flat whatever the input's size.

Workers never receive a pickled model: they get the card and the bytes of ``model.skops`` (and of
``runtime.npz``, which they predict with, as the main process does) that the main process read and
checked, check them again (hash, trusted types, pipeline or runtime) and build the model once per
worker process.
"""

import os
import threading
from collections import deque

from classify.errors import ClassifyError

#: Chunks in flight per worker: one being labelled, one waiting, so no worker idles.
WINDOW = 2
#: A local scheduler's HTTP server (it has one even without a dashboard) on a free port of the
#: loopback interface, not on 8787, which another cluster may hold.
QUIET_SCHEDULER = {"dashboard_address": "127.0.0.1:0"}
#: Seconds to wait for a Dask scheduler given by address.
CONNECT_TIMEOUT = 10

_models = {}
_models_lock = threading.Lock()
_files = _counts = None


def _model(files):
    """The model of ``files`` (card, bytes, path, runtime bytes), built once per process and kept."""
    meta, data, where, runtime = files
    key = meta["pipeline_sha256"]
    with _models_lock:
        if key not in _models:
            from classify.store import model_from_files

            _models.clear()  # one model per worker
            _models[key] = model_from_files(meta, data, where, runtime)
        return _models[key]


def _label(files, chunk, counts=None):
    from classify.predict import label_units

    return label_units(_model(files), chunk, counts)


def _init_local(files, counts):
    import signal

    global _files, _counts
    # The main process handles Ctrl-C and stops the workers; they print nothing of it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _files, _counts = files, counts


def _label_local(chunk):
    return _label(_files, chunk, _counts)


def in_order(submit, result, items, window):
    """``(tag, result(submit(payload)))`` for each ``(tag, payload)`` of ``items``, in order, with at
    most ``window`` submitted and not yet returned."""
    pending = deque()
    for tag, payload in items:
        pending.append((tag, submit(payload)))
        if len(pending) >= window:
            tag, future = pending.popleft()
            yield tag, result(future)
    while pending:
        tag, future = pending.popleft()
        yield tag, result(future)


def available_cores():
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


class LocalPool:
    """``jobs`` worker processes on this machine (forkserver where the platform has it, else spawn)."""

    def __init__(self, files, jobs, counts=None):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
        context = multiprocessing.get_context(method)
        if method == "forkserver":
            # The server imports the package once; every worker forks from it with the imports done.
            context.set_forkserver_preload(["classify.predict", "classify.store", "classify.scale"])
        self.workers = jobs
        self.executor = ProcessPoolExecutor(jobs, mp_context=context, initializer=_init_local,
                                            initargs=(files, counts))

    def map(self, items):
        return in_order(self._submit, self._result, items, WINDOW * self.workers)

    def _submit(self, chunk):
        from concurrent.futures.process import BrokenProcessPool

        try:
            return self.executor.submit(_label_local, chunk)
        except (BrokenProcessPool, OSError) as exc:
            # E.g. a script that calls classify.cli.main without "if __name__ == '__main__':".
            raise ClassifyError(f"cannot start the worker processes ({type(exc).__name__}: "
                                f"{' '.join(str(exc).split())[:200]})") from None

    @staticmethod
    def _result(future):
        from concurrent.futures.process import BrokenProcessPool

        try:
            return future.result()
        except BrokenProcessPool:
            raise ClassifyError("a worker process stopped unexpectedly (killed, or out of memory?)") from None

    def close(self, failed=False):
        if not failed:
            self.executor.shutdown(wait=True)
            return
        self.executor.shutdown(wait=False, cancel_futures=True)
        for process in list((getattr(self.executor, "_processes", None) or {}).values()):
            process.terminate()


def dask_client(scheduler=None, workers=None):
    """A Dask client of the cluster at ``scheduler``, or of a new local cluster of ``workers`` processes
    (one thread each; default: every core).

    Returns
    -------
    client : distributed.Client
    cluster : distributed.LocalCluster or None
        The local cluster, to close after the client; None for a cluster given by address.

    Raises
    ------
    ClassifyError
        One line, when dask.distributed is not installed or the scheduler cannot be reached.
    """
    import logging

    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ClassifyError("--backend dask needs dask.distributed, which is not installed "
                            "(pip install 'classify[dask]')") from None
    cluster = None
    if scheduler:
        _check_address(scheduler)
    try:
        if scheduler:
            return Client(scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False), None
        cluster = LocalCluster(n_workers=workers or available_cores(), threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address=None, scheduler_kwargs=QUIET_SCHEDULER,
                               silence_logs=logging.ERROR)
        return Client(cluster, set_as_default=False), cluster
    except (OSError, TimeoutError, ValueError, TypeError, RuntimeError) as exc:  # Runtime: a worker did not start
        if cluster is not None:
            cluster.close()
        where = f"the Dask scheduler at {scheduler}" if scheduler else "a local Dask cluster"
        raise ClassifyError(f"cannot reach {where} ({type(exc).__name__}: {' '.join(str(exc).split())[:200]})") \
            from None


def _check_address(address):
    # Before any Client exists: one that fails to parse its address waits 20 s to close when collected.
    from distributed.comm import get_address_host_port, normalize_address

    try:
        normalized = normalize_address(address)
        if not normalized.startswith("inproc://"):  # a cluster in this process has no host and port
            get_address_host_port(normalized)
    except (ValueError, TypeError) as exc:
        raise ClassifyError(f"cannot reach the Dask scheduler at {address}: not an address ({exc}; expected e.g. "
                            "tcp://HOST:8786)") from None


class DaskPool:
    """The workers of a Dask cluster: the one at ``scheduler``, or a LocalCluster of ``jobs`` processes."""

    def __init__(self, files, scheduler=None, jobs=None, counts=None):
        self.client, self.cluster = dask_client(scheduler, jobs)
        try:
            self.client.wait_for_workers(1, timeout=CONNECT_TIMEOUT)
        except (TimeoutError, OSError):
            self.close(failed=True)
            raise ClassifyError(f"the Dask cluster at {scheduler} has no worker (waited {CONNECT_TIMEOUT} s)") from None
        threads = sum(w.get("nthreads", 1) for w in self.client.scheduler_info()["workers"].values())
        self.workers = max(threads, 1)
        # Sent once to every worker, not once per chunk.
        self.files, self.counts = self.client.scatter([files, counts], broadcast=True, hash=False)

    def map(self, items):
        return in_order(lambda chunk: self.client.submit(_label, self.files, chunk, self.counts, pure=False),
                        self._result, items, WINDOW * self.workers)

    @staticmethod
    def _result(future):
        try:
            return future.result()
        except ClassifyError:
            raise
        except Exception as exc:  # KilledWorker, a lost scheduler, ...
            if type(exc).__module__.startswith(("distributed", "tornado", "asyncio")) or isinstance(exc, OSError):
                raise ClassifyError(f"the Dask cluster failed ({type(exc).__name__}: "
                                    f"{' '.join(str(exc).split())[:200]})") from None
            raise

    def close(self, failed=False):
        # Closing the client releases its futures: the scheduler drops the chunks still queued.
        self.client.close()
        self._close_cluster()

    def _close_cluster(self):
        if self.cluster is not None:
            self.cluster.close()
            self.cluster = None


def open_pool(files, backend, jobs=None, scheduler=None, counts=None):
    """A :class:`LocalPool` or :class:`DaskPool` over the model files from
    :func:`classify.store.read_model_files` (and the crawl's line ``counts``, for the segmenter)."""
    if backend == "dask":
        return DaskPool(files, scheduler, jobs, counts)
    return LocalPool(files, jobs, counts)


def label_in_pool(pool, items):
    """Label ``(tag, chunk)`` items on ``pool``'s workers; yields ``(tag, labelled records)`` in
    input order and closes the pool when done or failed."""
    try:
        yield from pool.map(items)
    except BaseException:
        pool.close(failed=True)
        raise
    pool.close()
