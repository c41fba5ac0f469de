"""``classify report``: one self-contained HTML page about a model.

The model card (data, configuration, versions, hashes), per-label metrics on the test split
against the keyword baseline, confusion matrices and precision-recall curves, calibration
(reliability diagrams and expected calibration error, out of fold and on the test split),
the learning curve from the experiment ledger, and the test paragraphs the model gets most
wrong, each with the explanation of its wrong labels. Every image is an inline PNG.
"""

import json
from pathlib import Path

import numpy as np

from classify import html
from classify.errors import ClassifyError

#: How many of the most wrong test paragraphs the report shows.
N_WRONG = 8


def _figure(*args, **kwargs):
    from classify.evaluate import _plt

    return _plt().subplots(*args, **kwargs)


def _plot_bytes(plot, *args, **kwargs):
    """PNG bytes of one of :mod:`classify.evaluate`'s plots (they write to a path or a file object)."""
    import io

    buffer = io.BytesIO()
    plot(*args, buffer, **kwargs)
    return buffer.getvalue()


def reliability_figure(oof, test, labels):
    """One reliability diagram per label: out-of-fold bins (from the card) and test bins, against the diagonal."""
    fig, axes = _figure(1, len(labels), figsize=(3.3 * len(labels), 3.6), squeeze=False)
    for ax, label in zip(axes[0], labels):
        ax.plot([0, 1], [0, 1], color="#999", lw=1, ls="--")
        for name, source, style in (("out of fold", oof, "o-"), ("test", test, "s-")):
            if source and label in source:
                bins = source[label]["bins"]
                ax.plot([b[3] for b in bins], [b[4] for b in bins], style, ms=4,
                        label=f"{name} (ECE {source[label]['ece']:.3f})")
        ax.set(title=label, xlim=(0, 1), ylim=(0, 1), xlabel="mean score in bin", ylabel="share positive")
        ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    return fig


def learning_curve(runs_path, labels_sha256):
    """Points ``(train size, test macro-F1, CV mean, CV std)`` of the ledger's newest learning-curve run.

    Returns
    -------
    (list of tuple, dict) or (None, str)
        The points and a description of the run, or ``None`` and why there is no curve.
    """
    path = Path(runs_path)
    if not path.is_file():
        return None, f"there is no experiment ledger at {path}"
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict) and record.get("config") == "learning_curve" and record.get("status") == "ok":
            records.append(record)
    if not records:
        return None, f"{path} holds no learning_curve run"
    same = [r for r in records if r.get("labels_sha256") == labels_sha256]
    if not same:
        return None, (f"{path} holds learning_curve runs, but none on the labels file this model was trained on "
                      "(run python -m experiments.run experiments/configs/learning_curve.toml)")
    newest = max(r.get("started", "") for r in same)
    run = sorted((r for r in same if r.get("started", "") == newest), key=lambda r: r["train_size"])
    try:
        points = [(r["train_size"], r["test"]["macro_f1"], r["cv"]["macro_f1"]["mean"], r["cv"]["macro_f1"]["std"])
                  for r in run]
    except (KeyError, TypeError):
        return None, f"the newest learning_curve run in {path} lacks its scores"
    return points, {"started": newest, "git_commit": run[0].get("git_commit", "?"),
                    "classifier": run[0].get("classifier", "?"), "path": str(path)}


def learning_figure(points):
    fig, ax = _figure(figsize=(6.5, 4.2))
    sizes = [p[0] for p in points]
    ax.plot(sizes, [p[1] for p in points], "o-", label="test macro-F1")
    ax.errorbar(sizes, [p[2] for p in points], yerr=[p[3] for p in points], fmt="s--", capsize=3,
                label="CV macro-F1 (mean ± std)")
    ax.set(xscale="log", xlabel="training paragraphs", ylabel="macro-F1", ylim=(0, 1), title="Learning curve")
    ax.set_xticks(sizes, [str(s) for s in sizes], rotation=45)  # close sizes (4000, 4827) would overlap
    ax.minorticks_off()
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


