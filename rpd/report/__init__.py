"""The suite's HTML report (SPEC §5): :func:`render_report` writes ``reports/<suite>/index.html`` and its figures.

Imported lazily: the Snakefile imports :mod:`rpd.report.inputs` (what the report rule declares) without
loading matplotlib or the section builders.
"""

from __future__ import annotations

__all__ = ["render_report", "ReportInputs"]


def __getattr__(name: str):
    if name == "render_report":
        from rpd.report.render import render_report

        return render_report
    if name == "ReportInputs":
        from rpd.report.inputs import ReportInputs

        return ReportInputs
    raise AttributeError(name)
