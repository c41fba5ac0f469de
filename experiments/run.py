"""Run experiment configurations: grouped CV on the training split, one fit, one test.

    python -m experiments.run experiments/configs/models.toml [...] [--backend dask]

Each grid point becomes one record of the ledger (``experiments/runs.jsonl``) and
``RESULTS.md`` is regenerated at the end. Thresholds and every model choice are made
on the training split; the test split is scored once per run, never tuned on.
"""

import argparse
import itertools
import os
import platform
import subprocess
import sys
import time
import traceback
import tracemalloc
import uuid
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from joblib import Memory, Parallel, delayed, parallel_config
from sklearn.base import clone
from sklearn.model_selection import GroupKFold

from classify.config import load_config
from classify.corpus import corpus_files, file_sha256, load_corpus
from classify.data import load_labels
from classify.errors import ClassifyError
from classify.evaluate import metrics
from classify.model import SKOPS_COMPRESSION, binarize, choose_thresholds, fold_scores, quietly
from classify.pipeline import CLASSIFIERS, make_pipeline
from classify.rules import LABELS
from experiments import ledger

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "experiments" / "cache"
STOCHASTIC = {"sgd", "fasttext"}
# Classifiers the runner builds itself (see build), beyond the package's.
EXTRA_CLASSIFIERS = ("fasttext", "logreg_pooled", "logreg_stacked", "logreg_context", "logreg_selftrain",
                     "logreg_perlabel", "logreg_pooled_mil")
# Those whose fit takes the rows' groups (for an inner grouped CV), and those whose inputs carry their article.
GROUPED = {"logreg_stacked", "logreg_perlabel"}
CONTEXT = {"logreg_context"}


def grid_points(config):
    """Every parameter combination of the config's grid (a table, or a list of tables)."""
    grids = config.get("grid") or [{}]
    points = []
    for grid in grids if isinstance(grids, list) else [grids]:
        keys = sorted(grid)
        # A bare value is a one-point axis; an ngram_range axis is a list of [min, max] pairs.
        axes = [grid[k] if isinstance(grid[k], list) and not (k.endswith("ngram_range") and
                                                               isinstance(grid[k][0], int)) else [grid[k]]
                for k in keys]
        points += [dict(zip(keys, values)) for values in itertools.product(*axes)]
    return points


def resolve(config, point):
    """The classifier, pipeline parameters and threshold mode of one grid point of a config.

    A classifier of the package with sentence pooling (``pooling``, the package's default)
    runs as ``logreg_pooled``, its own name then in ``pool__classifier`` unless it is logreg.
    """
    params = {**config["params"], **{k: v for k, v in point.items() if "__" in k}}
    classifier = point.get("classifier", config["classifier"])
    if point.get("pooling", config["pooling"]) == "sentence" and classifier in CLASSIFIERS:
        params |= {} if classifier == "logreg" else {"pool__classifier": classifier}
        classifier = "logreg_pooled"
    return classifier, params, point.get("thresholds", config["thresholds"])


def build(classifier, params, memory, pool=None):
    if classifier == "fasttext":
        from experiments.fasttext_model import FastTextClassifier

        return FastTextClassifier(**{k.split("__", 1)[1]: v for k, v in params.items() if k.startswith("clf__")})
    if classifier == "logreg_pooled":
        from experiments.pooling import SentencePooled

        # pool__classifier: the pooled pipeline's classifier (logreg unless a point names another).
        inner = {k: v for k, v in params.items() if not k.startswith("pool__")}
        return SentencePooled(make_pipeline(params.get("pool__classifier", "logreg"), inner, memory=memory))
    if classifier == "logreg_pooled_mil":
        from experiments.sentence_mil import SentenceMIL

        own = {k.split("__", 1)[1]: v for k, v in params.items() if k.startswith("mil__")}
        base = make_pipeline("logreg", {k: v for k, v in params.items() if not k.startswith("mil__")}, memory=memory)
        return SentenceMIL(base, **own)
    if classifier == "logreg_stacked":
        from classify.stacking import StackedBlocks

        own = {k.split("__", 1)[1]: v for k, v in params.items() if k.startswith("stack__")}
        return StackedBlocks(make_pipeline("logreg", {k: v for k, v in params.items() if not k.startswith("stack__")}),
                             **own)
    if classifier == "logreg_perlabel":
        from classify.perlabel import PerLabelC

        own = {k.split("__", 1)[1]: v for k, v in params.items() if k.startswith("perlabel__")}
        base = make_pipeline("logreg", {k: v for k, v in params.items() if not k.startswith("perlabel__")}, memory=memory)
        return PerLabelC(base, **{k: tuple(v) if k == "Cs" else v for k, v in own.items()})
    if classifier == "logreg_context":
        from classify.features.context import make_context_pipeline

        own = {k.split("__", 1)[1]: v for k, v in params.items() if k.startswith("context__")}
        base = make_pipeline("logreg", {k: v for k, v in params.items() if not k.startswith("context__")})
        return make_context_pipeline(base, memory=memory, **own)
    if classifier == "logreg_selftrain":
        from experiments.selftrain import SelfTrained

        own = {k.split("__", 1)[1]: v for k, v in params.items() if k.startswith("self__")}
        base = make_pipeline("logreg", {k: v for k, v in params.items() if not k.startswith("self__")})
        return SelfTrained(base, pool, **{k: v for k, v in own.items() if k not in ("pool_size", "pool_seed")})
    return make_pipeline(classifier, params, memory=memory)


