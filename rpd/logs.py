"""Job logs: everything a job prints to stderr also goes to its log file beside its outputs."""

from __future__ import annotations

import os
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


#: First line of every job log: the job's start-up (benchmarks/perf/suite_time.py sums these over a suite).
STARTUP_PREFIX = "job start-up:"


def seconds_since_process_start() -> float | None:
    """Wall seconds since this process started, from the kernel's clock ticks (None off Linux).

    /proc/uptime and the process's start tick share one clock with 10 ms resolution (psutil's create_time adds
    the boot time, rounded to the second, which would blur a start-up of a few seconds).
    """
    try:
        with open("/proc/self/stat") as f:
            start_ticks = int(f.read().rsplit(")", 1)[1].split()[19])  # field 22, starttime
        with open("/proc/uptime") as f:
            uptime = float(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return uptime - start_ticks / os.sysconf("SC_CLK_TCK")


@contextmanager
def log_to(path: str | Path) -> Iterator[None]:
    """Tee stderr into ``path`` for the duration; an exception's traceback is logged before it propagates.

    A job script enters this right after its imports, so the log's first line is the job's start-up: seconds
    from process start (Snakemake's script wrapper, the interpreter, the imports) to its first operation.
    """
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    startup = seconds_since_process_start()
    with open(path, "w") as f:
        if startup is not None:
            f.write(f"{STARTUP_PREFIX} {startup:.2f} s from process start to the job's first operation\n")
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