def _card_section(model, folder, version, labels_file, test_n, labels_sha, corpus_folder):
    meta = model.meta
    cv = meta.get("cv") or {}
    cal = meta.get("calibration")
    rows = [
        ("model folder", str(folder)), ("version", version.name), ("created", meta.get("created", "?")),
        ("configuration", meta.get("config", "(package defaults)")), ("classifier", meta.get("classifier", "?")),
        ("parameters over the defaults", json.dumps(meta.get("params", {}), ensure_ascii=False)),
        ("thresholds chosen by", str(meta.get("thresholds_by", "?"))),
        ("calibration", cal["method"] if cal else "none"),
        ("pooling", {"sentence": "sentence (mean of the paragraph's and its best sentence's probability)",
                     "none": "none (the paragraph's probability)"}[model.pooling]),
        ("training paragraphs", str(meta.get("n_train", "?"))), ("test paragraphs", str(test_n)),
        ("labels file", f"{labels_file} (SHA-256 {labels_sha})"),
        ("labels file recorded at training", str(meta.get("labels_file_sha256"))),
        ("corpus folder", str(corpus_folder)),
        ("model.skops SHA-256", meta.get("pipeline_sha256", "?")), ("model card SHA-256", meta.get("card_sha256", "?")),
        ("versions", ", ".join(f"{k} {v}" for k, v in meta.get("versions", {}).items())),
    ]
    if cv:
        rows.append(("cross-validated (grouped, training split)",
                     f"macro-F1 {cv['macro_f1']:.3f} ± {cv['macro_f1_std']:.3f}, micro-F1 {cv['micro_f1']:.3f} "
                     f"over {cv['folds']} folds"))
    body = "<table>" + "".join(f"<tr><th>{html.esc(k)}</th><td><code>{html.esc(v)}</code></td></tr>"
                               for k, v in rows) + "</table>"
    per_label = html.table(
        ["label", "threshold", "CV F1"] + (["calibration"] if cal else []),
        [[label, f"{model.thresholds[label]:.3f}", f"{cv['per_label_f1'][label]:.3f}" if cv else "?"]
         + ([_calibration_text(cal, label)] if cal else []) for label in model.labels], numeric={1, 2})
    return f'<h2 id="card">Model card</h2>\n{body}\n{per_label}'


def _calibration_text(cal, label):
    params = cal["per_label"][label]
    if cal["method"] == "sigmoid":
        return f"expit({params['a']:.3f} × logit(p) {params['b']:+.3f})"
    return f"isotonic, {len(params['x'])} breakpoints"


def _metrics_section(result, base, labels):
    rows = []
    for label in labels:
        m, b = result["per_label"][label], base["per_label"][label]
        rows.append([label, f"{m['precision']:.3f}", f"{m['recall']:.3f}", f"{m['f1']:.3f}", m["support"],
                     f"{b['precision']:.3f}", f"{b['recall']:.3f}", f"{b['f1']:.3f}", f"{m['f1'] - b['f1']:+.3f}"])
    per_label = html.table(["label", "precision", "recall", "F1", "support", "baseline precision", "baseline recall",
                            "baseline F1", "F1 gain"], rows, numeric=set(range(1, 9)))
    averages = html.table(["average", "model", "keyword baseline"],
                          [[k, f"{result[k]:.3f}", f"{base[k]:.3f}"]
                           for k in ("macro_f1", "micro_f1", "samples_f1", "hamming_loss", "exact_match")],
                          numeric={1, 2})
    return (f'<h2 id="metrics">Test split: the model against the keyword baseline</h2>\n'
            f"<p>{result['n']} held-out paragraphs, never used for a choice. The baseline gives a label wherever one "
            f"of the codebook's cue words for it occurs.</p>\n{per_label}\n{averages}")


def _calibration_section(oof, test, labels, method):
    rows = []
    for label in labels:
        o, t = (oof or {}).get(label), test[label]
        rows.append([label] + ([f"{o['ece']:.3f}", f"{o['brier']:.4f}", f"{o['log_loss']:.4f}"] if o else ["?"] * 3)
                    + [f"{t['ece']:.3f}", f"{t['brier']:.4f}", f"{t['log_loss']:.4f}"])
    note = ("<p>Out of fold: the training split's cross-validated scores as the model gives them"
            + (f" (through a {method} calibrator fitted on the other folds)" if method else "")
            + ", recorded in the model card at training.</p>" if oof else
            "<p>This model's card records no out-of-fold reliability (it was trained before classify measured "
            "it): only the test split is shown.</p>")
    figure = html.png(reliability_figure(oof, test, labels), "reliability diagrams per label")
    return (f'<h2 id="calibration">Calibration</h2>\n<p>Expected calibration error (ECE): the gap between the mean '
            f"score and the share of positives, averaged over ten equal-width score bins weighted by their counts. "
            f"Scores are {'calibrated (' + method + ')' if method else 'not calibrated'}.</p>\n{note}\n"
            + html.table(["label", "ECE out of fold", "Brier out of fold", "log-loss out of fold", "ECE test",
                          "Brier test", "log-loss test"], rows, numeric=set(range(1, 7)))
            + f"\n{figure}")


def _learning_section(runs, labels_sha):
    points, about = learning_curve(runs, labels_sha)
    if points is None:
        return f'<h2 id="learning">Learning curve</h2>\n<p>No learning curve: {html.esc(about)}.</p>'
    rows = [[n, f"{t:.3f}", f"{m:.3f} ± {s:.3f}"] for n, t, m, s in points]
    return (f'<h2 id="learning">Learning curve</h2>\n<p>From the newest <code>learning_curve</code> run of '
            f"<code>{html.esc(about['path'])}</code> ({html.esc(about['classifier'])}, started "
            f"{html.esc(about['started'])}, commit <code>{html.esc(str(about['git_commit'])[:10])}</code>), "
            "on this model's labels file. It measures the configuration of that run, which may differ from this "
            "model's.</p>\n" + html.table(["training paragraphs", "test macro-F1", "CV macro-F1"], rows,
                                         numeric={0, 1, 2})
            + "\n" + html.png(learning_figure(points), "learning curve"))


