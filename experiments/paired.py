"""Paired comparison of configurations on the same grouped folds of the training split.

    python -m experiments.paired BASE.toml[:point] CANDIDATE.toml[:point] [...] [--repeats 3] [--jobs 1]

A point names one grid point of its configuration by its keys, as the report shows them
(``context.toml:block=char,weight=0.6``; the last part of a ``step__param`` key is enough);
a configuration without a grid needs none. Every configuration is cross-validated on the
same folds: repeat 0 is the ledger's split (unshuffled grouped k-fold), repeat r > 0 a
grouped k-fold of shuffled groups (seed r). Each fold is scored as the ledger scores it
(thresholds chosen on the other folds' out-of-fold probabilities), and each candidate's
per-fold macro-F1 minus the baseline's (the first configuration) gives repeats x k paired
differences, with two tests over them:

- an exact sign-flip permutation test (two-sided): under "no difference" each difference
  is as likely negative as positive. It takes the differences as independent, which
  cross-validation folds are not (their training parts overlap), so it is optimistic;
- the corrected resampled t-test of Nadeau & Bengio (2003), which widens the variance by
  ``1/n + n_test/n_train`` for that overlap (two-sided, n - 1 degrees of freedom).

The test split is never read. Out-of-fold probabilities are cached (``experiments/cache``),
so adding a candidate later costs only the candidate. ``--out`` writes the tables as
Markdown (``experiments/PAIRED.md``, which RESULTS.md links to).
"""

import argparse
import itertools
import sys
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from joblib import Memory, Parallel, delayed
from sklearn.model_selection import GroupKFold

from classify.config import load_config
from classify.data import atomic_write
from classify.errors import ClassifyError
from classify.model import binarize, fold_scores
from classify.rules import LABELS
from experiments.run import (CACHE, EXTRA_CLASSIFIERS, GROUPED, ROOT, STOCHASTIC, _fold, _git, _seeded, build,
                             grid_points, inputs, load_data, resolve)

# Exact sign-flip enumeration up to this many differences (2**20 sign vectors), sampled beyond.
EXACT_UP_TO = 20


def _same(value, text):
    if str(value) == text:
        return True
    try:
        return float(value) == float(text)
    except (TypeError, ValueError):
        return False


def select(spec):
    """(label, config, point) of a ``path[:key=value,...]`` argument; one readable error otherwise."""
    path, _, wanted = spec.partition(":")
    config = load_config(path, extra_classifiers=EXTRA_CLASSIFIERS)
    pairs = [item.split("=", 1) for item in wanted.split(",") if item]
    if any(len(p) != 2 for p in pairs):
        raise ClassifyError(f"{spec}: a point is key=value[,key=value...]")
    points = grid_points(config)

    def fits(point):
        # Every key of the point named once, with its value, and no other key.
        named = [[k for k in point if k == key or k.split("__")[-1] == key] for key, _ in pairs]
        return (all(len(ks) == 1 for ks in named) and sorted(ks[0] for ks in named) == sorted(point)
                and all(_same(point[ks[0]], value) for ks, (_, value) in zip(named, pairs)))

    found = [p for p in points if fits(p)]
    if len(found) != 1:
        shown = "; ".join(",".join(f"{k.split('__')[-1]}={v}" for k, v in p.items()) or "(base)" for p in points)
        raise ClassifyError(f"{spec}: {'no' if not found else 'more than one'} grid point matches "
                            f"(the points of {Path(path).name}: {shown})")
    label = Path(path).stem + (f":{wanted}" if wanted else "")
    return label, config, found[0]


def splits(train, n_splits, repeats):
    """The (repeat, fold, train rows, test rows) of every fold: repeat 0 unshuffled, then shuffled groups."""
    out = []
    for r in range(repeats):
        folds = GroupKFold(n_splits=n_splits, shuffle=r > 0, random_state=r if r > 0 else None)
        out += [(r, k, tr, te) for k, (tr, te) in enumerate(folds.split(train.text, groups=train.group))]
    return out


def _code_hash():
    """A digest of the package's and the experiments' source: a cached result of other code is not reused."""
    import hashlib

    digest = hashlib.sha256()
    # This module and the report only present results.
    for path in sorted([*(ROOT / "classify").rglob("*.py"), *(ROOT / "experiments").glob("*.py")]):
        if path.name in ("paired.py", "report.py"):
            continue
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _oof(estimator, texts, Y, folds, groups, code=None):
    """Out-of-fold probabilities of one configuration on one repeat's folds, and the fold of each row.

    ``code`` (see :func:`_code_hash`) only keys the cache: the estimator's own code is not in its hash.
    """
    proba, fold_of = np.zeros(Y.shape), np.zeros(len(Y), dtype=int)
    for k, tr, te in folds:
        proba[te], fold_of[te] = _fold(estimator, texts, Y, tr, te, groups), k
    return proba, fold_of