def inputs(table, classifier, corpus=None):
    """The model inputs of a labels table: the paragraphs, or for a context model the paragraphs with their article's."""
    if classifier in CONTEXT:
        from classify.features.context import context_texts

        return context_texts(table, load_corpus(corpus))
    return table.text.tolist()


def _fold(estimator, texts, Y, train, test, groups=None):
    extra = {} if groups is None else {"groups": groups[train]}
    fitted = quietly(clone(estimator).fit, [texts[i] for i in train], Y[train], **extra)
    return fitted.predict_proba([texts[i] for i in test])


def _final(estimator, texts, Y, test_texts, groups=None):
    import skops.io as sio

    extra = {} if groups is None else {"groups": groups}

    # Timed without the feature cache or tracemalloc, which would flatter or slow the fit;
    # the memory peak comes from a second, traced fit of the same estimator.
    for key in ("memory", "pipeline__memory"):  # a pipeline's, or the inner pipeline's of a wrapper
        if key in estimator.get_params():
            estimator = clone(estimator).set_params(**{key: None})
    t0 = time.perf_counter()
    fitted = quietly(clone(estimator).fit, texts, Y, **extra)
    fit_seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    proba = fitted.predict_proba(test_texts)
    predict_seconds = time.perf_counter() - t0
    tracemalloc.start()
    quietly(clone(estimator).fit, texts, Y, **extra)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    if hasattr(fitted, "model_bytes"):  # fastText: its own file format, and not picklable back to us
        # A pooled model's plots are its pipeline's.
        return proba, fit_seconds, predict_seconds, fitted.model_bytes(), peak, getattr(fitted, "pipeline_", None)
    return proba, fit_seconds, predict_seconds, len(sio.dumps(fitted, **SKOPS_COMPRESSION)), peak, fitted


def _summary(values):
    return {"mean": float(np.mean(values)), "std": float(np.std(values))}


def _git():
    def git(*args):
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""
    # The runner's own outputs change during a run; only code, configs and data make a tree dirty.
    outputs = [f":(exclude)experiments/{name}" for name in ("runs.jsonl", "RESULTS.md", "plots")]
    return git("rev-parse", "HEAD") or None, bool(git("status", "--porcelain", "--untracked-files=no", "--", ".", *outputs))


def _versions():
    import pandas
    import sklearn

    return {"python": platform.python_version(), "scikit-learn": sklearn.__version__, "numpy": np.__version__,
            "pandas": pandas.__version__}


def _progress(iterable, total, desc):
    try:
        from tqdm import tqdm

        return tqdm(iterable, total=total, desc=desc, file=sys.stderr, leave=False)
    except ImportError:
        return iterable


