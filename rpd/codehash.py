"""A hash of the code a job runs, so that editing the ``rpd`` package reruns the jobs whose code changed.

Each rule passes ``code_hash(<its script>)`` as a param; Snakemake's default ``params`` rerun trigger then
reruns a job when the hash differs from the one recorded with its outputs.

What the hash covers, read from the source with :mod:`ast` (nothing is imported):

* the job script;
* every ``rpd`` module the job imports (module-level imports, followed through the modules they import, and
  the packages around them): the module's own top-level code, i.e. its text without the functions and
  classes the job cannot reach;
* the top-level functions and classes the job can reach: named in the script, then in whatever they name
  (``f``, ``module.f``, ``from rpd.x import f``, a re-export), and their imports inside functions (a module a
  job imports lazily counts, with what the importing function names of it). Decorated definitions (registered
  at import) and names used by top-level code count whenever their module is imported;
* the package data files those modules read (the Datasaurus table, the report templates, the schema).

So an edit inside an evaluation function reruns the jobs that can call it (evaluate, and sampling or training
jobs only if they reach that function), while the training jobs, which import the evaluation module only for
its constants, keep their results. An edit to a module no job imports reruns nothing; ``--rerun-triggers
mtime`` keeps old results whatever the code (README, "Code changes").
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import sys
import tempfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
#: Package data read by modules (module → data files, globbed under rpd/): edits to them change results too.
DATA_OF = {
    "rpd.data.grid": ["data/datasaurus.csv"],
    "rpd.config": ["schemas/*.yaml"],
    "rpd.report.render": ["report/templates/*.j2", "report/*.css", "report/*.md"],
}
DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
Chain = tuple[str, ...]  # a name and the attributes read from it: ``V.first_size`` → ("V", "first_size")


def module_file(name: str, package: Path = PACKAGE_DIR) -> Path | None:
    """The source file of an ``rpd`` module or package (None for a name that is not one, e.g. an attribute)."""
    parts = name.split(".")[1:]
    base = package.joinpath(*parts)
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


@dataclass(frozen=True)
class Source:
    """What one file binds, defines and names, as the reachability walk needs it."""

    text: str
    #: name → (module, attribute or None) for every ``rpd`` import in the file (top level or inside functions)
    bindings: dict[str, tuple[str, str | None]]
    #: top-level function and class name → (first line, last line), decorators included
    definitions: dict[str, tuple[int, int]]
    #: modules imported and names used by code that runs on import (top-level code, decorated definitions)
    top_imports: frozenset[str]
    top_names: frozenset[Chain]
    #: per top-level definition: the modules it imports inside and the names it uses
    def_imports: dict[str, frozenset[str]] = field(default_factory=dict)
    def_names: dict[str, frozenset[Chain]] = field(default_factory=dict)


def _scan(node: ast.AST, bindings: dict[str, tuple[str, str | None]]) -> tuple[frozenset[str], frozenset[Chain]]:
    """The ``rpd`` modules imported under ``node`` (absolute imports; with each ``from`` import's names, which may be
    submodules: the walk keeps those that are) and every name used, each with the attributes read from it.

    Records the names the imports bind in ``bindings``. One pass over the tree: the parse is most of a hash's cost.
    """
    modules, names = set(), set()
    for n in ast.walk(node):
        if isinstance(n, ast.Name):
            names.add((n.id,))
        elif isinstance(n, ast.Attribute):
            attrs, base = [], n
            while isinstance(base, ast.Attribute):
                attrs.append(base.attr)
                base = base.value
            if isinstance(base, ast.Name):
                names.add((base.id, *reversed(attrs)))
        elif isinstance(n, ast.Import):
            for a in n.names:
                if a.name == "rpd" or a.name.startswith("rpd."):
                    modules.add(a.name)
                    bound = a.asname or a.name.split(".")[0]
                    bindings[bound] = (a.name if a.asname else bound, None)
        elif isinstance(n, ast.ImportFrom) and n.module and n.level == 0:
            if n.module == "rpd" or n.module.startswith("rpd."):
                modules.add(n.module)
                modules |= {f"{n.module}.{a.name}" for a in n.names}
                for a in n.names:
                    bindings[a.asname or a.name] = (n.module, a.name)
    return frozenset(modules), frozenset(names)


def _is_definition(node: ast.stmt) -> bool:
    return isinstance(node, DEFINITIONS)


def read_source(path: Path) -> Source:
    """The parsed :class:`Source` of a file (cached per file version: rules share most modules)."""
    stat = path.stat()
    return _read(path, stat.st_mtime_ns, stat.st_size)


@cache
def _read(path: Path, mtime_ns: int, size: int) -> Source:
    data = path.read_bytes()
    text = data.decode("utf-8")
    key = hashlib.sha256(_parser_key() + data).hexdigest()
    stored = _load_parsed(path, key)
    if stored is not None:
        return _from_json(text, stored)
    source = _parse(text, path)
    _store_parsed(path, key, _to_json(source))
    return source


# Parsed sources persist between processes: every Snakemake start (a dry run, each test's run) hashes each
# rule's code, and parsing the ~80 modules is most of that (0.3-0.6 CPU-s of a 3 s dry run). One cache file per
# source file name, used only for the same bytes: its key is the SHA-256 of the file, of this module's code and
# of the Python version, so an edit (or a new parser) is parsed afresh whatever the file's time stamps say.
def cache_dir() -> Path:
    """Where parsed sources are kept: $RPD_CODEHASH_CACHE, else $XDG_CACHE_HOME (~/.cache)/rpd-bench/codehash."""
    if os.environ.get("RPD_CODEHASH_CACHE"):
        return Path(os.environ["RPD_CODEHASH_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rpd-bench" / "codehash"


@cache
def _parser_key() -> bytes:
    return Path(__file__).read_bytes() + sys.version.encode() + b"\0"


def _cache_file(path: Path) -> Path:
    return cache_dir() / f"{path.parent.name}.{path.name}.json"


def _load_parsed(path: Path, key: str) -> dict | None:
    try:
        stored = json.loads(_cache_file(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return stored["source"] if isinstance(stored, dict) and stored.get("key") == key else None


def _store_parsed(path: Path, key: str, source: dict) -> None:
    """Write the entry atomically (parallel test workers share the cache); a read-only cache is skipped."""
    target = _cache_file(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=target.parent, suffix=".tmp", delete=False) as f:
            json.dump({"key": key, "source": source}, f)
        os.replace(f.name, target)
    except OSError:
        pass


def _to_json(src: Source) -> dict:
    return {
        "bindings": src.bindings,
        "definitions": src.definitions,
        "top_imports": sorted(src.top_imports),
        "top_names": sorted(src.top_names),
        "def_imports": {name: sorted(modules) for name, modules in src.def_imports.items()},
        "def_names": {name: sorted(chains) for name, chains in src.def_names.items()},
    }


def _from_json(text: str, data: dict) -> Source:
    def chains(values: list) -> frozenset[Chain]:
        return frozenset(tuple(c) for c in values)

    return Source(
        text,
        {name: (module, attr) for name, (module, attr) in data["bindings"].items()},
        {name: (first, last) for name, (first, last) in data["definitions"].items()},
        frozenset(data["top_imports"]),
        chains(data["top_names"]),
        {name: frozenset(modules) for name, modules in data["def_imports"].items()},
        {name: chains(values) for name, values in data["def_names"].items()},
    )


def _parse(text: str, path: Path) -> Source:
    tree = ast.parse(text, str(path))
    bindings: dict[str, tuple[str, str | None]] = {}
    top_imports, top_names, definitions, def_imports, def_names = set(), set(), {}, {}, {}
    for stmt in tree.body:
        if not _is_definition(stmt):
            modules, names = _scan(stmt, bindings)
            top_imports |= modules
            top_names |= names
            continue
        first = min([stmt.lineno, *(d.lineno for d in stmt.decorator_list)])
        definitions[stmt.name] = (first, stmt.end_lineno or stmt.lineno)
        def_imports[stmt.name], def_names[stmt.name] = _scan(stmt, bindings)
        if stmt.decorator_list:  # registered when the module is imported (e.g. @section): callable from then on
            top_names.add((stmt.name,))
    return Source(text, bindings, definitions, frozenset(top_imports), frozenset(top_names), def_imports, def_names)


def _parents(name: str) -> list[str]:
    """Importing ``rpd.a.b`` runs ``rpd/__init__.py`` and ``rpd/a/__init__.py`` first."""
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


class _Reach:
    """The walk: modules imported and (module, definition) pairs reachable from a script."""

    def __init__(self, package: Path) -> None:
        self.package = package
        self.modules: set[str] = set()
        self.definitions: set[tuple[str, str]] = set()
        self._files: dict[str, Path | None] = {}  # one walk asks about the same names thousands of times
        self._sources: dict[str, Source] = {}

    def file(self, module: str) -> Path | None:
        if module not in self._files:
            self._files[module] = module_file(module, self.package)
        return self._files[module]

    def source(self, module: str) -> Source:
        if module not in self._sources:
            self._sources[module] = read_source(self.file(module))
        return self._sources[module]

    def module(self, name: str) -> None:
        if name in self.modules or self.file(name) is None:
            return
        self.modules.add(name)
        src = self.source(name)
        for other in [*_parents(name), *src.top_imports]:
            self.module(other)
        for chain in src.top_names:
            self.name(name, src, chain)

    def name(self, module: str, src: Source, chain: Chain) -> None:
        """Follow a name used in ``module`` (whose source is ``src``) to the definition or module it denotes."""
        head, rest = chain[0], list(chain[1:])
        if head in src.definitions:
            if module:  # the script's own definitions are walked whole (see :meth:`script`)
                self.definition(module, head)
            return
        if head not in src.bindings:
            return
        target, attr = src.bindings[head]
        if attr is not None:
            if self.file(f"{target}.{attr}") is None:  # a function, class or constant
                self.module(target)
                self.name(target, self.source(target), (attr,))
                return
            target = f"{target}.{attr}"
        self.module(target)
        while rest and self.file(f"{target}.{rest[0]}") is not None:
            target = f"{target}.{rest.pop(0)}"
            self.module(target)
        if rest:
            self.name(target, self.source(target), (rest[0],))

    def definition(self, module: str, name: str) -> None:
        if (module, name) in self.definitions:
            return
        self.definitions.add((module, name))
        src = self.source(module)
        for other in src.def_imports[name]:
            self.module(other)
            for parent in _parents(other):
                self.module(parent)
        for chain in src.def_names[name]:
            self.name(module, src, chain)

    def script(self, path: Path) -> None:
        src = read_source(path)
        for name in src.top_imports | {m for d in src.def_imports.values() for m in d}:
            self.module(name)
        for chain in src.top_names | {c for d in src.def_names.values() for c in d}:
            self.name("", src, chain)


def _reach(script: Path, package: Path) -> _Reach:
    reach = _Reach(package)
    reach.script(Path(script))
    return reach


def reachable_modules(script: str | Path, package: Path = PACKAGE_DIR) -> list[str]:
    """Every ``rpd`` module the script imports: its imports, their imports, and the packages around them."""
    return sorted(_reach(Path(script), package).modules)


def reachable_definitions(script: str | Path, package: Path = PACKAGE_DIR) -> set[tuple[str, str]]:
    """The (module, top-level function or class) pairs the script can call."""
    return _reach(Path(script), package).definitions


def reached_text(module: str, reach: _Reach) -> str:
    """The module's text without the top-level definitions the job cannot reach."""
    src = reach.source(module)
    lines = src.text.splitlines(keepends=True)
    for name, (first, last) in src.definitions.items():
        if (module, name) not in reach.definitions:
            lines[first - 1:last] = [""] * (last - first + 1)
    return "".join(lines)


def code_hash(script: str | Path, package: Path = PACKAGE_DIR) -> str:
    """12 hex digits over the script, the code it reaches (module top levels and reachable definitions) and
    the data files of the modules it imports (paths and bytes).

    Computed afresh on each call (a workflow calls it once per rule): a cached value would outlive an edit.
    """
    script = Path(script)
    reach = _reach(script, package)
    digest = hashlib.sha256()
    digest.update(script.name.encode() + b"\0" + script.read_bytes() + b"\0")
    for name in sorted(reach.modules):
        label = module_file(name, package).relative_to(package).as_posix()
        digest.update(label.encode() + b"\0" + reached_text(name, reach).encode() + b"\0")
        for data in sorted(p for pattern in DATA_OF.get(name, []) for p in package.glob(pattern)):
            digest.update(data.relative_to(package).as_posix().encode() + b"\0" + data.read_bytes() + b"\0")
    return digest.hexdigest()[:12]
