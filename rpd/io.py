"""File input and output of every job.

Output is atomic: written to a temporary file in the same folder, then renamed. An interrupted job therefore
leaves either the previous file or the complete new one, never a torn file that a later rule would read as
valid; a failed write (disk full, read-only folder) raises :class:`OutputWriteError` naming the file.
Input that is missing, truncated or corrupt raises :class:`DataFileError` naming the file and the fix.
"""

from __future__ import annotations

import errno
import json
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

REWRITE_HINT = "delete it and rerun the workflow (Snakemake recreates it from the job that writes it)"


class DataFileError(ValueError):
    """An input file is missing, truncated, corrupt or lacks an expected array; the message names the file."""


class OutputWriteError(OSError):
    """An output could not be written (disk full, folder not writable, ...); nothing was left at its path."""


def _write_problem(path: Path, err: OSError) -> OutputWriteError:
    """An :class:`OutputWriteError` naming ``path``, the reason and the fix."""
    hints = {
        errno.ENOSPC: "no space left on the device; free disk space (or run with --directory on a larger disk) "
                      "and rerun",
        errno.EDQUOT: "the disk quota is exceeded; free space and rerun",
        errno.EROFS: "the file system is read-only; run with --directory pointing to a writable folder",
        errno.EACCES: "permission denied; run with --directory pointing to a writable folder",
        errno.EPERM: "permission denied; run with --directory pointing to a writable folder",
        errno.ENOTDIR: "a parent of it is a file, not a folder; remove that file or choose another --directory",
        errno.EEXIST: "a parent of it is a file, not a folder; remove that file or choose another --directory",
    }
    reason = hints.get(err.errno, f"{err.strerror or err}; fix the cause and rerun")
    out = OutputWriteError(f"cannot write {path}: {reason}. Nothing was written to {path}.")
    out.errno = err.errno  # (strerror/filename stay unset: they would replace the message in str())
    return out


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it is fsynced and renamed onto ``path``."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
    except OSError as err:
        raise _write_problem(path, err) from err
    try:
        yield Path(tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600; outputs get the usual permissions
        os.replace(tmp, path)
    except OutputWriteError:
        raise
    except OSError as err:  # e.g. the disk filled up while writing: report it, keep no partial file
        raise _write_problem(path, err) from err
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: str | os.PathLike, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp_path)`` and move the result onto ``path`` atomically."""
    with atomic_path(path) as tmp:
        write(tmp)


def save_csv(path: str | os.PathLike, frame: object) -> None:
    """Write a pandas DataFrame as CSV without its index, atomically (pandas is not imported here: jobs that
    write no table do not pay for it)."""
    write_atomic(path, lambda p: frame.to_csv(p, index=False))


def save_json(path: str | os.PathLike, obj: object) -> None:
    """Write ``obj`` as indented JSON with sorted keys, atomically."""
    write_atomic(path, lambda p: p.write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n"))


def load_json(path: str | os.PathLike) -> dict:
    """Read a JSON file; a missing or unparsable file raises :class:`DataFileError` naming it."""
    path = Path(path)
    _require_file(path)
    try:
        with open(path) as f:
            return json.load(f)
    except (ValueError, UnicodeDecodeError) as err:
        raise DataFileError(f"{path} is not valid JSON ({err}); {REWRITE_HINT}") from err


def _require_file(path: Path) -> None:
    if not path.is_file():
        what = "is a folder, not a file" if path.is_dir() else "does not exist"
        raise DataFileError(f"input file {path} {what}; rerun the workflow so the job that writes it runs first")


class NpzArrays(dict):
    """The arrays of one ``.npz`` file; a missing array raises :class:`DataFileError` naming the file."""

    def __init__(self, path: Path, arrays: dict[str, np.ndarray]) -> None:
        super().__init__(arrays)
        self.path = path

    def __missing__(self, key: str) -> np.ndarray:
        raise DataFileError(f"{self.path} has no array {key!r} (it holds {sorted(self)}); {REWRITE_HINT}")


def save_npz(path: str | os.PathLike, **arrays: np.ndarray) -> None:
    """Write arrays to an uncompressed ``.npz`` atomically."""

    def write(p: Path) -> None:
        with open(p, "wb") as f:
            np.savez(f, **arrays)

    write_atomic(path, write)


def load_npz(path: str | os.PathLike) -> NpzArrays:
    """Read every array of an ``.npz`` written by :func:`save_npz` (no pickles allowed).

    A missing, truncated or corrupt file, or one holding pickled objects, raises :class:`DataFileError`.
    """
    path = Path(path)
    _require_file(path)
    try:
        data = np.load(path, allow_pickle=False)
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise ValueError("it holds a single .npy array, not an .npz archive")
        with data:
            return NpzArrays(path, {k: data[k] for k in data.files})
    except (ValueError, EOFError, OSError, zipfile.BadZipFile, KeyError, RuntimeError) as err:
        if isinstance(err, OSError) and err.errno == errno.EACCES:
            raise
        # ValueError also covers "Object arrays cannot be loaded when allow_pickle=False": refused, not unpickled.
        raise DataFileError(f"{path} is truncated or corrupt and cannot be read ({type(err).__name__}: {err}); "
                            f"{REWRITE_HINT}") from err
