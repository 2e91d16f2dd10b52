"""rpd.report.document: a section's summary table (Table.head) is the first rows of the full table, right-aligned
numbers and highlighted rows (e.g. a model failing the sanity thresholds) included."""

from __future__ import annotations

from rpd.report.document import Table


def test_a_summary_keeps_the_first_rows_their_classes_and_the_numeric_columns() -> None:
    full = Table("All rows.", ["model", "RW-1WD"], [["a", "0.1"], ["b", "0.2"], ["c", "0.3"]], [False, True],
                 ["", "bad", "muted"])
    head = full.head(2)
    assert head.rows == [["a", "0.1"], ["b", "0.2"]] and head.columns == ["model", "RW-1WD"]
    assert head.numeric == [False, True] and head.row_classes == ["", "bad"]
    assert head.caption == "All rows. First 2 of 3 rows; every row is in the full tables below."
    assert full.head(3) is full  # nothing left out: the table itself, its caption unchanged
    assert Table("t", ["x", "y"], [["1", "2"]]).numeric == [False, False]
