"""The model report page, and both HTML pages opened in a headless Chromium (slow)."""

import base64
import json
import os
import re
import shutil
import subprocess

import pytest

from classify.store import load_model
from conftest import SEED_ARTICLE, labels_csv, run

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def flipped_labels(spans, path):
    """The fixture labels with some test paragraphs' labels changed, so the model gets them "wrong"."""
    lines = labels_csv(spans).splitlines()
    out, flipped = [lines[0]], 0
    for line in lines[1:]:
        fields = line.split(",")
        if fields[4] == "test" and flipped < 5:
            fields[3] = "withdrawal" if fields[3] != "withdrawal" else "shelling"
            flipped += 1
        out.append(",".join(fields))
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path


def ledger(path, labels_sha):
    """A ledger with a learning-curve run on ``labels_sha`` and one run of another configuration."""
    records = [{"config": "learning_curve", "status": "ok", "labels_sha256": labels_sha, "classifier": "logreg",
                "started": "2026-01-02T00:00:00+00:00", "git_commit": "abcdef1234567", "train_size": n,
                "test": {"macro_f1": f}, "cv": {"macro_f1": {"mean": f + 0.01, "std": 0.01}}}
               for n, f in ((50, 0.5), (100, 0.6), (128, 0.7))]
    records.append({"config": "default", "status": "ok", "labels_sha256": labels_sha})
    path.write_text("\n".join(json.dumps(r) for r in records) + "\nnot json\n", encoding="utf-8")
    return path


@pytest.fixture()
def report_page(trained_model, tmp_path, spans, corpus_dir, capsys):
    labels = flipped_labels(spans, tmp_path / "labels.csv")
    out = tmp_path / "reports" / "report.html"
    status, _, err = run(["report", "--model", trained_model, "--labels", labels, "--corpus", corpus_dir,
                          "--runs", ledger(tmp_path / "runs.jsonl", load_model(trained_model).meta["labels_file_sha256"]),
                          "--allow-other-labels",
                          "-o", out], capsys)
    assert status == 0, err
    return out


def test_report_is_one_self_contained_page(report_page):
    page = report_page.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<title>classify report: " in page
    for heading in ("Model card", "Test split: the model against the keyword baseline", "Calibration",
                    "Learning curve", "The test paragraphs the model gets most wrong"):
        assert f">{heading}</h2>" in page, heading
    images = re.findall(r'<img alt="([^"]+)" src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) == 4  # confusion, precision-recall, reliability, learning curve
    for _, data in images:
        assert base64.b64decode(data)[:8] == b"\x89PNG\r\n\x1a\n"
    assert not re.search(r"""(src|href)=["']?(https?:|//)|<script|<link""", page)
    assert "pipeline_sha256" not in page and "model.skops SHA-256" in page and "keyword baseline" in page
    assert "<td><code>none (the paragraph" in page  # how scores are pooled: not, by default
    # Arabic text as characters, in right-to-left blocks, in the most-wrong section.
    wrong = page.split(">The test paragraphs the model gets most wrong</h2>", 1)[1]
    assert wrong.count('<section class="para">') == 5 and "false positive" in wrong and "false negative" in wrong
    assert '<p class="text" dir="rtl" lang="ar">' in wrong and re.search("[\u0600-\u06ff]{3}", wrong)
    assert "From the newest <code>learning_curve</code> run" in page and "abcdef1234" in page


def test_report_says_when_there_is_no_learning_curve(trained_model, tmp_path, spans, corpus_dir, capsys):
    labels = tmp_path / "labels.csv"
    labels.write_text(labels_csv(spans), encoding="utf-8")
    out = tmp_path / "r.html"
    status, _, err = run(["report", "--model", trained_model, "--labels", labels, "--corpus", corpus_dir,
                          "--runs", tmp_path / "none.jsonl", "-o", out], capsys)
    assert status == 0, err
    page = out.read_text(encoding="utf-8")
    assert "No learning curve: there is no experiment ledger at" in page
    assert page.count("data:image/png;base64,") == 3


def one_line(status, err, *fragments):
    assert status == 2, err
    assert err.count("\n") == 1 and err.startswith("classify: ") and "Traceback" not in err, err
    for fragment in fragments:
        assert fragment in err, err


def test_report_without_a_model_is_one_line(tmp_path, labels_file, corpus_dir, capsys):
    status, _, err = run(["report", "--model", tmp_path / "none", "--labels", labels_file, "--corpus", corpus_dir,
                          "-o", tmp_path / "r.html"], capsys)
    one_line(status, err, "no model at")
    assert not (tmp_path / "r.html").exists()


def test_report_on_another_labels_file_is_one_line(trained_model, tmp_path, spans, corpus_dir, capsys):
    labels = flipped_labels(spans, tmp_path / "labels.csv")
    status, _, err = run(["report", "--model", trained_model, "--labels", labels, "--corpus", corpus_dir,
                          "-o", tmp_path / "r.html"], capsys)
    one_line(status, err, "is not the labels file the model was trained on", "--allow-other-labels")


# -- in a browser --------------------------------------------------------------------------------

# Appended to a copy of a page: once loaded, it writes what the browser made of the images into the DOM.
_PROBE = """<script>
window.addEventListener("load", () => {
  const images = Array.from(document.images);
  const decoded = images.filter(i => i.complete && i.naturalWidth > 0).length;
  document.body.setAttribute("data-probe", `images ${images.length} decoded ${decoded}`);
});
</script>"""


def _chromium():
    found = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)
    if found:
        return found
    reason = "chromium is not installed (Debian: apt-get install chromium; .ci/run installs it)"
    if os.environ.get("CLASSIFY_REQUIRE_CHROMIUM"):
        pytest.fail(reason + ", and CLASSIFY_REQUIRE_CHROMIUM is set")
    pytest.skip(reason)


def _browse(browser, page, tmp_path, name):
    """The DOM of ``page`` after loading in headless Chromium, and a full-width screenshot of it."""
    probed = tmp_path / f"{name}.probe.html"
    probed.write_text(page.read_text(encoding="utf-8").replace("</body>", _PROBE + "</body>"), encoding="utf-8")
    flags = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=5000"]
    dom = subprocess.run(flags + ["--dump-dom", probed.as_uri()], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    shot = tmp_path / f"{name}.png"
    subprocess.run(flags + [f"--screenshot={shot}", "--window-size=1280,2400", page.as_uri()],
                   capture_output=True, timeout=120, check=True)
    return dom.stdout, shot


@pytest.mark.slow
def test_both_pages_in_headless_chromium(report_page, trained_model, tmp_path, capsys):
    browser = _chromium()
    dom, shot = _browse(browser, report_page, tmp_path, "report")
    assert "<title>classify report: " in dom
    assert dom.count("<table") >= 5 and dom.count("<img") == 4
    assert 'data-probe="images 4 decoded 4"' in dom
    assert re.search("[\u0600-\u06ff]{3}", dom) and 'dir="rtl" lang="ar"' in dom
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
    explained = tmp_path / "seed.html"
    status, _, err = run(["explain", "--model", trained_model, SEED_ARTICLE, "-o", explained], capsys)
    assert status == 0, err
    dom, shot = _browse(browser, explained, tmp_path, "explain")
    assert '<html dir="rtl" lang="ar">' in dom and "<title>classify explain: " in dom
    assert dom.count("<mark") >= 10 and re.search("[\u0600-\u06ff]{3}", dom)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
