"""Does calibrating the scores help? Measured out of fold on the training split only.

    python -m experiments.calibration [--config FILE] [--jobs N] [--out experiments/calibration.json]

One grouped 5-fold cross-validation of the configuration gives out-of-fold scores (cached in
``experiments/cache/``, so a second run costs seconds). Each calibration method is then
measured on those scores with nesting: for each fold, the calibrator and the thresholds are
fitted on the other folds only, and the fold is scored with them (per-label ECE, Brier score,
log-loss, and macro-F1 with thresholds chosen on the calibrated scores). The test split is
not read.
"""

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

from classify.calibration import METHODS, apply_calibrator, brier, cross_calibrated, ece, fit_calibrator, log_loss
from classify.config import load_config
from classify.evaluate import metrics
from classify.io import atomic_write
from classify.model import THRESHOLD_GRID, best_threshold, binarize, fold_scores, out_of_fold_proba
from classify.pipeline import make_pipeline
from classify.rules import LABELS
from experiments.run import CACHE, ROOT, load_data


def oof_scores(config, data, jobs):
    """Out-of-fold scores of ``config`` on the training split, cached by configuration and labels."""
    train = data["train"]
    key = hashlib.sha256(json.dumps([config["classifier"], config["params"], config["n_splits"],
                                     data["labels_sha256"]], sort_keys=True, default=str).encode()).hexdigest()[:16]
    path = CACHE / f"oof-{key}.npz"
    Y = binarize(train.labels)
    if path.is_file():
        saved = np.load(path)
        return Y, saved["proba"], saved["folds"]
    pipeline = make_pipeline(config["classifier"], config["params"])
    proba, folds = out_of_fold_proba(pipeline, train.text.tolist(), Y, train.group.tolist(),
                                     n_splits=config["n_splits"], n_jobs=jobs)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.savez(path, proba=proba, folds=folds)
    return Y, proba, folds


FINE_GRID = np.round(np.arange(0.02, 0.981, 0.01), 3)


def grid_f1(Y, proba, folds, method, grid, labels=LABELS):
    """CV macro-F1 with thresholds chosen among the plain ``grid`` on calibrated scores (nested as in fold_scores)."""
    f1 = []
    for k in np.unique(folds):
        inside = folds == k
        P = apply_calibrator(fit_calibrator(method, proba[~inside], Y[~inside], labels), proba, labels)
        cuts = np.array([best_threshold(Y[~inside, j], P[~inside, j], grid) for j in range(Y.shape[1])])
        f1.append(metrics(Y[inside], (P[inside] >= cuts).astype(int), labels)["macro_f1"])
    return float(np.mean(f1))


def measure(Y, proba, folds, labels=LABELS):
    """Per method: mean per-label ECE, Brier and log-loss of nested out-of-fold scores, and CV macro-F1."""
    out = {}
    for method in METHODS:
        P = cross_calibrated(Y, proba, folds, method, labels)
        scores = fold_scores(Y, proba, folds, calibration=method, labels=labels)
        f1 = [m["macro_f1"] for m in scores]
        out[method] = {
            "cv_macro_f1": float(np.mean(f1)), "cv_macro_f1_std": float(np.std(f1)),
            # The alternatives to carrying the grid through the calibrator: round numbers on the calibrated scale.
            "cv_macro_f1_plain_grid": grid_f1(Y, proba, folds, method, THRESHOLD_GRID, labels),
            "cv_macro_f1_fine_grid": grid_f1(Y, proba, folds, method, FINE_GRID, labels),
            "per_label": {label: {"ece": ece(Y[:, j], P[:, j]), "brier": brier(Y[:, j], P[:, j]),
                                  "log_loss": log_loss(Y[:, j], P[:, j]),
                                  "cv_f1": float(np.mean([m["per_label"][label]["f1"] for m in scores]))}
                          for j, label in enumerate(labels)},
        }
        for key in ("ece", "brier", "log_loss"):
            out[method][f"mean_{key}"] = float(np.mean([v[key] for v in out[method]["per_label"].values()]))
    return out


def table(result, labels=LABELS):
    """The measurement as Markdown."""
    lines = ["| calibration | CV macro-F1 | same, 0.05-0.95 grid on calibrated | same, 0.01 grid | mean ECE | "
             "mean Brier | mean log-loss | " + " | ".join(f"ECE {label}" for label in labels) + " |",
             "|---|" + "---:|" * (6 + len(labels))]
    for method, r in result.items():
        lines.append(f"| {method} | {r['cv_macro_f1']:.4f} ± {r['cv_macro_f1_std']:.4f} | "
                     f"{r['cv_macro_f1_plain_grid']:.4f} | {r['cv_macro_f1_fine_grid']:.4f} | {r['mean_ece']:.4f} | "
                     f"{r['mean_brier']:.4f} | {r['mean_log_loss']:.4f} | "
                     + " | ".join(f"{r['per_label'][label]['ece']:.3f}" for label in labels) + " |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m experiments.calibration", description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=None, help="TOML configuration (default: the package defaults)")
    parser.add_argument("--jobs", type=int, default=1, help="folds run in parallel (default: %(default)s)")
    parser.add_argument("--out", default=str(ROOT / "experiments" / "calibration.json"), help="JSON result")
    parser.add_argument("--corpus", default=None, help="corpus folder")
    args = parser.parse_args(argv)
    config = load_config(args.config)
    data = load_data(args.corpus)
    Y, proba, folds = oof_scores(config, data, args.jobs)
    result = measure(Y, proba, folds)
    record = {"config": config["name"], "labels_sha256": data["labels_sha256"], "n_train": int(len(Y)),
              "folds": int(len(np.unique(folds))), "methods": result}
    atomic_write(args.out, lambda fh: json.dump(record, fh, indent=2))
    print(table(result))
    print(f"\nwrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
