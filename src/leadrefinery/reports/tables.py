"""Reading the rollups for a report: sums per group, histograms per group (one statement each,
hand-written in ``queries``), their totals, and the groups in the order a table shows them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from . import custom_group, queries
from .filters import Filters, labels
from .queries import Groups, credit_sums

if TYPE_CHECKING:
    from leadrefinery.accounts.models import User

__all__ = ["add_up", "bucket_counts", "cell_sums", "credit_sums", "ordered"]


def cell_sums(user: User, filters: Filters, fields: Sequence[str]) -> Groups:
    """{group key: {field: sum}} (``queries.cell_sums``; by a custom field, from the facts)."""
    if custom_group.field_name(filters.by) is None:
        return queries.cell_sums(user, filters, fields)
    cells, _ = custom_group.sums(user, filters)
    out = Groups({value: {f: row.get(f, 0) for f in fields} for value, row in cells.items()})
    out.names = {value: value for value in cells}
    return out


def bucket_counts(user: User, filters: Filters, kind: str) -> dict[Any, dict[str, int]]:
    """{group key: {bucket key: count}} (``queries.bucket_counts``; by a custom field, from
    the facts)."""
    if custom_group.field_name(filters.by) is None:
        return queries.bucket_counts(user, filters, kind)
    _, buckets = custom_group.sums(user, filters)
    return buckets.get(kind, {})


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
