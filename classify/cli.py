"""The command line: ``python -m classify <command>``; every command is a thin layer over the API."""
# The docstring above is for the code; --help shows DESCRIPTION, plain text.

import argparse
import json
import sys
from pathlib import Path

from classify.errors import ClassifyError

DEFAULT_MODEL = "models/default"
DEFAULT_LABELS = "data/labels.csv"
DEFAULT_MARKS = "data/segmentation.csv"
DESCRIPTION = ("Label the paragraphs of Arabic news about armed conflict with shelling, ground_advance, withdrawal, "
               "humanitarian and claim_denial (or the labels of a scheme of your own): train a model, evaluate it, "
               "label articles, and build the labelled data. Errors are one line on standard error and exit status 2.")


def _corpus(args):
    from classify.corpus import load_corpus

    return load_corpus(args.corpus)


def _scheme(args):
    from classify.scheme import load_scheme

    return load_scheme(args.scheme)


def _train(args):
    from classify.config import load_config
    from classify.data import load_labels
    from classify.model import train
    from classify.scheme import load_scheme
    from classify.store import check_target, save_model

    config = load_config(args.config)
    scheme = load_scheme(args.scheme or config.get("scheme"))  # the flag wins over the configuration
    check_target(args.out)  # before training, not after minutes of it
    table = load_labels(args.labels, _corpus(args), scheme)
    part = table[table.split == "train"]
    print(f"training {config['classifier']} on {len(part)} paragraphs ({args.labels}, split=train; "
          f"labels of scheme {scheme.name}: {', '.join(scheme.labels)})", file=sys.stderr)
    model = train(part.text.tolist(), part.labels.tolist(), part.group.tolist(), classifier=config["classifier"],
                  params=config["params"], thresholds=config["thresholds"], n_splits=config["n_splits"],
                  n_jobs=args.jobs, scheme=scheme, calibration=config["calibration"], pooling=config["pooling"])
    model.meta["config"] = config["name"]
    save_model(model, args.out, labels_file=args.labels)
    cv = model.meta["cv"]
    print(f"saved {args.out}: cross-validated micro-F1 {cv['micro_f1']:.3f}, macro-F1 {cv['macro_f1']:.3f}; "
          f"thresholds " + ", ".join(f"{k} {v:.2f}" for k, v in model.thresholds.items()))


def _evaluate(args):
    from classify.data import load_labels
    from classify.evaluate import check_labels_file, metrics, metrics_table, write_report
    from classify.model import binarize
    from classify.rules import cue_labels
    from classify.store import load_model

    model = load_model(args.model)
    scheme = model.scheme  # the labels and cue words the model was trained with
    table = load_labels(args.labels, _corpus(args), scheme)
    warning = check_labels_file(model.meta, args.labels, args.allow_other_labels)
    if warning:
        print(f"classify: {warning}", file=sys.stderr)
    part = table[table.split == args.split]
    if part.empty:
        raise ClassifyError(f"{args.labels}: no paragraphs in split {args.split!r}")
    Y = binarize(part.labels, model.labels)
    proba = model.predict_proba(part.text.tolist())
    Y_pred = binarize(model.labels_from_proba(proba), model.labels)
    result = metrics(Y, Y_pred, model.labels)
    rules = [cue_labels(text, scheme.cues) for text in part.text]
    result["baseline_keyword_rules"] = metrics(Y, binarize(rules, model.labels), model.labels)
    result.update(model=str(args.model), split=args.split, labels_file=args.labels)
    write_report(result, Path(args.reports), f"Evaluation of {args.model} on split={args.split} ({len(part)} paragraphs)",
                 Y, Y_pred, proba.to_numpy(), model.thresholds)
    print(metrics_table(result))
    base = result["baseline_keyword_rules"]
    print(f"\nkeyword-rule baseline (cue words of scheme {scheme.name}): micro-F1 {base['micro_f1']:.3f}, "
          f"macro-F1 {base['macro_f1']:.3f}")
    print(f"report: {args.reports}/metrics.md, metrics.json, confusion.png, pr_curves.png")


