"""The report in a real browser (headless Chromium over the DevTools pipe), and the report rule's rerun logic.

Screenshots are kept under test-artifacts/report/ (gitignored) for a person to look at.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from browser import Chromium, find_chromium
from suite import REPO, snakemake

ARTIFACTS = REPO / "test-artifacts" / "report"
CHROMIUM = find_chromium()
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary (apt-get install chromium)")


def move_report(report_dir: Path, dest: Path) -> Path:
    """Zip the report folder, unpack it somewhere else: what a reader who was sent the report gets."""
    archive = shutil.make_archive(str(dest / "report"), "zip", report_dir)
    unpacked = dest / "elsewhere" / "report"
    shutil.unpack_archive(archive, unpacked)
    return unpacked / "index.html"


def check_page(html: Path, shots: str) -> dict:
    """Load ``html`` in Chromium; assert every image loads and nothing is logged; save screenshots."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with Chromium(CHROMIUM, width=1280, height=1000) as browser:
        page = browser.load(html.as_uri())
        top = browser.screenshot(ARTIFACTS / f"{shots}-top.png")
        browser.screenshot(ARTIFACTS / f"{shots}-full.png", full_page=True)
        # Sorting works: click the 'runs'/'claim' header of the first sortable table, twice.
        order = browser.evaluate(
            "(() => { const t = document.querySelector('table.sortable'); const th = t.tHead.rows[0].cells[0];"
            " const first = () => t.tBodies[0].rows[0].cells[0].textContent; th.click(); const a = first();"
            " th.click(); return [a, first(), th.className]; })()")
        scripts = browser.evaluate("document.querySelectorAll('script').length")
        text = browser.evaluate("document.body.innerText")
    print(f"screenshots: {top} and {ARTIFACTS / f'{shots}-full.png'}")
    assert page.images, "the page shows no image"
    broken = [i["src"] for i in page.images if not (i["complete"] and i["naturalWidth"] > 0 and i["decoded"])]
    assert not broken, f"images that did not load: {broken}"
    assert page.errors == [], page.errors
    assert order[2] == "sorted-desc"
    return {"images": page.images, "scripts": scripts, "text": text}


@pytest.mark.slow
@needs_chromium
def test_ci_report_opens_in_chromium_after_being_moved(ci_suite: Path, tmp_path: Path) -> None:
    report_dir = ci_suite / "reports" / "ci"
    html = move_report(report_dir, tmp_path)
    sources = re.findall(r'<img src="([^"]+)"', html.read_text(encoding="utf-8"))
    assert sources and all((html.parent / s).is_file() for s in sources)
    page = check_page(html, "ci")
    assert len(page["images"]) == len(sources)
    assert page["scripts"] == 1  # the inline table sorter, nothing else
    for heading in ("Claims at a glance", "E1 Fine structure", "E3 Network size", "E7 Scale sweep", "Methods"):
        assert heading in page["text"]


@pytest.mark.slow
def test_report_reruns_only_when_results_change(ci_suite: Path) -> None:
    def jobs(*extra: str) -> set[str]:
        proc = snakemake(ci_suite, 1, "-n", *extra, timeout=300)
        assert proc.returncode == 0, proc.stderr[-2000:]
        out = proc.stdout + proc.stderr
        return set(re.findall(r"^(?:local)?rule (\w+):", out, flags=re.M))

    assert jobs() == set()  # nothing changed: nothing to do (params=CFG causes no spurious rerun)
    assert jobs("--forcerun", "report") == {"report", "all"}  # regenerating the report alone
    metrics = ci_suite / "results" / "ci" / "dino-grid-0.1" / "rpd-std" / "seed0" / "metrics.csv"
    losses = metrics.parent / "losses.npz"
    saved = {p: (p.read_bytes(), p.stat()) for p in (metrics, losses)}
    try:
        metrics.write_bytes(saved[metrics][0] + b"\n")  # changed content, as a re-evaluation would
        assert jobs() == {"collect", "report", "all"}
    finally:
        for p, (data, st) in saved.items():
            p.write_bytes(data)
            os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))
    try:
        losses.write_bytes(saved[losses][0] + b"\0")  # a changed training log: report only
        assert jobs() == {"report", "all"}
    finally:
        data, st = saved[losses]
        losses.write_bytes(data)
        os.utime(losses, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert jobs() == set()
    # And actually regenerating it runs no training, sampling or evaluation job.
    proc = snakemake(ci_suite, 1, "--forcerun", "report", timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    ran = set(re.findall(r"^(?:local)?rule (\w+):", proc.stdout + proc.stderr, flags=re.M))
    assert ran == {"report", "all"}
