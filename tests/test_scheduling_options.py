"""`make run` and the local profile pass Snakemake the same scheduling options (issue 14: they spare Snakemake's
own process most of its CPU time; the reasons are in workflow/profiles/local/profile.yaml)."""

from __future__ import annotations

import re
import shlex

import yaml

from suite import REPO


def _makefile_options() -> dict[str, str]:
    line = re.search(r"^SCHEDULING := (.*)$", (REPO / "Makefile").read_text(), re.M).group(1)
    words = shlex.split(line)
    return {flag.removeprefix("--"): value for flag, value in zip(words[::2], words[1::2], strict=True)}


def test_make_run_and_the_local_profile_schedule_alike():
    profile = yaml.safe_load((REPO / "workflow" / "profiles" / "local" / "profile.yaml").read_text())
    options = _makefile_options()
    assert options == {"scheduler": "greedy", "max-jobs-per-timespan": "1000/10s"}
    assert {key: str(profile[key]) for key in options} == options
    run = re.search(r"^run:.*\n((?:\t.*\n)+)", (REPO / "Makefile").read_text(), re.M).group(1)
    assert "$(SCHEDULING)" in run