def _predict(args):
    import time

    from classify.display import show
    from classify.io import atomic_write
    from classify.predict import count_lines, dump_record, iter_records, label_stream

    if args.alone and not args.segment:
        raise ClassifyError("--alone goes with --segment (it says how the segmenter judges each page)")
    parallel = _check_scale_args(args)
    if parallel:
        from classify.store import model_from_files, read_model_files

        files = read_model_files(args.model)
        model_from_files(*files)  # refused here, before any worker starts, if it cannot be trusted
    else:
        from classify.store import load_model

        model = load_model(args.model)
    kept = dict.fromkeys(args.inputs, 0)
    workers = []
    # The segmenter judges each page with the lines the inputs' other pages share (site templates, sidebars).
    counts = count_lines(args.inputs) if args.segment and not args.alone else None

    def records():
        for path in args.inputs:
            for r in iter_records(path, segment_records=args.segment, counts=counts):
                kept[path] += 1
                yield r

    def records_in_parallel():
        from classify.predict import chunks, iter_units
        from classify.scale import label_in_pool, open_pool

        pool = open_pool(files, args.backend, args.jobs, args.scheduler, counts)
        workers.append(pool.workers)
        items = ((path, chunk) for path in args.inputs for chunk in chunks(iter_units(path, args.segment)))
        for path, labelled_chunk in label_in_pool(pool, items):
            kept[path] += len(labelled_chunk)
            yield from labelled_chunk

    stream = records_in_parallel() if parallel else label_stream(model, records())
    labelled = _progress(stream)
    shown = args.show or (not args.output and sys.stdout.isatty())
    count, start = 0, time.perf_counter()

    def write(fh):
        # Each record goes out as soon as its batch is labelled: memory stays flat.
        nonlocal count
        for r in labelled:
            count += 1
            if fh is not None:
                fh.write(dump_record(r))
            if shown:
                prefix = f"{r['start']}-{r['end']} " if "start" in r else ""
                prefix += f"[{';'.join(r['labels']) or '-'}] "
                print(prefix + show(r["text"], sys.stdout, indent=len(prefix)))

    try:
        if args.output:
            atomic_write(args.output, write)  # a temporary file, renamed when complete
        else:
            write(None if shown else sys.stdout)
    finally:
        stream.close()  # stops the workers now, not when garbage is collected, if writing failed
    for path in (p for p, n in kept.items() if not n):
        print(f"classify: {'standard input' if path == '-' else path}: no paragraph kept to label "
              "(an article of page furniture only, or a file of no records)", file=sys.stderr)
    seconds = max(time.perf_counter() - start, 1e-9)
    where = f" to {args.output}" if args.output else ""
    on = f" on {workers[0]} {args.backend} worker(s)" if workers else ""
    print(f"wrote {count} records{where}: {count / seconds:,.0f} paragraphs/s{on}", file=sys.stderr)


def _check_scale_args(args):
    """Whether ``predict`` runs on several processes; a one-line error for a bad combination."""
    if args.jobs is not None and args.jobs < 1:
        raise ClassifyError(f"--jobs must be at least 1, got {args.jobs}")
    if args.scheduler and args.backend != "dask":
        raise ClassifyError("--scheduler ADDRESS goes with --backend dask")
    if args.scheduler and args.jobs is not None:
        raise ClassifyError("--jobs sets the workers of a local cluster; with --scheduler the cluster's own "
                            "workers are used (leave --jobs out)")
    return args.backend == "dask" or (args.jobs or 1) > 1


def _explain(args):
    from classify.explain import format_text, heading, write_html
    from classify.io import atomic_write
    from classify.predict import count_lines, iter_records
    from classify.store import load_model

    model = load_model(args.model)
    if args.label is not None and args.label not in model.labels:
        raise ClassifyError(f"unknown label {args.label!r} for --label (this model's labels: {', '.join(model.labels)})")
    if args.top < 1:
        raise ClassifyError(f"--top must be at least 1, got {args.top}")
    labels = [args.label] if args.label else None
    kept = dict.fromkeys(args.inputs, 0)
    # The same paragraphs as predict keeps.
    counts = count_lines(args.inputs) if args.segment else None

    def explained():
        for path in args.inputs:
            for record in iter_records(path, segment_records=args.segment, counts=counts):
                kept[path] += 1
                yield heading(record), model.explain(record["text"], labels)

    if args.output:
        title = "classify explain: " + ", ".join(args.inputs)
        count = 0

        def write(fh):
            nonlocal count
            count = write_html(fh, _progress(explained()), model, title, args.top, labels)

        atomic_write(args.output, write)
        print(f"wrote {count} explained paragraphs to {args.output}", file=sys.stderr)
    else:
        for title, explanation in explained():
            sys.stdout.write(format_text(explanation, title, sys.stdout, args.top))
    for path in (p for p, n in kept.items() if not n):
        print(f"classify: {'standard input' if path == '-' else path}: no paragraph kept to explain "
              "(an article of page furniture only, or a file of no records)", file=sys.stderr)


