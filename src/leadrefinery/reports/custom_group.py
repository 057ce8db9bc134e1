"""Reports grouped by a custom field (``by=field:<name>``): the rows are the field's values.

The rollups are kept by source, campaign, month, owner, team and product line; a company's own
fields are not among their dimensions (there can be any number of them, and their values
change on people and accounts without the leads changing). So a grouping by a field is read
from the per-lead facts instead (``LeadFact``, what each lead adds to the rollups): the leads
that arrived in the period (their ``received_at`` index) are read once, with the value of the
field on the lead, its person or its account, and each counted lead's contribution is added
to the row of its value, with the same filters and row visibility as every other report.

That reads every lead of the period, where the rollups read a few hundred rows:
docs/reports.md gives the cost measured (``bench/reports.py``).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from leadrefinery.leads.custom_fields import show
from leadrefinery.leads.models import CustomField

from . import domain
from .filters import Filters, add_months, scope
from .models import LeadFact

if TYPE_CHECKING:
    from leadrefinery.accounts.models import User

PREFIX = "field:"
NO_VALUE = "(no value)"
_PATH = {
    "lead": "lead__custom",
    "person": "lead__person__custom",
    "account": "lead__account__custom",
}


def field_name(by: str) -> str | None:
    """The custom field's name of a ``by`` like ``field:fleet_size`` (None for the others)."""
    return by[len(PREFIX) :] if by.startswith(PREFIX) else None


def field_of(by: str) -> CustomField | None:
    name = field_name(by)
    return CustomField.objects.filter(name=name).first() if name else None


def _counted(fact: domain.Fact, filters: Filters, seen: Any) -> bool:
    d = fact.dims
    if not filters.start <= d.month <= filters.end:
        return False
    wanted = (
        (filters.source, d.source),
        (filters.campaign, d.campaign),
        (filters.team, d.team),
        (filters.rep, d.user),
    )
    if any(want is not None and want != have for want, have in wanted):
        return False
    if filters.product is not None and filters.product != d.product:
        return False
    return seen is None or d.user in seen.users or d.team in seen.teams


def sums(user: User, filters: Filters) -> tuple[dict[str, dict[str, int]], dict[str, dict]]:
    """({value: {cell counter: sum}}, {bucket kind: {value: {bucket key: n}}}) of the leads
    these filters and this viewer count, grouped by the field's value as shown. Read once per
    user object and filters (a report asks for its sums and its histograms)."""
    memo: dict[Filters, Any] = user.__dict__.setdefault("_report_custom_sums", {})
    if filters not in memo:
        memo[filters] = _sums(user, filters)
    return memo[filters]  # type: ignore[no-any-return]


def _sums(user: User, filters: Filters) -> tuple[dict[str, dict[str, int]], dict[str, dict]]:
    field = field_of(filters.by)
    cells: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    buckets: dict[str, dict[str, dict[str, int]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(int))
    )
    if field is None:
        return {}, {}
    seen = scope(user)
    first = datetime(filters.start.year, filters.start.month, 1, tzinfo=UTC)
    after = add_months(filters.end, 1)
    rows = (
        LeadFact.objects.filter(
            fact__isnull=False,
            lead__received_at__gte=first,
            lead__received_at__lt=datetime(after.year, after.month, 1, tzinfo=UTC),
        )
        .values_list("fact", _PATH[field.applies_to])
        .iterator(chunk_size=5000)
    )
    for data, custom in rows:
        fact = domain.Fact.from_json(data)
        if not fact.counted or not _counted(fact, filters, seen):
            continue
        value = show((custom or {}).get(field.name)) or NO_VALUE
        for key, counters in domain.contributions(fact).items():
            if key[0] == "cell":
                row = cells[value]
                for name, amount in counters.items():
                    row[name] += int(amount)
            elif key[0] == "bucket":
                buckets[key[1]][value][key[-1]] += int(counters["n"])
    return {k: dict(v) for k, v in cells.items()}, {
        kind: {value: dict(hist) for value, hist in by_value.items()}
        for kind, by_value in buckets.items()
    }
