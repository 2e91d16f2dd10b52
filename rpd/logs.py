"""Job logs: everything a job prints to stderr also goes to its log file beside its outputs."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO


class _Tee:
    def __init__(self, *streams: TextIO) -> None:
        self.streams = streams

    def write(self, text: str) -> int:
        for s in self.streams:
            s.write(text)
            s.flush()
        return len(text)

    def flush(self) -> None:
        for s in self.streams:
            s.flush()


@contextmanager
def log_to(path: str | Path) -> Iterator[None]:
    """Tee stderr into ``path`` for the duration; an exception's traceback is logged before it propagates."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        original = sys.stderr
        sys.stderr = _Tee(original, f)
        try:
            yield
        except BaseException:
            f.write(traceback.format_exc())
            raise
        finally:
            sys.stderr = original


def say(message: str) -> None:
    """One progress line on stderr (and so in the job's log)."""
    print(message, file=sys.stderr, flush=True)
