"""One module per experiment family (E1–E8); importing this package registers every section builder."""

from rpd.report.sections import e1, e2, e3, e4, e5, e6, e7, e8  # noqa: F401
