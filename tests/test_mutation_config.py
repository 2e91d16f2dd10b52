"""pyproject.toml [tool.mutmut]: what the mutation run leaves out must still exist, so that a rename of a test or
of a source line does not silently widen or narrow the run (README "Mutation testing")."""

from __future__ import annotations

import ast
import fnmatch
import os
import re
import tomllib

import pytest

from suite import REPO

MUTMUT = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["mutmut"]


def _options(flag: str) -> list[str]:
    args = MUTMUT["pytest_add_cli_args"]
    return [args[i + 1] for i, a in enumerate(args) if a == flag]


def _mutated_lines() -> list[str]:
    # mutmut matches only_mutate with fnmatch, whose * also crosses "/" (rpd/report/* takes rpd/report/judges/)
    files = [p for p in sorted(REPO.glob("rpd/**/*.py"))
             if any(fnmatch.fnmatch(p.relative_to(REPO).as_posix(), pattern) for pattern in MUTMUT["only_mutate"])]
    return [line.strip() for p in files for line in p.read_text().splitlines()]


@pytest.mark.parametrize("path", _options("--ignore"))
def test_each_ignored_test_file_exists(path: str) -> None:
    assert (REPO / path).is_file(), f"[tool.mutmut] ignores {path}, which does not exist"


@pytest.mark.parametrize("node", _options("--deselect"))
def test_each_deselected_test_exists(node: str) -> None:
    path, name = node.split("::")
    tree = ast.parse((REPO / path).read_text())
    names = {f.name for f in ast.walk(tree) if isinstance(f, ast.FunctionDef)}
    assert name in names, f"[tool.mutmut] deselects {node}: no such test"


PROSE = [p for p in MUTMUT["do_not_mutate_patterns"] if p.startswith(('^\\s*"', '^\\s*\\("'))]  # wording only


@pytest.mark.parametrize("pattern", [p for p in MUTMUT["do_not_mutate_patterns"] if p not in PROSE])
def test_each_equivalent_mutant_pattern_matches_exactly_one_mutated_line(pattern: str) -> None:
    hits = [line for line in _mutated_lines() if re.search(pattern, line)]
    assert len(hits) == 1, f"[tool.mutmut] pattern {pattern!r} matches {len(hits)} lines of the mutated modules"


def test_the_prose_pattern_leaves_out_only_lines_that_are_a_plain_string_with_words() -> None:
    """A line it skips must hold one string literal and nothing else (no code, no f-string expression)."""
    assert len(PROSE) == 2
    hits = [line for line in _mutated_lines() if any(re.search(p, line) for p in PROSE)]
    assert len(hits) > 50  # the captions and Methods text
    for line in hits:
        literal = line.rstrip(",) ") + (")" if line.startswith("(") else "")  # a Methods item: (heading, text
        strings = ast.literal_eval(literal)
        strings = strings if isinstance(strings, tuple) else (strings,)
        assert all(isinstance(text, str) for text in strings) and " " in strings[-1], line
    for code in ('f"N = {n} images"', 'x = "a b"', '("a", f"b {c}"', '(name, "a b"'):
        assert not any(re.search(p, code) for p in PROSE), code


def test_what_a_shared_fixture_reaches_counts_for_every_test_that_uses_it(tmp_path, monkeypatch) -> None:
    """tests/mutmut_plugin.py in mutmut's statistics pass: a session fixture's functions run inside the first test
    that asks for it; every test using the fixture must be tied to them, and a test without it must not."""
    from mutmut.state import state

    import mutmut_plugin

    monkeypatch.setattr(mutmut_plugin, "_COLLECTING_STATS", True)
    monkeypatch.setattr(mutmut_plugin, "_REACHED_BY_FIXTURE", {})
    reached: dict[str, set[str]] = {}

    class MutmutStats:  # what mutmut's statistics pass does when a test ends
        def pytest_runtest_teardown(self, item, nextitem) -> None:
            reached[item.name] = set(state()._stats)
            state()._stats.clear()

    (tmp_path / "test_shared.py").write_text(
        "import pytest\nfrom mutmut.state import state\n\n"
        "@pytest.fixture(scope='session')\ndef report():\n    state()._stats.add('render')\n\n"
        "def test_first(report):\n    state()._stats.add('table')\n\n"
        "def test_second(report):\n    pass\n\n"
        "def test_alone():\n    pass\n"
    )
    state()._stats.clear()
    code = pytest.main([str(tmp_path / "test_shared.py"), "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
                        "--rootdir", str(tmp_path)], plugins=[mutmut_plugin, MutmutStats()])
    assert code == 0
    assert reached == {"test_first": {"render", "table"}, "test_second": {"render"}, "test_alone": set()}