def run_config(path, args, data):
    config = load_config(path, extra_classifiers=EXTRA_CLASSIFIERS)
    if "scheme" in config:  # the ledger compares models on the codebook's labels
        raise ClassifyError(f"{path}: scheme is for 'classify train'; "
                            "the experiments runner uses the codebook's labels")
    train, test = data["train"], data["test"]
    points = grid_points(config)
    sizes = config.get("train_sizes") or [0]
    memory = None if args.no_cache else Memory(CACHE, verbose=0)
    runs = []
    for point, size in itertools.product(points, sizes):
        classifier, params, mode = resolve(config, point)
        seeds = config.get("seeds") or ([0, 1, 2] if classifier in STOCHASTIC else [0])
        part = train
        if size and size < len(train):
            part = train.sample(n=size, random_state=0)
        runs.append(dict(point=point, size=size or len(train), classifier=classifier, params=params, mode=mode,
                         seeds=seeds, part=part, pool=_pool(classifier, params, args, data)))
    # All folds of all points (and seeds) go to joblib at once, so a Dask cluster sees the whole grid.
    tasks, owners = [], []
    for r_i, r in enumerate(runs):
        texts, Y = inputs(r["part"], r["classifier"], args.corpus), binarize(r["part"].labels)
        r["texts"], r["Y"] = texts, Y
        r["groups"] = r["part"].group.to_numpy() if r["classifier"] in GROUPED else None
        for seed in r["seeds"]:
            est = build(r["classifier"], _seeded(r["classifier"], r["params"], seed), memory, r["pool"])
            splits = GroupKFold(n_splits=config["n_splits"], shuffle=len(r["seeds"]) > 1,
                                random_state=seed if len(r["seeds"]) > 1 else None).split(texts, Y, r["part"].group)
            for k, (tr, te) in enumerate(splits):
                tasks.append(delayed(_fold)(est, texts, Y, tr, te, r["groups"]))
                owners.append((r_i, seed, k, te))
    started = time.time()
    results = Parallel(n_jobs=args.jobs, return_as="generator")(tasks)
    for (r_i, seed, k, te), proba in zip(owners, _progress(results, len(tasks), Path(path).stem + " folds")):
        r = runs[r_i]
        r.setdefault("oof", {}).setdefault(seed, [np.zeros(r["Y"].shape), np.zeros(len(r["Y"]), dtype=int)])
        r["oof"][seed][0][te], r["oof"][seed][1][te] = proba, k
    finals = Parallel(n_jobs=args.jobs, return_as="generator")(
        delayed(_final)(build(r["classifier"], _seeded(r["classifier"], r["params"], r["seeds"][0]), memory, r["pool"]),
                        r["texts"], r["Y"], inputs(test, r["classifier"], args.corpus), r["groups"]) for r in runs)
    records, Y_test = [], binarize(test.labels)
    for r, final in zip(runs, _progress(finals, len(runs), Path(path).stem + " fits")):
        # The thresholds of the whole training split: from the seeds' mean out-of-fold probabilities.
        cuts = choose_thresholds(r["Y"], np.mean([r["oof"][s][0] for s in r["seeds"]], axis=0), r["mode"])
        records.append(_record(config, path, r, final, Y_test, cuts, time.time() - started))
        if args.plots and config.get("plots"):
            _plots(config["name"], final, Y_test, cuts)
    return records


def _pool(classifier, params, args, data):
    """The unlabelled paragraphs a self-trained model labels (see experiments.selftrain), else None."""
    if classifier != "logreg_selftrain":
        return None
    import pandas as pd

    from experiments.selftrain import cached_pool

    pool = cached_pool(load_corpus(args.corpus), pd.concat([data["train"], data["test"]]),
                       params.get("self__pool_size", 20000), params.get("self__pool_seed", 0), CACHE)
    return pool.text.tolist()


def _seeded(classifier, params, seed):
    if classifier in STOCHASTIC:
        key = "clf__seed" if classifier == "fasttext" else "clf__estimator__random_state"
        return {**params, key: seed}
    return params


def _record(config, path, r, final, Y_test, cuts, elapsed):
    proba, fit_s, predict_s, size, peak_mb, _ = final
    per_fold = [m for seed in r["seeds"] for m in fold_scores(r["Y"], *r["oof"][seed], r["mode"])]
    return {
        "status": "ok", "config": config["name"], "config_file": str(path), "point": r["point"],
        "train_size": r["size"], "classifier": r["classifier"], "params": _jsonable(r["params"]),
        "thresholds_by": r["mode"], "thresholds": dict(zip(LABELS, cuts.round(3).tolist())), "seeds": r["seeds"],
        "cv": {"folds": len(per_fold), "macro_f1": _summary([m["macro_f1"] for m in per_fold]),
               "micro_f1": _summary([m["micro_f1"] for m in per_fold]),
               "per_label_f1": {label: _summary([m["per_label"][label]["f1"] for m in per_fold]) for label in LABELS}},
        "test": metrics(Y_test, (proba >= cuts).astype(int)),
        "fit_seconds": round(fit_s, 3), "predict_seconds": round(predict_s, 3), "model_bytes": size,
        "peak_memory_mb": round(peak_mb, 1), "grid_elapsed_seconds": round(elapsed, 1),
    }


def _jsonable(params):
    return {k: (list(v) if isinstance(v, tuple) else v if isinstance(v, (str, int, float, bool, type(None), list))
                else repr(v)) for k, v in params.items()}


def _plots(name, final, Y_test, cuts):
    from classify.evaluate import plot_confusion, plot_pr_curves

    from experiments.plots import plot_top_ngrams

    proba, *_, fitted = final
    out = ROOT / "experiments" / "plots"
    out.mkdir(exist_ok=True)
    plot_confusion(Y_test, (proba >= cuts).astype(int), out / f"{name}_confusion.png")
    plot_pr_curves(Y_test, proba, dict(zip(LABELS, cuts)), out / f"{name}_pr_curves.png")
    plot_top_ngrams(fitted, out / f"{name}_top_ngrams.png")


