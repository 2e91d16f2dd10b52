"""pytest hooks for `make mutation` (tests/conftest.py imports them; they do nothing outside mutmut's runs).

mutmut's statistics pass (which tests reach which function) marks itself with MUTANT_UNDER_TEST=stats, and every
mutated function then records its callers through mutmut's config, which it reads from the current folder. Jobs
that the tests start as subprocesses (Snakemake dry runs and suites, in temporary folders) inherit the variable
and fail there. Keep the mark inside this process only; while a mutant is tested, the variable stays exported so
that subprocesses run the mutant too.

mutmut times a test by its call alone and stops a mutant's run at its first failing test. A test that reads a
fixture built once per module or session (a report, trained models) takes a hundredth of a second to call, but
the first such test in a run builds the fixture (30–50 s for a rendered report on a loaded 2-core machine), and
mutmut's timeout (a multiple of the call times) stopped surviving mutants and counted them as killed. So the
statistics pass adds each test's setup time to its duration (timeouts and order then follow the real cost), and
a mutant's run orders its tests cheapest first, the tests of a module that share a module or class fixture as one
group costed by their sum. mutmut's fork server passes the tests in no particular order (its fork runner sorts them fastest
first, the fork server does not).

mutmut records which functions a test reaches between its start and its teardown. A fixture built once per
module or session (the synthetic report) runs its functions inside the first test that asks for it, so mutmut
tied every report-building function to that one test (1-3 tests per function of rpd/report/, measured
2026-11-30) and never ran the other tests that read the same report against their mutants. The statistics pass
therefore keeps what each shared fixture's setup reached and adds it to every test that uses the fixture.
"""

from __future__ import annotations

import gc
import os
import sys

import pytest

_COLLECTING_STATS = False
_REACHED_BY_FIXTURE: dict[object, set[str]] = {}  # shared fixture definition -> mutated functions its setup ran


def pytest_configure(config) -> None:
    """tests/conftest.py imports this hook; under mutmut it registers the module, so the hooks below run too."""
    global _COLLECTING_STATS
    me, mutant = sys.modules[__name__], os.environ.get("MUTANT_UNDER_TEST")
    if not mutant or config.pluginmanager.is_registered(me):
        return  # outside mutmut, or pytest replaying this hook on the module registered below
    config.pluginmanager.register(me, "rpd-mutmut")
    if mutant == "stats":
        from mutmut.mutation import trampoline

        trampoline._mutant_under_test = os.environ.pop("MUTANT_UNDER_TEST")  # what the trampolines fall back to
        _COLLECTING_STATS = True
    else:
        # A mutant's session runs in a child forked from mutmut's fork server, which holds torch and every test
        # module. Frozen, those objects are out of the collector's reach: a collection no longer touches (and so
        # copies) their pages. Measured on 386 mutants twice, side by side: 12-14% less worker time (2026-12-01).
        gc.freeze()


def _shared_fixturedefs(item: pytest.Item) -> list:
    """The fixtures the test uses that are built once per module, class or session."""
    info = getattr(item, "_fixtureinfo", None)
    defs = info.name2fixturedefs.values() if info is not None else ()
    return [d for chain in defs for d in chain if d.scope != "function"]


def _fixture_group(item: pytest.Item) -> str:
    """The test module, for a test using a module or class fixture (pytest tears it down when the next test is in
    another module or class); the test itself otherwise."""
    if any(d.scope in ("module", "class") for d in _shared_fixturedefs(item)):
        return item.nodeid.split("::")[0]
    return item.nodeid


def _seconds_in_stats(item: pytest.Item) -> float:
    """The test's time in mutmut's statistics (with its setup, see above); 0 before they exist."""
    from mutmut.state import state

    return state().duration_by_test.get(item.nodeid, 0.0)


def pytest_collection_modifyitems(session: pytest.Session, config, items: list[pytest.Item]) -> None:
    if not os.environ.get("MUTANT_UNDER_TEST"):  # set in a mutant's (or the clean) run only
        return
    # With -x, the cheapest tests first. Tests sharing a module or class fixture stay together (pytest rebuilds the
    # fixture if they are split), as a group costed by what it takes when all pass: the sum of their times, the
    # first one's setup (the build) included; fastest first within a group.
    seconds = {item.nodeid: _seconds_in_stats(item) for item in items}
    group = {item.nodeid: _fixture_group(item) for item in items}
    cost: dict[str, float] = {}
    for nodeid, name in group.items():
        cost[name] = cost.get(name, 0.0) + seconds[nodeid]
    items.sort(key=lambda item: (cost[group[item.nodeid]], group[item.nodeid], seconds[item.nodeid]))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    yield
    if _COLLECTING_STATS and call.when == "setup":
        from mutmut.state import state

        state().duration_by_test[item.nodeid] += call.duration


@pytest.hookimpl(hookwrapper=True)
def pytest_fixture_setup(fixturedef, request):
    """In the statistics pass, record apart what a module-, class- or session-scoped fixture's setup reaches."""
    if not _COLLECTING_STATS or fixturedef.scope == "function":
        yield
        return
    from mutmut.state import state

    outer, state()._stats = state()._stats, set()
    yield
    reached = state()._stats
    state()._stats = outer | reached
    _REACHED_BY_FIXTURE.setdefault(fixturedef, set()).update(reached)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem) -> None:
    """Before mutmut files this test's functions: add those of the shared fixtures it uses, built or reused."""
    if _COLLECTING_STATS:
        from mutmut.state import state

        for fixturedef in _shared_fixturedefs(item):
            state()._stats |= _REACHED_BY_FIXTURE.get(fixturedef, set())