def _report(args):
    from classify.report import build_report

    path = build_report(args.model, args.output, labels_file=args.labels, corpus=args.corpus, runs=args.runs,
                        allow_other_labels=args.allow_other_labels)
    print(f"wrote {path}", file=sys.stderr)


def _progress(items):
    """``items`` with a tqdm progress bar when standard error is a terminal and tqdm is installed."""
    if not sys.stderr.isatty():
        return items
    try:
        from tqdm import tqdm
    except ImportError:  # tqdm comes with the experiments extra
        return items
    return tqdm(items, unit=" paragraphs", file=sys.stderr, mininterval=0.5)


def _data_check(args):
    from classify.corpus import corpus_dir
    from classify.data import counts, load_labels

    scheme = _scheme(args)
    table = load_labels(args.labels, _corpus(args), scheme)
    print(f"{args.labels}: {len(table)} paragraphs, all valid against the corpus in {corpus_dir(args.corpus)} "
          f"and the labels of scheme {scheme.name}")
    print(counts(table, scheme.labels).to_string(index=False))
    share = table.groupby("split").size() / len(table)
    print(f"\nsources: {table.source.value_counts().to_dict()}; test share {share.get('test', 0):.1%}; "
          f"unifiedfc share {(table.corpus == 'unifiedfc').mean():.1%}; no-label share {(table.labels.map(len) == 0).mean():.1%}")


def _data_sample(args):
    from classify.data import load_labels
    from classify.io import atomic_write
    from classify.store import load_model
    from classify.sample import sample

    corpus = _corpus(args)
    model = load_model(args.model) if args.strategy == "uncertainty" else None
    scheme = _scheme(args) if args.scheme or model is None else model.scheme
    labelled = load_labels(args.labels, corpus, scheme) if Path(args.labels).is_file() else None
    corpora = None if args.source == "all" else {args.source}
    picked = sample(corpus, args.n, args.strategy, labelled, model, corpora, args.seed, scheme=scheme)
    lines = [json.dumps(r, ensure_ascii=False) + "\n" for r in picked.to_dict("records")]
    if args.output:
        atomic_write(args.output, lambda fh: fh.writelines(lines))
        print(f"wrote {len(lines)} paragraphs to {args.output}", file=sys.stderr)
    else:
        sys.stdout.writelines(lines)


def _data_merge(args):
    from classify.data import merge

    table = merge(args.batch, args.labels, _corpus(args), source=args.source, scheme=_scheme(args))
    print(f"{args.labels}: now {len(table)} paragraphs")


def _data_agreement(args):
    from classify.agreement import agreement, agreement_table
    from classify.data import parse_spans

    corpus, scheme = _corpus(args), _scheme(args)
    first, second = (parse_spans(path, corpus, "manual", scheme) for path in (args.first, args.second))
    table = agreement(first, second, scheme.labels)
    print(agreement_table(table))


def _data_segmentation(args):
    from classify.corpus import file_sha256
    from classify.data import load_labels
    from classify.io import atomic_write
    from classify.segment.evaluate import cross_validate, report
    from classify.segment.model import fit, save_line_model, training_pages

    corpus = _corpus(args)
    table = load_labels(args.labels, corpus)
    if args.fit:
        marked, labelled = training_pages(args.marks, corpus, table)
        model = fit(marked + labelled,
                    meta={"marks_sha256": file_sha256(args.marks), "labels_sha256": file_sha256(args.labels)})
        save_line_model(model, args.fit)
        print(f"saved {args.fit}: {len(marked)} marked pages and {len(labelled)} pages of labelled paragraphs, "
              "thresholds " + ", ".join(f"{name} {t:.3f}" for name, t in model.thresholds.items()))
        return
    print("cross-validating by site (a few minutes)...", file=sys.stderr)
    body = report(cross_validate(args.marks, corpus, table, blind=args.blind, crawl=not args.alone))
    atomic_write(args.report, lambda fh: fh.write("# Segmentation\n\n" + body))
    print(body + f"\n(written to {args.report})")


def _version():
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("classify")
    except PackageNotFoundError:
        return "unknown"


