"""The suite's HTML report (SPEC §5): :func:`render_report` writes ``reports/<suite>/index.html`` and its figures."""

from rpd.report.render import SECTIONS, render_report, section

__all__ = ["SECTIONS", "render_report", "section"]
