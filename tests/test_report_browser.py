"""The report in a real browser (headless Chromium over the DevTools pipe), and the report rule's rerun logic.

Screenshots are kept under test-artifacts/report/ (gitignored) for a person to look at.
"""

from __future__ import annotations

import os
import re
import shutil
import zipfile
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
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


def common_colours(png: Path, min_pixels: int = 30) -> dict[tuple[int, int, int], int]:
    """Colours covering at least ``min_pixels`` pixels of a screenshot (text anti-aliasing covers fewer)."""
    img = np.round(mpimg.imread(png)[..., :3] * 255).astype(np.uint8).reshape(-1, 3)
    colours, counts = np.unique(img, axis=0, return_counts=True)
    return {tuple(int(v) for v in c): int(n) for c, n in zip(colours, counts) if n >= min_pixels}


@pytest.mark.slow
@needs_chromium
def test_ci_gallery_and_scatter_as_the_browser_shows_them(ci_suite: Path) -> None:
    """Screenshots of one image gallery and one scatter grid: neither blank nor binarised.

    The held-out Fashion-MNIST gallery shown as stored has many grey levels, each over many pixels; the
    binarised galleries of the old code had two (black and white) plus the title colour. (The ci models are
    trained for 40 steps, and over 90% of their pixels are saturated at 0 or 255: their galleries are nearly
    black and white truthfully; tests/test_report_figures.py checks model galleries pixel for pixel.)
    """
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    html = ci_suite / "reports" / "ci" / "index.html"
    with Chromium(CHROMIUM, width=1280, height=1000) as browser:
        browser.load(html.as_uri())
        gallery = browser.screenshot_element('img[src*="-gallery-fmnist"][src*="-reference-"]',
                                             ARTIFACTS / "ci-gallery.png")
        scatter = browser.screenshot_element('img[src*="e1-scatter-"]', ARTIFACTS / "ci-scatter.png")
    print(f"screenshots: {gallery} and {scatter}")
    greys = {c: n for c, n in common_colours(gallery).items() if max(c) - min(c) <= 2 and c != (255, 255, 255)}
    assert len(greys) >= 20, f"gallery shows {len(greys)} grey levels: binarised or blank"
    colours = common_colours(scatter, min_pixels=15)
    saturated = {c for c in colours if max(c) - min(c) > 60}
    non_white = sum(n for c, n in colours.items() if c != (255, 255, 255))
    assert len(saturated) >= 3 and non_white > 2000, "the scatter grid shows too few coloured points"


@pytest.mark.slow
def test_snakemake_report_zip_holds_the_figures_with_captions(ci_suite: Path, tmp_path: Path) -> None:
    """`snakemake --report report.zip` (Snakemake's own report) contains every figure of the HTML report."""
    archive = tmp_path / "report.zip"
    proc = snakemake(ci_suite, 1, "--report", str(archive), timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    figures = sorted(p.name for p in (ci_suite / "reports" / "ci" / "figures").glob("*.png"))
    assert len(figures) >= 10
    with zipfile.ZipFile(archive) as z:
        names = z.namelist()
        pngs = {Path(n).name for n in names if n.endswith(".png")}
        assert set(figures) <= pngs, sorted(set(figures) - pngs)[:5]
        text = "".join(z.read(n).decode("utf-8", "replace") for n in names if n.endswith((".html", ".js")))
    assert "The full caption of every figure" in text  # workflow/report/figure.rst, rendered per figure
    assert "local shape RW-1WD scores" in text  # the E1 scatter's caption


@pytest.mark.slow
def test_report_reruns_only_when_results_change(ci_suite: Path) -> None:
    def jobs(*extra: str) -> set[str]:
        proc = snakemake(ci_suite, 1, "-n", *extra, timeout=300)
        assert proc.returncode == 0, proc.stderr[-2000:]
        out = proc.stdout + proc.stderr
        return set(re.findall(r"^(?:local)?rule (\w+):", out, flags=re.M))

    assert jobs() == set()  # nothing changed: nothing to do (params=CFG causes no spurious rerun)
    assert jobs("--forcerun", "report") == {"report", "all"}  # regenerating the report alone
    metrics = ci_suite / "results" / "ci" / "dino-grid-0.1" / "rpd-std" / "metrics.csv"  # every seed's rows
    losses = metrics.parent / "train" / "seed0" / "losses.npz"
    train_stamp = metrics.parent / "train" / ".snakemake_timestamp"  # the train/ directory output's time
    sample = metrics.parent / "samples" / "seed0" / "ddim-K10.npz"
    stamp = metrics.parent / "samples" / ".snakemake_timestamp"  # the samples/ directory output's time, as its job leaves it
    saved = {p: (p.read_bytes(), p.stat()) for p in (metrics, losses, train_stamp, sample, stamp)}
    try:
        metrics.write_bytes(saved[metrics][0] + b"\n")  # changed content, as a re-evaluation would
        assert jobs() == {"collect", "report", "all"}
    finally:
        for p, (data, st) in saved.items():
            p.write_bytes(data)
            os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))
    try:
        # a loss curve rewritten, as its run set's training job would (stamping the train/ directory output, the
        # unit Snakemake tracks): everything that reads the trained runs reruns, the report too, and nothing
        # upstream (the prior's training) does
        losses.write_bytes(saved[losses][0] + b"\0")
        os.utime(train_stamp)
        ran = jobs()
        assert {"sample_model", "evaluate", "report"} <= ran <= {"sample_model", "evaluate", "progress", "elbo",
                                                                 "collect", "report", "all"}, ran
    finally:
        for p in (losses, train_stamp):
            data, st = saved[p]
            p.write_bytes(data)
            os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))
    try:
        # one sample file rewritten, as its sampling job would (which also stamps the samples/ directory output,
        # the unit Snakemake tracks): the report re-renders; evaluation reruns too (it scores the samples), and
        # nothing upstream (no training, no sampling) does
        sample.write_bytes(saved[sample][0] + b"\0")
        os.utime(stamp)
        ran = jobs()
        assert "report" in ran and ran <= {"evaluate", "collect", "report", "all"}, ran
    finally:
        for p in (sample, stamp):
            data, st = saved[p]
            p.write_bytes(data)
            os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert jobs() == set()
    # And actually regenerating it runs no training, sampling or evaluation job.
    proc = snakemake(ci_suite, 1, "--forcerun", "report", timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    ran = set(re.findall(r"^(?:local)?rule (\w+):", proc.stdout + proc.stderr, flags=re.M))
    assert ran == {"report", "all"}
