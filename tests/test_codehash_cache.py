"""The parsed-source cache of rpd/codehash.py (kept between processes) changes no hash and never serves a
file's old parse after an edit, whatever its time stamps say."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from rpd import codehash
from suite import REPO

SCRIPTS = REPO / "workflow" / "scripts"


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("RPD_CODEHASH_CACHE", str(folder))
    codehash._read.cache_clear()
    yield folder
    codehash._read.cache_clear()


def _fresh_hashes(package: Path) -> dict[str, str]:
    codehash._read.cache_clear()
    return {s.name: codehash.code_hash(s, package) for s in sorted(SCRIPTS.glob("*.py"))}


def test_cached_parses_equal_fresh_ones_and_give_the_same_hashes(cache, tmp_path, monkeypatch):
    cold = _fresh_hashes(codehash.PACKAGE_DIR)
    assert len(list(cache.glob("*.json"))) > 50  # every module and script read was stored
    assert _fresh_hashes(codehash.PACKAGE_DIR) == cold  # now read from the cache files
    for path in [*codehash.PACKAGE_DIR.rglob("*.py"), *SCRIPTS.glob("*.py")]:
        codehash._read.cache_clear()
        assert codehash.read_source(path) == codehash._parse(path.read_text(encoding="utf-8"), path), path
    blocker = tmp_path / "not-a-folder"  # a cache that cannot be written only costs the parse
    blocker.write_text("")
    monkeypatch.setenv("RPD_CODEHASH_CACHE", str(blocker / "cache"))
    codehash._read.cache_clear()
    assert codehash.code_hash(SCRIPTS / "collect.py") == cold["collect.py"]


def test_an_edit_with_the_old_time_stamp_and_size_is_parsed_afresh(cache, tmp_path):
    package = tmp_path / "rpd"
    shutil.copytree(REPO / "rpd", package, ignore=shutil.ignore_patterns("__pycache__"))
    before = _fresh_hashes(package)
    target = package / "metrics" / "wasserstein.py"
    stat = target.stat()
    text = target.read_text()
    edited = text.replace("def ", "def _", 1)[:-1]  # renames the first function; the same length
    assert len(edited.encode()) == stat.st_size and edited != text
    target.write_text(edited)
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    after = _fresh_hashes(package)
    assert after["evaluate.py"] != before["evaluate.py"]
    assert after["train_model.py"] == before["train_model.py"]  # training does not reach the metrics
