"""pytest hooks for `make mutation` (tests/conftest.py imports them; they do nothing outside mutmut's runs).

mutmut's statistics pass (which tests reach which function) marks itself with MUTANT_UNDER_TEST=stats, and every
mutated function then records its callers through mutmut's config, which it reads from the current folder. Jobs
that the tests start as subprocesses (Snakemake dry runs and suites, in temporary folders) inherit the variable
and fail there. Keep the mark inside this process only; while a mutant is tested, the variable stays exported so
that subprocesses run the mutant too.

mutmut times a test by its call alone and runs a mutant's tests fastest first, stopping at the first failure.
A test of the rendered report takes a hundredth of a second to call but needs its module's report built first
(30–50 s on a loaded 2-core machine), so a mutant of a statistics function would build three reports before
reaching the unit test that kills it in 0.1 s, and mutmut's timeout (a multiple of the call times) would stop a
surviving mutant and count it as killed. So: the statistics pass adds each test's setup time to its duration
(timeouts and order then follow the real cost), and in a mutant's run the tests that need a fixture built once
per module or session (a report, a trained model) run after the others, in mutmut's order within each group.

mutmut records which functions a test reaches between its start and its teardown. A fixture built once per
module or session (the synthetic report) runs its functions inside the first test that asks for it, so mutmut
tied every report-building function to that one test (1-3 tests per function of rpd/report/, measured
2026-11-30) and never ran the other tests that read the same report against their mutants. The statistics pass
therefore keeps what each shared fixture's setup reached and adds it to every test that uses the fixture.
"""

from __future__ import annotations

import os
import sys

import pytest

_COLLECTING_STATS = False
_REACHED_BY_FIXTURE: dict[object, set[str]] = {}  # shared fixture definition -> mutated functions its setup ran


def pytest_configure(config) -> None:
    """tests/conftest.py imports this hook; under mutmut it registers the module, so the hooks below run too."""
    global _COLLECTING_STATS
    me = sys.modules[__name__]
    if os.environ.get("MUTANT_UNDER_TEST") and not config.pluginmanager.is_registered(me):
        config.pluginmanager.register(me, "rpd-mutmut")  # pytest replays pytest_configure on it: a no-op below
    if os.environ.get("MUTANT_UNDER_TEST") == "stats":
        from mutmut.mutation import trampoline

        trampoline._mutant_under_test = os.environ.pop("MUTANT_UNDER_TEST")  # what the trampolines fall back to
        _COLLECTING_STATS = True


def _needs_a_shared_fixture(item: pytest.Item) -> bool:
    """Whether the test uses a fixture defined in a test module and built once per module, class or session."""
    info = getattr(item, "_fixtureinfo", None)
    defs = info.name2fixturedefs.values() if info is not None else ()
    return any(d.scope != "function" and d.baseid.endswith(".py") for chain in defs for d in chain)


def pytest_collection_modifyitems(session: pytest.Session, config, items: list[pytest.Item]) -> None:
    if os.environ.get("MUTANT_UNDER_TEST"):  # a mutant's (or the clean) run; unset outside mutmut
        items.sort(key=_needs_a_shared_fixture)  # stable: mutmut's fastest-first order within each group


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    yield
    if _COLLECTING_STATS and call.when == "setup":
        from mutmut.state import state

        state().duration_by_test[item.nodeid] += call.duration


def _shared_fixturedefs(item: pytest.Item) -> list:
    info = getattr(item, "_fixtureinfo", None)
    defs = info.name2fixturedefs.values() if info is not None else ()
    return [d for chain in defs for d in chain if d.scope != "function"]


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
