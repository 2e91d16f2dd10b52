"""The order of network sizes in the report: by parameter count, largest first.

Suites name their sizes freely (``networks``, ``prior_sizes``, ``image_networks``, ...), so a name says nothing
about how large a network is. The count comes from the ``parameters`` column of metrics.csv (the trainable
parameters each run's training summary recorded), which the report rule declares as input: ordering reads no
other file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

import pandas as pd


def size_parameters(rows: pd.DataFrame) -> dict[str, float]:
    """Median parameter count per size over ``rows`` (rows without a count are ignored)."""
    if rows.empty or "parameters" not in rows or "size" not in rows:
        return {}
    counts = pd.to_numeric(rows["parameters"], errors="coerce")
    known = rows.assign(_p=counts).dropna(subset=["_p"])
    return {str(size): float(p) for size, p in known.groupby("size")["_p"].median().items()}


def ordered_sizes(names: Iterable[str], rows: pd.DataFrame) -> list[str]:
    """``names`` largest network first, by their median parameter count in ``rows``.

    Sizes without a count in ``rows`` (not run yet) follow, in the order given (the config's order).
    """
    names = list(dict.fromkeys(names))
    counts = size_parameters(rows)
    return sorted(names, key=lambda s: (s not in counts, -counts.get(s, 0.0), names.index(s)))


def largest_size(names: Iterable[str], rows: pd.DataFrame) -> str:
    """The size a single-size verdict or figure uses: the largest network of ``names`` (see :func:`ordered_sizes`)."""
    return ordered_sizes(names, rows)[0]


def size_ranker(rows: pd.DataFrame, by: Sequence[str]) -> Callable[[Mapping[str, object]], int]:
    """A sort key for records with a ``size``: its place (largest network first) among the sizes of its group.

    A group is the records' values of the ``by`` columns (e.g. dataset and model: the sizes of one model on one
    dataset, so a prior's sizes and a denoiser's that share a name are each ordered by their own counts).
    """
    by = [c for c in by if c in rows]
    names = list(dict.fromkeys(rows["size"])) if "size" in rows else []
    orders: dict[tuple, list[str]] = {}

    def rank(record: Mapping[str, object]) -> int:
        key = tuple(record[c] for c in by)
        if key not in orders:
            group = rows[(rows[by] == pd.Series(key, index=by)).all(axis=1)] if by else rows
            orders[key] = ordered_sizes(names, group)
        order = orders[key]
        return order.index(record["size"]) if record["size"] in order else len(order)

    return rank
