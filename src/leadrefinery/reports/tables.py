"""Reading the rollups for a report: sums per group, histograms per group (one statement each,
hand-written in ``queries``), their totals, and the groups in the order a table shows them."""

from __future__ import annotations

from typing import Any

from .filters import labels
from .queries import bucket_counts, cell_sums, credit_sums

__all__ = ["add_up", "bucket_counts", "cell_sums", "credit_sums", "ordered"]


def add_up(groups: dict[Any, dict[str, Any]]) -> dict[str, Any]:
    """The total over all groups (numbers summed, nested histograms merged)."""
    out: dict[str, Any] = {}
    for cols in groups.values():
        for k, v in cols.items():
            out[k] = out.get(k, 0) + v
    return out


def ordered(by: str, groups: dict[Any, Any], weight: str | None = None) -> list[tuple[Any, str]]:
    """Group keys with their labels: months in order, others by ``weight`` (largest first),
    then by name."""
    known: dict[Any, str] = getattr(groups, "names", {})
    missing = [k for k in groups if k not in known]
    names = {**known, **labels(by, missing)} if missing else known
    keys = list(groups)
    if by == "month":
        keys.sort()
    else:
        keys.sort(key=lambda k: (-(groups[k].get(weight, 0) if weight else 0), names[k].lower()))
    return [(k, names[k]) for k in keys]