def load_data(corpus=None, labels=ROOT / "data" / "labels.csv"):
    table = load_labels(labels, load_corpus(corpus))
    return {"train": table[table.split == "train"].reset_index(drop=True),
            "test": table[table.split == "test"].reset_index(drop=True),
            "labels_sha256": file_sha256(labels),
            "corpus_sha256": {f.name: file_sha256(f) for f in corpus_files(corpus)}}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m experiments.run", description=__doc__.splitlines()[0])
    parser.add_argument("configs", nargs="+", metavar="CONFIG")
    parser.add_argument("--backend", choices=("local", "dask"), default="local")
    parser.add_argument("--scheduler", help="address of an existing Dask scheduler (with --backend dask)")
    parser.add_argument("--jobs", type=int, default=-1, help="parallel folds (local backend)")
    parser.add_argument("--corpus", default=None)
    parser.add_argument("--labels", default=str(ROOT / "data" / "labels.csv"))
    parser.add_argument("--ledger", default=str(ledger.LEDGER))
    parser.add_argument("--results", default=str(ROOT / "experiments" / "RESULTS.md"), help="report to regenerate")
    parser.add_argument("--no-cache", action="store_true", help="do not cache feature extraction")
    parser.add_argument("--no-plots", dest="plots", action="store_false")
    parser.add_argument("--mlflow", metavar="URI", help="also log each run to MLflow (extra: classify[mlflow])")
    args = parser.parse_args(argv)
    if args.scheduler and args.backend != "dask":
        parser.error("--scheduler goes with --backend dask")
    try:
        data = load_data(args.corpus, args.labels)
    except ClassifyError as exc:
        print(f"experiments: {exc}", file=sys.stderr)
        return 2
    commit, dirty = _git()
    common = {"git_commit": commit, "git_dirty": dirty, "labels_sha256": data["labels_sha256"],
              "corpus_sha256": data["corpus_sha256"], "versions": _versions(), "backend": args.backend}
    backend = _backend(args)
    try:
        backend.start()  # here, so that a cluster that cannot be reached is one line
    except ClassifyError as exc:
        print(f"experiments: {exc}", file=sys.stderr)
        return 2
    with backend:
        for path in _progress(args.configs, len(args.configs), "configs"):
            started = datetime.now(timezone.utc)
            t0 = time.time()
            try:
                records = run_config(path, args, data)
            except Exception as exc:  # a crashed run is recorded, never lost or half-written
                records = [{"status": "failed", "config": Path(path).stem, "config_file": str(path),
                            "error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc(limit=5)}]
                print(f"experiments: {path} failed: {exc}", file=sys.stderr)
            for record in records:
                record.update(common, run_id=uuid.uuid4().hex[:12], started=started.isoformat(timespec="seconds"),
                              duration_seconds=round(time.time() - t0, 1))
                ledger.append(record, args.ledger)
                if args.mlflow and record["status"] == "ok":
                    _log_mlflow(args.mlflow, record)
            print(f"{path}: {len(records)} run(s) recorded", file=sys.stderr)
    from experiments.report import write_results

    write_results(args.ledger, args.results)
    return 0


class _backend:
    """joblib's backend for the whole run: local processes, or Dask (given or a LocalCluster)."""

    def __init__(self, args):
        self.args, self.client, self.cluster, self.config = args, None, None, None

    def __enter__(self):
        if self.config is None:
            self.start()
        return self

    def start(self):
        if self.args.backend == "dask":
            from classify.scale import dask_client

            # The connection, its one-line errors and the local cluster of classify predict --backend dask.
            self.client, self.cluster = dask_client(self.args.scheduler, workers=2)
            self.config = parallel_config(backend="dask", client=self.client)
        else:
            self.config = parallel_config(backend="loky")
        self.config.__enter__()
        return self

    def __exit__(self, *exc):
        self.config.__exit__(*exc)
        if self.client:
            self.client.close()
        if self.cluster:
            self.cluster.close()


def _log_mlflow(uri, record):
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("DO_NOT_TRACK", "true")
    import mlflow

    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment("classify")
    with mlflow.start_run(run_name=f"{record['config']}-{record['run_id']}"):
        mlflow.log_params({k[:250]: str(v)[:500] for k, v in {**record["params"], **record["point"],
                                                             "classifier": record["classifier"]}.items()})
        mlflow.log_metrics({"cv_macro_f1": record["cv"]["macro_f1"]["mean"], "test_macro_f1": record["test"]["macro_f1"],
                            "test_micro_f1": record["test"]["micro_f1"], "fit_seconds": record["fit_seconds"]})


if __name__ == "__main__":
    sys.exit(main())