def sign_flip_p(d, rng=None, samples=200_000):
    """Two-sided p-value of the sign-flip permutation test of mean(d) = 0 (exact up to EXACT_UP_TO values)."""
    d = np.asarray(d, dtype=float)
    if len(d) <= EXACT_UP_TO:
        signs = np.array(list(itertools.product((1, -1), repeat=len(d))))
    else:
        signs = (rng or np.random.default_rng(0)).choice((1, -1), size=(samples, len(d)))
    means = np.abs(signs @ d) / len(d)
    # A tolerance so that the observed arrangement counts itself despite rounding.
    return float(np.mean(means >= abs(d.mean()) - 1e-12))


def corrected_t_p(d, test_fraction):
    """Two-sided p of Nadeau & Bengio's corrected resampled t-test (``test_fraction`` = n_test / n_train)."""
    from scipy import stats

    d = np.asarray(d, dtype=float)
    var = d.var(ddof=1)
    if var == 0:
        return 1.0 if d.mean() == 0 else 0.0
    t = d.mean() / np.sqrt((1 / len(d) + test_fraction) * var)
    return float(2 * stats.t.sf(abs(t), len(d) - 1))


def compare(base, candidate, n_splits):
    """Summary of the paired per-fold macro-F1 differences of ``candidate`` - ``base`` (lists of fold metrics)."""
    d = np.array([c["macro_f1"] - b["macro_f1"] for b, c in zip(base, candidate)])
    per_label = {label: float(np.mean([c["per_label"][label]["f1"] - b["per_label"][label]["f1"]
                                       for b, c in zip(base, candidate)])) for label in LABELS}
    return {"differences": d.tolist(), "mean": float(d.mean()), "std": float(d.std(ddof=1)) if len(d) > 1 else 0.0,
            "wins": int((d > 0).sum()), "ties": int((d == 0).sum()), "n": len(d),
            "base_mean": float(np.mean([b["macro_f1"] for b in base])),
            "candidate_mean": float(np.mean([c["macro_f1"] for c in candidate])),
            "sign_flip_p": sign_flip_p(d), "corrected_t_p": corrected_t_p(d, 1 / (n_splits - 1)),
            "per_label": per_label}


def run(specs, repeats=3, jobs=1, corpus=None, labels=ROOT / "data" / "labels.csv", cache=True):
    """Cross-validate every configuration on the same folds; the per-fold metrics and the comparisons.

    Returns
    -------
    dict
        ``members``: (label, per-fold metrics) in order, folds ordered by repeat then fold;
        ``comparisons``: per candidate, :func:`compare` against the first.
    """
    chosen = [select(spec) for spec in specs]
    n_splits = {config["n_splits"] for _, config, _ in chosen}
    if len(n_splits) != 1:
        raise ClassifyError(f"the configurations differ in n_splits ({sorted(n_splits)}): nothing to pair")
    n_splits = n_splits.pop()
    data = load_data(corpus, labels)
    train = data["train"]
    Y, groups = binarize(train.labels), train.group.to_numpy()
    folds = splits(train, n_splits, repeats)
    memory = Memory(CACHE, verbose=0) if cache else None
    code = _code_hash()
    oof = memory.cache(_oof) if memory else _oof
    tasks, owners = [], []
    setups = [resolve(config, point) for _, config, point in chosen]
    texts = [inputs(train, classifier, corpus) for classifier, _, _ in setups]
    # Repeat by repeat: a run stopped early leaves whole repeats in the cache, which a run with fewer repeats reuses.
    for r, (m, (classifier, params, mode)) in itertools.product(range(repeats), enumerate(setups)):
        # A stochastic classifier gets the repeat as its seed: paired folds, and seeds that vary.
        est = build(classifier, _seeded(classifier, params, r) if classifier in STOCHASTIC else params, memory)
        tasks.append(delayed(oof)(est, texts[m], Y, [(k, tr, te) for rr, k, tr, te in folds if rr == r],
                                  groups if classifier in GROUPED else None, code))
        owners.append((m, mode))
    scores = [[] for _ in chosen]
    for (m, mode), (proba, fold_of) in zip(owners, Parallel(n_jobs=jobs, return_as="generator")(tasks)):
        scores[m] += fold_scores(Y, proba, fold_of, mode)
    members = [(label, s) for (label, _, _), s in zip(chosen, scores)]
    return {"members": members, "n_splits": n_splits, "repeats": repeats, "labels_sha256": data["labels_sha256"],
            "comparisons": [(label, compare(scores[0], s, n_splits)) for label, s in members[1:]]}