def _wrong_section(model, part, Y, P, predicted, top=5):
    labels = list(model.labels)
    colours = {label: html.hue(i) for i, label in enumerate(labels)}
    error = np.abs(Y - P).sum(axis=1)
    order = [i for i in np.argsort(-error, kind="stable") if (Y[i] != predicted[i]).any()][:N_WRONG]
    out = [f'<h2 id="wrong">The test paragraphs the model gets most wrong</h2>\n<p>Ranked by the summed gap '
           f"between score and truth over the labels; each shows the explanation of its wrong labels (a false "
           f"positive: what pushed it over; a false negative: what little pushed it, and what held it back).</p>\n"
           + "".join(html.legend(label, colours[label]) for label in labels)]
    rows = part.reset_index(drop=True)
    for rank, i in enumerate(order, 1):
        row = rows.iloc[i]
        truth = [label for j, label in enumerate(labels) if Y[i, j]]
        got = [label for j, label in enumerate(labels) if predicted[i, j]]
        wrong = [label for j, label in enumerate(labels) if Y[i, j] != predicted[i, j]]
        explanation = model.explain(row.text, wrong)
        out.append(f'<section class="para">\n<h3>{rank}. <code>{html.esc(row.doc_id)}</code> {row.start}-{row.end}: '
                   f"true {html.esc(', '.join(truth) or 'none')}; predicted {html.esc(', '.join(got) or 'none')} "
                   f'<span class="meta">(summed gap {error[i]:.2f})</span></h3>')
        for item in explanation.labels:
            kind = "false positive" if item.passed else "false negative"
            out.append(html.explanation_block(item, explanation.text, colours[item.label], top, note=kind))
        out.append("</section>")
    if not order:
        out.append("<p>The model gets every test paragraph right.</p>")
    return "\n".join(out)


def build_report(model_dir="models/default", output="reports/report.html", labels_file="data/labels.csv",
                 corpus=None, runs="experiments/runs.jsonl", allow_other_labels=False):
    """Write the report page of the model in ``model_dir`` to ``output``.

    Returns
    -------
    Path
        ``output``.

    Raises
    ------
    ClassifyError
        If the model, the labels file or the corpus cannot be read, the labels file is not the
        one the model was trained on (unless ``allow_other_labels``), or it has no test split.
    """
    from classify.calibration import summary
    from classify.corpus import corpus_dir, file_sha256, load_corpus
    from classify.data import load_labels
    from classify.evaluate import check_labels_file, metrics, plot_confusion, plot_pr_curves
    from classify.io import atomic_write
    from classify.model import binarize
    from classify.rules import cue_labels
    from classify.store import current_version, load_model

    model = load_model(model_dir)
    version = current_version(model_dir)
    labels = list(model.labels)
    warning = check_labels_file(model.meta, labels_file, allow_other_labels)
    table = load_labels(labels_file, load_corpus(corpus), model.scheme)
    part = table[table.split == "test"]
    if part.empty:
        raise ClassifyError(f"{labels_file}: no paragraphs in the test split to report on")
    Y = binarize(part.labels, labels)
    P = model.predict_proba(part.text.tolist()).to_numpy()
    cuts = np.array([model.thresholds[label] for label in labels])
    predicted = (P >= cuts).astype(int)
    result = metrics(Y, predicted, labels)
    base = metrics(Y, binarize([cue_labels(t, model.scheme.cues) for t in part.text], labels), labels)
    labels_sha = file_sha256(labels_file)
    cal = model.meta.get("calibration")
    title = f"classify report: {model_dir}"
    sections = [
        f"<h1>{html.esc(title)}</h1>",
        f'<p class="meta">{html.esc(warning)}</p>' if warning else "",
        '<p><a href="#card">model card</a> · <a href="#metrics">test metrics</a> · <a href="#plots">plots</a> · '
        '<a href="#calibration">calibration</a> · <a href="#learning">learning curve</a> · '
        '<a href="#wrong">most wrong</a></p>',
        _card_section(model, Path(model_dir), version, labels_file, len(part), labels_sha, corpus_dir(corpus)),
        _metrics_section(result, base, labels),
        '<h2 id="plots">Confusion matrices and precision-recall curves (test split)</h2>\n'
        + html.png(_plot_bytes(plot_confusion, Y, predicted, labels=labels), "confusion matrices per label") + "\n"
        + html.png(_plot_bytes(plot_pr_curves, Y, P, model.thresholds, labels=labels),
                   "precision-recall curves per label"),
        _calibration_section(model.meta.get("oof_reliability"), summary(Y, P, labels), labels,
                             cal["method"] if cal else None),
        _learning_section(runs, model.meta.get("labels_file_sha256") or labels_sha),
        _wrong_section(model, part, Y, P, predicted),
    ]
    document = html.page(title, "\n".join(s for s in sections if s))
    atomic_write(output, lambda fh: fh.write(document))
    return Path(output)