def _parser():
    parser = argparse.ArgumentParser(prog="classify", description=DESCRIPTION,
                                     epilog="Run 'classify COMMAND --help' for the options of a command.")
    parser.add_argument("--version", action="version", version=f"classify {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(sub, name, func, help_):
        p = sub.add_parser(name, help=help_, description=help_)
        p.set_defaults(func=func)
        return p

    def corpus_arg(p):
        p.add_argument("--corpus", metavar="DIR",
                       help="corpus folder (default: $CLASSIFY_CORPUS, else ../shared/corpus)")

    def labels_arg(p, help_="labels file, CSV of spans (default: %(default)s)"):
        p.add_argument("--labels", default=DEFAULT_LABELS, metavar="FILE", help=help_)

    def scheme_arg(p, help_="label scheme, TOML: the labels and their cue words (default: the codebook's)"):
        p.add_argument("--scheme", metavar="FILE", help=help_)

    p = add(commands, "train", _train, "train a model on the training split")
    p.add_argument("--config", metavar="FILE", help="TOML configuration (default: the package defaults)")
    labels_arg(p)
    scheme_arg(p, "label scheme, TOML: the labels and their cue words (default: the configuration's scheme, "
                  "else the codebook's)")
    p.add_argument("--out", default=DEFAULT_MODEL, metavar="DIR",
                   help="model folder to create or update; refused if it holds anything but a model "
                        "(default: %(default)s)")
    p.add_argument("--jobs", type=int, default=None, metavar="N", help="cross-validation folds run in parallel")
    corpus_arg(p)

    p = add(commands, "evaluate", _evaluate, "evaluate a model on a labelled split and write the report")
    p.add_argument("--model", default=DEFAULT_MODEL, metavar="DIR", help="model folder (default: %(default)s)")
    p.add_argument("--split", default="test", choices=("train", "test"), help="split to score (default: %(default)s)")
    labels_arg(p, "labels file; must be the one the model was trained on (default: %(default)s)")
    p.add_argument("--reports", default="reports", metavar="DIR",
                   help="folder for metrics.md, metrics.json and the plots (default: %(default)s)")
    p.add_argument("--allow-other-labels", action="store_true",
                   help="evaluate even if the labels file differs from the one the model was trained on")
    corpus_arg(p)

    p = add(commands, "predict", _predict,
            "label articles (.txt), records (.jsonl, .csv, or either gzipped) or standard input (-), streaming")
    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="an article .txt, a .jsonl(.gz) with a text field, a .csv(.gz) with a text column, "
                        "or - for standard input")
    p.add_argument("--segment", action="store_true",
                   help="each record's text is an article: write one record per kept paragraph, with start and end")
    p.add_argument("--alone", action="store_true",
                   help="with --segment, judge each page alone, not with the lines the inputs' other pages share "
                        "(which costs one more reading of the inputs)")
    p.add_argument("--model", default=DEFAULT_MODEL, metavar="DIR", help="model folder (default: %(default)s)")
    p.add_argument("-o", "--output", metavar="FILE", help="write JSONL here instead of standard output")
    p.add_argument("--show", action="store_true",
                   help="print each paragraph with its labels (Arabic shaped on a terminal) instead of JSONL")
    p.add_argument("--jobs", type=int, default=None, metavar="N",
                   help="label on N worker processes (the output is the same as on one); with --backend dask, "
                        "the workers of the local cluster (default: 1, or every core for dask)")
    p.add_argument("--backend", default="local", choices=("local", "dask"),
                   help="local processes, or a Dask cluster (extra classify[dask]): the one at --scheduler, "
                        "else a local cluster (default: %(default)s)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="address of a running Dask scheduler, e.g. tcp://10.0.0.5:8786 (with --backend dask)")

    p = add(commands, "explain", _explain,
            "show which words of each paragraph pushed each label, in the terminal or as an HTML page")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="the same inputs as predict: an article .txt, a "
                   ".jsonl(.gz) with a text field, a .csv(.gz) with a text column, or - for standard input")
    p.add_argument("--segment", action="store_true",
                   help="each record's text is an article: explain each paragraph the segmenter keeps")
    p.add_argument("--model", default=DEFAULT_MODEL, metavar="DIR", help="model folder (default: %(default)s)")
    p.add_argument("-o", "--output", metavar="OUT.html",
                   help="write one self-contained HTML page here instead of text on standard output")
    p.add_argument("--top", type=int, default=5, metavar="K",
                   help="words marked and listed per label (default: %(default)s)")
    p.add_argument("--label", metavar="L",
                   help="explain this label for every paragraph, passed or not (default: the labels that pass "
                        "their thresholds)")

    p = add(commands, "report", _report,
            "write one HTML page on a model: its card, test metrics against the keyword baseline, plots, "
            "calibration, learning curve and the test paragraphs it gets most wrong")
    p.add_argument("--model", default=DEFAULT_MODEL, metavar="DIR", help="model folder (default: %(default)s)")
    p.add_argument("-o", "--output", default="reports/report.html", metavar="FILE",
                   help="the HTML page to write (default: %(default)s)")
    labels_arg(p, "labels file; must be the one the model was trained on (default: %(default)s)")
    p.add_argument("--runs", default="experiments/runs.jsonl", metavar="FILE",
                   help="experiment ledger to take the learning curve from (default: %(default)s)")
    p.add_argument("--allow-other-labels", action="store_true",
                   help="report even if the labels file differs from the one the model was trained on")
    corpus_arg(p)

    data = add(commands, "data", None, "build and check the labelled data").add_subparsers(
        dest="data_command", required=True, metavar="DATA_COMMAND")
    p = add(data, "check", _data_check, "validate the labels file against the corpus and print counts")
    labels_arg(p)
    scheme_arg(p)
    corpus_arg(p)
    p = add(data, "sample", _data_sample, "choose paragraphs to label next (JSONL)")
    p.add_argument("--n", type=int, required=True, help="how many paragraphs")
    p.add_argument("--strategy", default="random", choices=("random", "stratified", "uncertainty"),
                   help="random; stratified, equal draws from the strata of the scheme's cue words; or uncertainty, "
                        "those nearest a model's thresholds "
                        "(default: %(default)s)")
    p.add_argument("--model", default=DEFAULT_MODEL, metavar="DIR",
                   help="model folder for --strategy uncertainty (default: %(default)s)")
    p.add_argument("--source", default="all", choices=("all", "unifiedfc", "saudinewsnet"),
                   help="corpus to sample from (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    labels_arg(p, "labels file; its paragraphs are not sampled again (default: %(default)s)")
    scheme_arg(p, "label scheme, TOML, whose cue words make the strata (default: the model's with --strategy "
                  "uncertainty, else the codebook's)")
    p.add_argument("-o", "--output", metavar="FILE", help="write JSONL here instead of standard output")
    corpus_arg(p)
    p = add(data, "merge", _data_merge, "validate a labelled batch (CSV or JSONL) and add it to the labels file")
    p.add_argument("batch", help="labelled batch: CSV or JSONL with doc_id, start, end, labels")
    labels_arg(p, "labels file to add to (default: %(default)s)")
    scheme_arg(p)
    p.add_argument("--source", default="manual", choices=("manual", "rule", "model"),
                   help="source of rows that do not name one (default: %(default)s)")
    corpus_arg(p)
    p = add(data, "agreement", _data_agreement, "per-label Cohen's kappa and F1 between two labellings")
    p.add_argument("first", help="first labelling (CSV or JSONL of spans)")
    p.add_argument("second", help="second labelling of the same spans")
    scheme_arg(p)
    corpus_arg(p)
    p = add(data, "segmentation", _data_segmentation,
            "measure the segmenter on hand-marked page lines, out of fold by site; or --fit its line model")
    p.add_argument("--marks", default=DEFAULT_MARKS, metavar="FILE",
                   help="CSV of marked page lines (default: %(default)s)")
    labels_arg(p, "labelled paragraphs: article lines to train on, and to check are kept (default: %(default)s)")
    p.add_argument("--report", default="reports/segmentation.md", metavar="FILE",
                   help="where to write the tables (default: %(default)s)")
    p.add_argument("--blind", action="store_true",
                   help="judge the pages without their addresses (as articles given alone, .txt files)")
    p.add_argument("--alone", action="store_true",
                   help="judge each page alone, without its lines' counts over the corpus (as classify.segment(text))")
    p.add_argument("--fit", metavar="FILE", help="instead, fit the line model on all pages and write it here "
                   "(the package's own is classify/segment/line_model.json)")
    corpus_arg(p)
    return parser


def main(argv=None):
    """Run the command line; returns the exit status (0 ok, 2 a user error)."""
    args = _parser().parse_args(argv)
    try:
        args.func(args)
    except ClassifyError as exc:
        from classify.display import escape_controls

        # One line, whatever the message quotes (a multi-line value, a library's message),
        # and no control character from a quoted input reaches the terminal.
        print(f"classify: {escape_controls(' '.join(str(exc).split()))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("classify: interrupted; nothing was half-written", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    return 0