def test_a_mutants_tests_run_cheapest_first_with_a_shared_fixtures_tests_together(tmp_path, monkeypatch) -> None:
    """tests/mutmut_plugin.py in a mutant's run: mutmut's fork server passes the tests in a set's order, and -x stops
    at the first failure, so the cheapest run first; tests sharing a module fixture run together (pytest would
    rebuild it between them), costed by their sum, fastest first within."""
    from collections import defaultdict

    from mutmut.state import state

    import mutmut_plugin

    times = {"test_slow": 3.0, "test_a": 1.0, "test_b": 0.1, "test_fast": 0.2, "test_mid": 1.5}  # a + b = 1.1
    monkeypatch.setattr(state(), "duration_by_test",
                        defaultdict(float, {f"test_order.py::{name}": t for name, t in times.items()}))
    monkeypatch.setenv("MUTANT_UNDER_TEST", "rpd.x_f__mutmut_1")
    monkeypatch.setattr(mutmut_plugin.gc, "freeze", lambda: None)  # not this test process's heap
    ran: list[str] = []

    class Order:
        def pytest_runtest_logstart(self, nodeid, location) -> None:
            ran.append(nodeid.split("::")[1])

    (tmp_path / "test_order.py").write_text(
        "import pytest\n\n"
        "@pytest.fixture(scope='module')\ndef models():\n    return 1\n\n"
        "def test_slow():\n    pass\n\n"
        "def test_a(models):\n    pass\n\n"
        "def test_mid():\n    pass\n\n"
        "def test_b(models):\n    pass\n\n"
        "def test_fast():\n    pass\n"
    )
    code = pytest.main([str(tmp_path / "test_order.py"), "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
                        "--rootdir", str(tmp_path)], plugins=[mutmut_plugin, Order()])
    assert code == 0
    assert ran == ["test_fast", "test_b", "test_a", "test_mid", "test_slow"]


@pytest.mark.parametrize("mutant", ["stats", "rpd.x_f__mutmut_1"])
def test_a_session_under_mutmut_starts_through_the_conftest_import(tmp_path, mutant: str) -> None:
    """tests/conftest.py imports the plugin's pytest_configure, as here; mutmut marks its statistics pass and each
    mutant's run with MUTANT_UNDER_TEST. The statistics pass keeps the mark inside its process, a mutant's run
    exports it to subprocesses and freezes the forked heap; both sessions must start (an error here stops `make
    mutation` before any mutant runs)."""
    import subprocess
    import sys

    (tmp_path / "conftest.py").write_text(
        f"import sys\nsys.path.insert(0, {str(REPO / 'tests')!r})\nfrom mutmut_plugin import pytest_configure\n")
    (tmp_path / "test_mark.py").write_text(
        "import gc, os\nfrom mutmut.mutation import trampoline\nimport mutmut_plugin\n\n"
        "def test_mark():\n"
        f"    if {mutant!r} == 'stats':\n"
        "        assert 'MUTANT_UNDER_TEST' not in os.environ and trampoline._mutant_under_test == 'stats'\n"
        "        assert mutmut_plugin._COLLECTING_STATS and gc.get_freeze_count() == 0\n"
        "    else:\n"
        f"        assert os.environ['MUTANT_UNDER_TEST'] == {mutant!r} and not mutmut_plugin._COLLECTING_STATS\n"
        "        assert gc.get_freeze_count() > 0\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")} | {"MUTANT_UNDER_TEST": mutant}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
                           "-p", "no:xdist", "--rootdir", str(tmp_path), str(tmp_path / "test_mark.py")],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
