"""Reading the rollups for a report: sums per group, histograms per group (one query each)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import Sum

from leadrefinery.accounts.models import User

from .domain import Model
from .filters import GROUP_COLUMN, Filters, labels, where
from .models import Bucket, Cell, Credit

TOTAL = "__total__"


def cell_sums(user: User, filters: Filters, fields: tuple[str, ...]) -> dict[Any, dict[str, int]]:
    """{group key: {field: sum}} over the cells these filters and this viewer count."""
    group = GROUP_COLUMN[filters.by]
    rows = (
        Cell.objects.filter(where(filters, user, "cell"))
        .order_by()
        .values(group)
        .annotate(**{f: Sum(f) for f in fields})
    )
    return {row[group]: {f: row[f] or 0 for f in fields} for row in rows}


def bucket_counts(user: User, filters: Filters, kind: str) -> dict[Any, dict[str, int]]:
    """{group key: {bucket key: count}} for one histogram kind ("speed", "depth", "reason")."""
    group = GROUP_COLUMN[filters.by]
    rows = (
        Bucket.objects.filter(where(filters, user, "bucket"), kind=kind)
        .order_by()
        .values_list(group, "key")
        .annotate(total=Sum("n"))
    )
    out: dict[Any, dict[str, int]] = defaultdict(dict)
    for g, key, n in rows:
        if n:
            out[g][key] = n
    return dict(out)


def credit_sums(user: User, filters: Filters) -> dict[str, dict[Any, dict[str, float]]]:
    """{model: {group key: {field: sum}}} for every attribution model, in one query."""
    group = GROUP_COLUMN[filters.by]
    fields = ("inquiries", "leads", "opportunities", "pipeline", "revenue")
    rows = (
        Credit.objects.filter(where(filters, user, "credit"))
        .order_by()
        .values("model", group)
        .annotate(**{f: Sum(f) for f in fields})
    )
    out: dict[str, dict[Any, dict[str, float]]] = {m.value: {} for m in Model}
    for row in rows:
        out[row["model"]][row[group]] = {f: row[f] or 0.0 for f in fields}
    return out


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
    names = labels(by, list(groups))
    keys = list(groups)
    if by == "month":
        keys.sort()
    else:
        keys.sort(key=lambda k: (-(groups[k].get(weight, 0) if weight else 0), names[k].lower()))
    return [(k, names[k]) for k in keys]
