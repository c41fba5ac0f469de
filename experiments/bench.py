"""``make bench``: the default model's prediction speed against fastText's, on one thread.

Both are trained on the training split of ``data/labels.csv`` and then label the same
paragraphs (the real test and training paragraphs, repeated to 1k, 10k and 100k). The
same classify model also runs with sentence pooling (``pooling = "sentence"``: each label's
score also takes the best sentence's), to show what that option costs. Every timed run is a fresh process (so peak RSS is that run's
own), the systems alternate (A-B-C-A-B-C) and each figure is the median of the runs.
Writes ``reports/bench.md``.

Timings live here only, never in the tests.
"""

import os

# One thread everywhere, set before numpy is imported by anything.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import datetime, timezone  # noqa: E402
from pathlib import Path  # noqa: E402

SIZES = (1_000, 10_000, 100_000)
# The default model as it is, and the same model with sentence pooling (classify.pooling).
OURS = ("classify", "pooled")
STREAM_SIZES = (10_000, 100_000, 1_000_000)
RUNS = 3
# The fastText baseline's configuration (experiments/configs/fasttext.toml), seed 0.
FASTTEXT_PARAMS = {"minn": 2, "maxn": 5, "epoch": 25, "seed": 0}


# -- one timed run, in its own process ---------------------------------------------------------


