"""Shared fixtures: the `ci` suite run end to end once per test session (it takes minutes), reused by every
end-to-end test; a second run with 1 core, of a sub-DAG covering every rule kind, for the reproducibility test;
the report of the synthetic results tree of tests/test_report.py, rendered once per session for the report tests.

Both runs start in the background when the session starts (only if a collected test needs them), so they use
the cores the fast tests leave idle; the tests that need them wait for them.
"""

from __future__ import annotations

import fcntl
import os
import pickle
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from mutmut_plugin import pytest_configure  # noqa: F401  (only acts under `make mutation`)
from suite import IDENTITY_TARGETS, BackgroundRun


def _wanted(session: pytest.Session, fixture: str) -> bool:
    """Whether a collected (not deselected) test uses ``fixture``, directly or through another fixture."""
    return any(fixture in getattr(item, "fixturenames", ()) for item in session.items)


@pytest.fixture(scope="session", autouse=True)
def ci_runs(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """The `ci` runs this session needs, started at its first test: "cores2" (the whole suite, 2 cores) and
    "cores1" (IDENTITY_TARGETS, 1 core). Runs still going when the session ends are stopped."""
    runs: dict[str, BackgroundRun] = {}
    if _wanted(request.session, "two_runs"):
        runs["cores1"] = BackgroundRun(tmp_path_factory.mktemp("ci_cores1"), 1, IDENTITY_TARGETS)
    if _wanted(request.session, "ci_suite") and not os.environ.get("RPD_CI_SUITE_DIR"):
        runs["cores2"] = BackgroundRun(tmp_path_factory.mktemp("ci_cores2"), 2)
    yield runs
    for run in runs.values():
        run.stop()


@pytest.fixture(scope="session")
def ci_suite(ci_runs: dict) -> Path:
    """A finished `ci` suite run with 2 cores (results/ci, reports/ci). Tests must leave it as they found it.

    RPD_CI_SUITE_DIR names an existing finished run to reuse instead (for iterating on the tests locally).
    """
    if os.environ.get("RPD_CI_SUITE_DIR"):
        return Path(os.environ["RPD_CI_SUITE_DIR"])
    return ci_runs["cores2"].wait()


@pytest.fixture(scope="session")
def two_runs(ci_suite: Path, ci_runs: dict) -> tuple[Path, Path]:
    """The 2-core run of the whole suite and the 1-core run of IDENTITY_TARGETS (working folders)."""
    return ci_suite, ci_runs["cores1"].wait()


@dataclass(frozen=True)
class SyntheticReport:
    """The synthetic report: its page, the config and results tree it came from, and what each figure draws."""

    html: Path
    text: str
    cfg: dict
    results: Path
    drawn: dict[str, list[dict]]  # figure file name → per axes: title, lines, points, images


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the modules reading the synthetic report first (in their own order, so module fixtures stay set up
    once). Under `make test-fast` pytest-xdist hands each worker a block of the first tests (a quarter of its
    share), so these few tests land on one worker, which renders the report while the other runs other tests;
    spread over both, one worker sat idle on synthetic_report's lock while the other rendered (tens of seconds).
    (`--dist loadgroup` would say it directly, but pytest-xdist 3.8 cannot group under pytest 9.)"""
    readers = {item.path for item in items if "synthetic_report" in getattr(item, "fixturenames", ())}
    items.sort(key=lambda item: item.path not in readers)  # stable: every other test keeps its place


@pytest.fixture(scope="session")
def synthetic_report(tmp_path_factory: pytest.TempPathFactory) -> SyntheticReport:
    """tests/test_report.py's synthetic results tree and its report, rendered once (tens of seconds) for every
    test that reads it (test_report, test_report_html, test_report_figures). Tests must not change it.

    Under pytest-xdist (make test-fast) the workers share one rendering: the first renders it into the folder
    all workers' temporary folders sit in, under a lock; the others wait for it and read it.
    """
    from test_report import _config, _results_tree
    from test_report_figures import render_capturing

    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    root, cfg = shared / "synthetic_report", _config()
    html, drawn_file = root / "reports" / "t" / "index.html", root / "drawn.pickle"
    with open(shared / "synthetic_report.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not drawn_file.exists():
            results = _results_tree(root, cfg).parent
            drawn_file.write_bytes(pickle.dumps(render_capturing(results, cfg, html.parent)))
    drawn = pickle.loads(drawn_file.read_bytes())
    return SyntheticReport(html, html.read_text(encoding="utf-8"), cfg, root / "results" / "t", drawn)
