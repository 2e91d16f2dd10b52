"""`pip install .` (not editable) gives a package that validates suites from any directory; licence metadata.

The wheel is built offline from a copy of the sources (so the checkout gets no build/ folder) and installed
into a fresh venv without pip's network: its dependencies come from this environment through a .pth line,
which does not run this environment's editable-install hook, so `rpd` can only come from the wheel.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import textwrap
import venv
import zipfile
from pathlib import Path

import pytest

from suite import REPO


def run(*cmd: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, cwd=cwd, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


@pytest.fixture(scope="module")
def build(tmp_path_factory) -> tuple[Path, str]:
    """(the wheel, the build's log)."""
    tmp = tmp_path_factory.mktemp("build")
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "LICENSE"):
        shutil.copy(REPO / name, src / name)
    shutil.copytree(REPO / "rpd", src / "rpd", ignore=shutil.ignore_patterns("__pycache__"))
    log = run(sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", "--no-build-isolation", "--no-index",
              "-w", tmp / "dist", src).stdout
    wheel, = (tmp / "dist").glob("rpd_bench-*.whl")
    return wheel, log


@pytest.fixture(scope="module")
def installed(build, tmp_path_factory) -> Path:
    """The python of a fresh venv with the wheel installed (`pip install`, not editable)."""
    wheel, _ = build
    env = tmp_path_factory.mktemp("venv") / "venv"
    venv.create(env, with_pip=False)
    python = env / "bin" / "python"
    run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", "--quiet", wheel)
    site = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))").stdout.strip())
    (site / "deps.pth").write_text(sysconfig.get_path("purelib") + "\n")  # jsonschema, yaml, ... from here
    return python


def test_build_has_spdx_licence_and_no_setuptools_warning(build):
    wheel, log = build
    assert "Warning" not in log, [line for line in log.splitlines() if "Warning" in line]
    with zipfile.ZipFile(wheel) as z:
        metadata = z.read(next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))).decode()
        licence = next(n for n in z.namelist() if n.endswith(".dist-info/licenses/LICENSE"))
        assert z.read(licence).decode().startswith("MIT License")
    assert "License-Expression: MIT" in metadata.splitlines()


def test_wheel_ships_every_data_file_of_the_package(build):
    """Templates, CSVs, the schema: every non-Python file of rpd/ that git tracks is inside the wheel."""
    wheel, _ = build
    tracked = run("git", "ls-files", "rpd", cwd=REPO).stdout.split()
    data = {f for f in tracked if not f.endswith(".py")}
    assert "rpd/schemas/config.schema.yaml" in data
    with zipfile.ZipFile(wheel) as z:
        assert data <= set(z.namelist()), sorted(data - set(z.namelist()))


def test_installed_package_validates_a_suite_from_another_directory(installed, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copy(REPO / "benchmarks" / "ci.yaml", elsewhere / "my-suite.yaml")
    misspelt = (REPO / "benchmarks" / "ci.yaml").read_text().replace("seeds: [0]", "seed: [0]")
    (elsewhere / "bad.yaml").write_text(misspelt)
    script = textwrap.dedent("""
        import rpd, rpd.config, rpd.runs
        print(rpd.__file__)
        cfg = rpd.config.load_config("my-suite.yaml")
        print(cfg["suite"], cfg["kid"]["subsets"], len(rpd.runs.diffusion_runs(cfg)))
        try:
            rpd.config.load_config("bad.yaml")
        except rpd.config.ConfigError as err:
            print(err)
    """)
    out = run(installed, "-c", script, cwd=elsewhere).stdout.splitlines()
    assert Path(out[0]).is_relative_to(installed.parent.parent)  # the installed copy, not this checkout
    assert out[1].startswith("ci 100 ")  # validated, with the schema's defaults filled in
    assert "did you mean 'seeds'" in "\n".join(out[2:])


def test_workflow_schema_is_the_package_schema():
    """One schema file: the Snakemake-conventional path links to the one inside the package."""
    link = REPO / "workflow" / "schemas" / "config.schema.yaml"
    assert link.is_symlink() and link.resolve() == (REPO / "rpd" / "schemas" / "config.schema.yaml").resolve()
