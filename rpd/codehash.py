"""A hash of the code a job runs, so that editing the ``rpd`` package reruns the jobs whose code changed.

Each rule passes ``code_hash(<its script>)`` as a param; Snakemake's default ``params`` rerun trigger then
reruns a job when the hash differs from the one recorded with its outputs. The hash covers the job script and
every ``rpd`` module it reaches through imports (read from the source with :mod:`ast`, including imports
inside functions, so a module a job imports lazily counts too), plus the package data files those modules
read (the Datasaurus table, the report templates, the schema). An edit to a module no stage imports reruns
nothing; ``--rerun-triggers mtime`` keeps old results whatever the code (README, "Code changes").
"""

from __future__ import annotations

import ast
import hashlib
from functools import cache
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
#: Package data read by modules (module → data files, globbed under rpd/): edits to them change results too.
DATA_OF = {
    "rpd.data.grid": ["data/datasaurus.csv"],
    "rpd.config": ["schemas/*.yaml"],
    "rpd.report.render": ["report/templates/*.j2", "report/*.css", "report/*.md"],
}


def module_file(name: str, package: Path = PACKAGE_DIR) -> Path | None:
    """The source file of an ``rpd`` module or package (None for a name that is not one, e.g. an attribute)."""
    parts = name.split(".")[1:]
    base = package.joinpath(*parts)
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def imported_modules(source: Path, package: Path = PACKAGE_DIR) -> frozenset[str]:
    """The ``rpd`` modules a source file imports anywhere in its body (``from rpd.x import y`` may name a module y)."""
    stat = source.stat()  # the parse is cached per file version: rules share most modules
    return _imports(source, stat.st_mtime_ns, stat.st_size, package)


@cache
def _imports(source: Path, mtime_ns: int, size: int, package: Path) -> frozenset[str]:
    found = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"), str(source))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name == "rpd" or a.name.startswith("rpd.")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "rpd" or node.module.startswith("rpd."):
                found.add(node.module)
                found |= {f"{node.module}.{a.name}" for a in node.names}
    return frozenset(m for m in found if module_file(m, package) is not None)


def _parents(name: str) -> list[str]:
    """Importing ``rpd.a.b`` runs ``rpd/__init__.py`` and ``rpd/a/__init__.py`` first."""
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def reachable_modules(script: Path, package: Path = PACKAGE_DIR) -> list[str]:
    """Every ``rpd`` module the script runs: its imports, their imports, and the packages around them."""
    seen: set[str] = set()
    todo = sorted(imported_modules(script, package))
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo += [m for m in imported_modules(module_file(name, package), package) | set(_parents(name)) if m not in seen]
    return sorted(seen)


def code_hash(script: str | Path, package: Path = PACKAGE_DIR) -> str:
    """12 hex digits over the script, the ``rpd`` modules it reaches and their data files (paths and bytes).

    Computed afresh on each call (a workflow calls it once per rule): a cached value would outlive an edit.
    """
    script = Path(script)
    files = [script]
    for name in reachable_modules(script, package):
        files.append(module_file(name, package))
        files += sorted(p for pattern in DATA_OF.get(name, []) for p in package.glob(pattern))
    digest = hashlib.sha256()
    for path in files:
        label = path.name if path == script else path.relative_to(package).as_posix()
        digest.update(label.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]