def _repeat(pool, n):
    return (pool * (n // len(pool) + 1))[:n]


def _worker(system, model_path, pool_path, n):
    """Load, label ``n`` paragraphs, print one JSON line of timings and peak RSS."""
    ours = system in OURS
    if ours:
        from skops.io import load  # noqa: F401  (load_model imports it: timed in the cold start, not here)

        from classify import load_model
    else:
        from fasttext import load_model
    t0 = time.perf_counter()
    model = load_model(model_path)
    loaded = time.perf_counter() - t0
    if system == "pooled":
        model.meta["pooling"] = "sentence"
    texts = _repeat(json.loads(Path(pool_path).read_text(encoding="utf-8")), n)
    rss_before = _peak_rss_kb()
    t0 = time.perf_counter()
    if ours:
        out = model.predict(texts)
    else:
        # fastText reads one line per text. Its Python predict() breaks on NumPy 2 and the
        # batch multilinePredict returns wrong probabilities (see _check_fasttext), so the
        # one-line C++ call, every label's probability as ours gives.
        predict = model.f.predict
        out = [predict(" ".join(t.split()), -1, 0.0, "strict") for t in texts]
    seconds = time.perf_counter() - t0
    assert len(out) == n
    compiled = ours and model.runtime is not None and model.runtime._fast is not None
    print(json.dumps({"load": loaded, "seconds": seconds, "rss_before_kb": rss_before, "rss_peak_kb": _peak_rss_kb(),
                      "compiled": compiled}))


def _peak_rss_kb():
    # VmHWM is this process's own peak; getrusage's ru_maxrss can report the parent's,
    # which forked it, when that was larger.
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _stream_worker(model_path, source, out):
    """``classify predict`` over a .jsonl.gz file, in this process; print its rate and peak RSS."""
    from classify.cli import main

    t0 = time.perf_counter()
    status = main(["predict", "--model", model_path, source, "-o", out])
    print(json.dumps({"status": status, "seconds": time.perf_counter() - t0, "rss_peak_kb": _peak_rss_kb()}))


def _stream(model_path, pool, n, work):
    """One streamed ``classify predict`` of ``n`` paragraphs (as JSONL records, gzipped), in a fresh process."""
    import gzip

    source, out = work / f"stream{n}.jsonl.gz", work / f"stream{n}.out.jsonl"
    with gzip.open(source, "wt", encoding="utf-8", compresslevel=1) as fh:
        for i, text in enumerate(_repeat(pool, n)):
            fh.write(json.dumps({"id": i, "text": text}, ensure_ascii=False) + "\n")
    cmd = [sys.executable, "-m", "experiments.bench", "--stream-worker", str(model_path), str(source), str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    source.unlink()
    out.unlink(missing_ok=True)
    return result


def _run(system, model_path, pool_path, n):
    cmd = [sys.executable, "-m", "experiments.bench", "--worker", system, str(model_path), str(pool_path), str(n)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _cold_load(system, model_path, cpu=False):
    """Wall time of a fresh ``python -c`` that imports the library and loads the model (and, with
    ``cpu``, the CPU time it used: on a shared machine, the steadier figure)."""
    import resource

    code = {"classify": f"from classify import load_model; load_model({str(model_path)!r})",
            "fasttext": f"import fasttext; fasttext.load_model({str(model_path)!r})"}[system]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    used = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return (wall, used) if cpu else wall


def _cold_only(model_path, runs):
    """``--cold DIR``: the cold start of an existing classify model alone, no training (seconds)."""
    _cold_load("classify", model_path)  # once first, so the trust cache of classify.store exists
    times = [_cold_load("classify", model_path, cpu=True) for _ in range(runs)]
    wall, cpu = statistics.median(t[0] for t in times), statistics.median(t[1] for t in times)
    print(f"cold load_model({str(model_path)!r}), fresh python -c, {runs} runs: median {wall:.2f} s wall "
          f"({', '.join(f'{t[0]:.2f}' for t in times)}), {cpu:.2f} s CPU")


# -- training and the fastText check ------------------------------------------------------------


def _train_classify(table, folder):
    from classify.model import save_model, train

    part = table[table.split == "train"]
    t0 = time.perf_counter()
    model = train(part.text.tolist(), part.labels.tolist(), part.group.tolist())
    seconds = time.perf_counter() - t0
    save_model(model, folder)
    return seconds


def _train_fasttext(table, path):
    from classify.model import binarize
    from experiments.fasttext_model import FastTextClassifier

    part = table[table.split == "train"]
    t0 = time.perf_counter()
    clf = FastTextClassifier(**FASTTEXT_PARAMS).fit(part.text.tolist(), binarize(part.labels))
    seconds = time.perf_counter() - t0
    clf.model_.save_model(str(path))
    return seconds, _check_fasttext(clf, part)


def _check_fasttext(clf, part):
    """Refuse to time a fastText whose probabilities are wrong.

    Returns whether fastText's batch call ``multilinePredict`` agrees with the one-line
    call (under NumPy 2 it does not: it repeats one probability for every label).
    """
    import numpy as np

    from classify.model import binarize

    texts = part.text.tolist()[:200]
    lines = [" ".join(t.split()) for t in texts]
    labels, probs = clf.model_.f.multilinePredict(lines, -1, 0.0, "strict")
    one_by_one = [clf.model_.f.predict(line, -1, 0.0, "strict") for line in lines]
    batch_ok = all(np.allclose(sorted(p), sorted(prob for prob, _ in single))
                   for p, single in zip(probs, one_by_one))
    proba = clf.predict_proba(texts)
    # fastText adds 1e-5 to each probability before its log, so 1 can come back as 1.00001.
    if not ((proba >= 0) & (proba <= 1 + 1e-4)).all():
        raise SystemExit("fastText: probabilities outside [0, 1]")
    # A known case: the paragraphs it was trained on. A working one-vs-all model recalls
    # most of their labels at 0.5 and gives the absent ones low scores.
    Y = binarize(part.labels.tolist()[:200])
    recall = ((proba >= 0.5) & (Y == 1)).sum() / max(Y.sum(), 1)
    if recall < 0.6 or proba[Y == 0].mean() > 0.3:
        raise SystemExit(f"fastText: implausible probabilities on its own training paragraphs "
                         f"(recall {recall:.2f}, mean score of absent labels {proba[Y == 0].mean():.2f})")
    return batch_ok


# -- where the time goes -----------------------------------------------------------------------


def _steps(model, texts):
    """Seconds per paragraph of each step of ``model.predict`` on ``texts``, one batch at a time: the
    compiled kernel's own steps (:data:`classify.runtime._kernel.STEPS`) when the runtime has it, else
    the NumPy kernels' (:func:`_reference_steps`)."""
    fast = model.runtime._fast if model.runtime is not None else None
    if fast is None:
        return _reference_steps(model, texts)
    from classify.model import PREDICT_BATCH
    from classify.runtime import _kernel

    kernel = fast.inner
    kernel.timing = True
    kernel.reset_timings()
    proba_seconds = thresholds = 0.0
    ticks, start = _kernel.ticks(), time.perf_counter()
    for i in range(0, len(texts), PREDICT_BATCH):
        batch = texts[i:i + PREDICT_BATCH]
        t0 = time.perf_counter()
        proba = model._proba(batch)
        t1 = time.perf_counter()
        model.labels_from_proba(proba)
        proba_seconds, thresholds = proba_seconds + t1 - t0, thresholds + time.perf_counter() - t1
    rate = (_kernel.ticks() - ticks) / (time.perf_counter() - start)  # the kernel's clock, in ticks per second
    kernel.timing = False
    spent = {name: t / rate for name, t in kernel.timings().items()}
    # What the kernel's clock did not see: the batches, the output array, the calibrator.
    spent["Python around the kernel (batches, calibrator)"] = max(proba_seconds - sum(spent.values()), 0.0)
    spent["thresholds"] = thresholds
    return {k: v / len(texts) for k, v in spent.items()}


def _reference_steps(model, texts):
    """Seconds per paragraph of each step of the model's runtime through the NumPy kernels
    (:mod:`classify.runtime`), on ``texts``, one batch at a time."""
    import numpy as np
    import scipy.sparse as sp

    from classify.calibration import apply_calibrator
    from classify.model import PREDICT_BATCH

    runtime = model.runtime
    spent = {"normalise": 0.0, **{f"features: {name}": 0.0 for name, _ in runtime.blocks}, "classifier": 0.0,
             "thresholds": 0.0}
    for i in range(0, len(texts), PREDICT_BATCH):
        batch = texts[i:i + PREDICT_BATCH]
        t0 = time.perf_counter()
        folded = list(map(runtime.normalise, batch))
        spent["normalise"] += time.perf_counter() - t0
        parts = []
        for name, block in runtime.blocks:
            t0 = time.perf_counter()
            parts.append(block(folded))
            spent[f"features: {name}"] += time.perf_counter() - t0
        t0 = time.perf_counter()
        proba = runtime.classify(sp.hstack(parts, format="csr"))
        spent["classifier"] += time.perf_counter() - t0
        t0 = time.perf_counter()
        model.labels_from_proba(apply_calibrator(model.meta.get("calibration"), np.asarray(proba), model.labels))
        spent["thresholds"] += time.perf_counter() - t0
    return {k: v / len(texts) for k, v in spent.items()}


# -- the report --------------------------------------------------------------------------------


def _machine():
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    import numpy
    import sklearn

    return (f"{cpu}, {cores} cores available ({os.cpu_count()} logical), {platform.system()} "
            f"{platform.release()}; Python {platform.python_version()}, NumPy {numpy.__version__}, "
            f"scikit-learn {sklearn.__version__}; one thread (OMP/OPENBLAS/MKL_NUM_THREADS=1)")


def _commit():
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain"], capture_output=True, text=True).stdout.strip()
        return out.stdout.strip() + (" (uncommitted changes)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _version(*distributions):
    from importlib.metadata import PackageNotFoundError, version

    for name in distributions:
        try:
            return f"{name} {version(name)}"
        except PackageNotFoundError:
            continue
    return "fastText"


def _folder_bytes(folder):
    # A model folder keeps its versions below it (CURRENT names one): count every file.
    return sum(f.stat().st_size for f in Path(folder).rglob("*") if f.is_file())


def _report(results, facts, steps, args):
    med = statistics.median
    lines = [
        "# Prediction speed: classify against fastText",
        "",
        f"Written by `make bench` (`python -m experiments.bench`) on {facts['date']}, commit {facts['commit']}.",
        "",
        f"**Machine**: {facts['machine']}.",
        "",
        f"Both trained on the {facts['n_train']} training paragraphs of `data/labels.csv`; both label the same "
        f"paragraphs (the {facts['pool']} real test and training paragraphs, repeated; {facts['mean_chars']:.0f} "
        f"characters on average). classify: the default model, `Model.predict` (probabilities and thresholded "
        f"labels; \"pooled\": the same model with sentence pooling, each label's score also taking the best "
        f"sentence's), " + ("through its compiled kernel (`classify/runtime/_kernel.pyx`)" if facts["compiled"] else
                        "**through the NumPy kernels: the compiled kernel is not built**")
        + f". fastText ({facts['fasttext_version']}): {facts['fasttext']}, its one-line C++ `predict` called per "
        f"paragraph (every label's probability; checked before timing against the paragraphs it was trained on"
        + ("" if facts["batch_ok"] else "; its batch `multilinePredict` gives wrong probabilities under this NumPy, "
           "so it is not used") + "). Each run is a fresh "
        f"process; the systems alternate A-B-C-A-B-C; figures are medians of {args.runs} runs. Load time is not in the "
        f"throughput. Peak RSS includes the input paragraphs, held in memory; in brackets, how much it grew while "
        f"predicting.",
        "",
        "| paragraphs | classify par/s | classify MB/s | fastText par/s | fastText MB/s | classify / fastText "
        "| pooled par/s | pooled / fastText | classify peak RSS | fastText peak RSS |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n, runs in results.items():
        mb = facts["mb"][n]
        ours, theirs = med(r["seconds"] for r in runs["classify"]), med(r["seconds"] for r in runs["fasttext"])
        pooled = med(r["seconds"] for r in runs["pooled"])
        rss = {k: med(r["rss_peak_kb"] for r in runs[k]) / 1024 for k in runs}
        grew = {k: med(r["rss_peak_kb"] - r["rss_before_kb"] for r in runs[k]) / 1024 for k in runs}
        lines.append(f"| {n:,} | {n / ours:,.0f} | {mb / ours:.2f} | {n / theirs:,.0f} | {mb / theirs:.2f} | "
                     f"**{theirs / ours:.2f}x** | {n / pooled:,.0f} | {theirs / pooled:.2f}x | "
                     f"{rss['classify']:.0f} MB (+{grew['classify']:.0f}) | "
                     f"{rss['fasttext']:.0f} MB (+{grew['fasttext']:.0f}) |")
    if facts["stream"]:
        lines += ["", "**Streaming** (`classify predict records.jsonl.gz -o out.jsonl`, JSON reading and writing and "
                  "the model load included; one run each): memory does not grow with the input.", "",
                  "| paragraphs | par/s | peak RSS |", "|---:|---:|---:|"]
        lines += [f"| {n:,} | {n / r['seconds']:,.0f} | {r['rss_peak_kb'] / 1024:.0f} MB |"
                  for n, r in facts["stream"].items()]
    lines += [
        "",
        "| | classify | fastText |",
        "|---|---:|---:|",
        f"| cold start: fresh `python -c` importing the library and loading the model (s) | "
        f"{facts['cold']['classify']:.2f} | {facts['cold']['fasttext']:.2f} |",
        f"| the load call alone, libraries imported already (s) | {facts['load']['classify']:.3f} | "
        f"{facts['load']['fasttext']:.3f} |",
        f"| model size (MB) | {facts['size']['classify'] / 1e6:.1f} | {facts['size']['fasttext'] / 1e6:.1f} |",
        f"| training (s) | {facts['train']['classify']} (with the grouped 5-fold CV that picks the thresholds) | "
        f"{facts['train']['fasttext']} |",
        "",
        f"**Where classify's time goes** (µs per paragraph, {facts['steps_n']:,} paragraphs, in-process, one run "
        f"each, a fresh model, so the first pass over those paragraphs: every word is new once; "
        f"{facts['steps_path']}; \"pooled\": the same model with sentence pooling, whose sentences' scores are in "
        f"the same steps as the paragraphs'):",
        "",
        "| step | " + " | ".join(f"{system} µs/paragraph | share" for system in steps) + " |",
        "|---|" + "---:|---:|" * len(steps),
    ]
    totals = {system: sum(spent.values()) for system, spent in steps.items()}
    lines += [f"| {name} | " + " | ".join(f"{steps[system][name] * 1e6:.0f} | {steps[system][name] / totals[system]:.0%}"
                                          for system in steps) + " |" for name in steps["classify"]]
    lines += ["| total | " + " | ".join(f"{total * 1e6:.0f} | " for total in totals.values()) + "|", ""]
    return "\n".join(lines)


def main(argv=None):
    """Train both systems, time them, write the report; ``--worker`` is one timed run."""
    parser = argparse.ArgumentParser(prog="python -m experiments.bench", description=__doc__)
    parser.add_argument("--worker", nargs=4, metavar=("SYSTEM", "MODEL", "POOL", "N"), help=argparse.SUPPRESS)
    parser.add_argument("--stream-worker", nargs=3, metavar=("MODEL", "SOURCE", "OUT"), help=argparse.SUPPRESS)
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--stream-sizes", type=int, nargs="*", default=list(STREAM_SIZES),
                        help="paragraphs streamed through 'classify predict', to show flat memory "
                             "(1000000: a few minutes)")
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--cold", metavar="MODEL",
                        help="only time cold starts (import and load_model) of this existing model folder")
    parser.add_argument("--out", default="reports/bench.md")
    args = parser.parse_args(argv)
    if args.worker:
        system, model_path, pool_path, n = args.worker
        return _worker(system, model_path, pool_path, int(n))
    if args.stream_worker:
        return _stream_worker(*args.stream_worker)
    if args.cold:
        return _cold_only(args.cold, args.runs)

    from classify import load_model
    from classify.data import load_labels

    table = load_labels()
    pool = table.text.tolist()
    work = Path(tempfile.mkdtemp(prefix="classify-bench-"))
    try:
        pool_path = work / "pool.json"
        pool_path.write_text(json.dumps(pool, ensure_ascii=False), encoding="utf-8")
        ours, theirs = work / "model", work / "fasttext.bin"
        print("training classify (with CV) and fastText ...", file=sys.stderr)
        ft_seconds, batch_ok = _train_fasttext(table, theirs)
        train = {"classify": round(_train_classify(table, ours), 1), "fasttext": round(ft_seconds, 1)}
        paths = {"classify": ours, "fasttext": theirs, "pooled": ours}
        facts = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "commit": _commit(),
                 "machine": _machine(), "train": train, "n_train": int((table.split == "train").sum()),
                 "pool": len(pool), "mean_chars": sum(map(len, pool)) / len(pool),
                 "fasttext": ", ".join(f"{k} {v}" for k, v in FASTTEXT_PARAMS.items()) + ", one-vs-all loss, 1 thread",
                 "batch_ok": batch_ok, "fasttext_version": _version("fasttext-wheel", "fasttext"),
                 "size": {"classify": _folder_bytes(ours), "fasttext": theirs.stat().st_size},
                 "mb": {n: sum(len(t.encode("utf-8")) for t in _repeat(pool, n)) / 1e6 for n in args.sizes}}
        cold = {k: [] for k in ("classify", "fasttext")}
        for _ in range(args.runs):
            for system in cold:
                cold[system].append(_cold_load(system, paths[system]))
        facts["cold"] = {k: statistics.median(v) for k, v in cold.items()}
        results = {}
        for n in args.sizes:
            results[n] = {k: [] for k in paths}
            for run in range(args.runs):
                for system, path in paths.items():  # A-B-C-A-B-C
                    results[n][system].append(_run(system, path, pool_path, n))
                    r = results[n][system][-1]
                    print(f"{n:>8,} {system:<9} run {run + 1}: {n / r['seconds']:8,.0f} par/s, "
                          f"peak RSS {r['rss_peak_kb'] / 1024:.0f} MB", file=sys.stderr)
        facts["load"] = {k: statistics.median(r["load"] for n in results for r in results[n][k]) for k in paths}
        facts["compiled"] = all(r.get("compiled") for n in results for system in OURS for r in results[n][system])
        facts["stream"] = {}
        for n in args.stream_sizes:
            facts["stream"][n] = _stream(ours, pool, n, work)
            r = facts["stream"][n]
            print(f"{n:>8,} streamed: {n / r['seconds']:8,.0f} par/s, peak RSS {r['rss_peak_kb'] / 1024:.0f} MB",
                  file=sys.stderr)
        facts["steps_n"] = min(10_000, max(args.sizes))
        profiled, pooled = load_model(ours), load_model(ours)
        pooled.meta["pooling"] = "sentence"
        texts = _repeat(pool, facts["steps_n"])
        steps = {"classify": _steps(profiled, texts)}
        if profiled.runtime._fast is not None:  # the NumPy kernels' steps are the paragraphs' alone
            steps["pooled"] = _steps(pooled, texts)
        facts["steps_path"] = ("the compiled kernel, its clock read between steps" if profiled.runtime._fast is not None
                               else "the NumPy kernels: the compiled one is not built")
    finally:
        shutil.rmtree(work, ignore_errors=True)  # the fastText model alone is 400 MB
    report = _report(results, facts, steps, args)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(report, encoding="utf-8")
    print(report)
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