def markdown(result, command):
    """The result as a Markdown section."""
    (base, base_scores), n = result["members"][0], result["repeats"] * result["n_splits"]
    commit, dirty = _git()
    lines = ["# Paired comparisons on the same folds", "",
             f"Generated by `{command}` ({datetime.now(timezone.utc).isoformat(timespec='minutes')}, commit "
             f"{(commit or '?')[:10]}{' with uncommitted changes' if dirty else ''}, labels "
             f"{result['labels_sha256'][:12]}). Training split only: {result['repeats']} grouped "
             f"{result['n_splits']}-fold splitting(s) (the ledger's unshuffled one, then shuffled groups with seeds 1, "
             "2, ...), "
             f"the same for every configuration, so each candidate has {n} paired per-fold differences of macro-F1 from "
             f"the baseline `{base}` (each fold's thresholds chosen on the other folds' out-of-fold probabilities, as in "
             "the ledger). Sign-flip p: exact two-sided permutation test over the differences, which takes them as "
             "independent (optimistic: folds share training data). Corrected t p: Nadeau & Bengio's corrected "
             "resampled t-test (variance times 1/n + n_test/n_train), the conservative one. Std is over the "
             f"{n} differences (ddof 1).", "",
             f"Baseline `{base}`: macro-F1 {np.mean([s['macro_f1'] for s in base_scores]):.4f} ± "
             f"{np.std([s['macro_f1'] for s in base_scores]):.4f} over the {n} folds.", "",
             "| candidate | its macro-F1 | difference mean ± std | wins / folds | sign-flip p | corrected t p | "
             "per-fold differences (repeat by repeat) |", "|---|---:|---:|---:|---:|---:|---|"]
    for label, c in result["comparisons"]:
        d = np.array(c["differences"]).reshape(result["repeats"], result["n_splits"])
        folds = " / ".join(" ".join(f"{x:+.3f}" for x in row) for row in d)
        lines.append(f"| `{label}` | {c['candidate_mean']:.4f} | {c['mean']:+.4f} ± {c['std']:.4f} | {c['wins']} / "
                     f"{c['n']} | {c['sign_flip_p']:.4f} | {c['corrected_t_p']:.3f} | {folds} |")
    lines += ["", "Mean per-label F1 difference from the baseline over the same folds:", "",
              "| candidate | " + " | ".join(LABELS) + " |", "|---|" + "---:|" * len(LABELS)]
    lines += [f"| `{label}` | " + " | ".join(f"{c['per_label'][k]:+.4f}" for k in LABELS) + " |"
              for label, c in result["comparisons"]]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m experiments.paired", description=__doc__.splitlines()[0])
    parser.add_argument("configs", nargs="+", metavar="CONFIG[:point]", help="the baseline first, then candidates")
    parser.add_argument("--repeats", type=int, default=3, help="grouped k-fold splittings (default 3)")
    parser.add_argument("--jobs", type=int, default=1, help="parallel cross-validations")
    parser.add_argument("--corpus", default=None)
    parser.add_argument("--labels", default=str(ROOT / "data" / "labels.csv"))
    parser.add_argument("--out", help="also write the tables to this Markdown file (e.g. experiments/PAIRED.md)")
    parser.add_argument("--no-cache", action="store_true", help="do not cache features and out-of-fold probabilities")
    args = parser.parse_args(argv)
    if len(args.configs) < 2:
        parser.error("give a baseline and at least one candidate")
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    try:
        result = run(args.configs, args.repeats, args.jobs, args.corpus, args.labels, cache=not args.no_cache)
    except ClassifyError as exc:
        print(f"experiments.paired: {exc}", file=sys.stderr)
        return 2
    command = "python -m experiments.paired " + " ".join(args.configs) + f" --repeats {args.repeats}"
    text = markdown(result, command)
    print(text)
    if args.out:
        atomic_write(Path(args.out), lambda fh: fh.write(text))
    return 0


if __name__ == "__main__":
    sys.exit(main())
