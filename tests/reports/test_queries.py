"""The reports' hand-written reads (reports/queries.py) answer as the ORM would, for every
grouping, filter and viewer, on the small world of conftest.py."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

import pytest
from django.db.models import Q, Sum

from leadrefinery.reports import catalog, domain, queries
from leadrefinery.reports.filters import GROUP_COLUMN, Filters, grain, scope
from leadrefinery.reports.models import Bucket, Cell, Credit

pytestmark = pytest.mark.django_db

TODAY = date(2026, 3, 20)
FIELDS = ("leads", "inquiries", "won", "revenue", "pipeline", "touched", "speed_5m")


def orm_where(filters: Filters, user: Any, table: str) -> Q:
    q = Q(grain=grain(filters, user, table), month__gte=filters.start, month__lte=filters.end)
    for name, field in (("source", "source_id"), ("campaign", "campaign_id"),
                        ("team", "team_id"), ("rep", "user_id"), ("product", "product")):  # fmt: skip
        value = getattr(filters, name)
        if value is not None:
            q &= Q(**{field: value})
    seen = scope(user)
    if seen is not None:
        q &= Q(user_id__in=seen.users) | Q(team_id__in=seen.teams)
    return q


def orm_cells(user, filters):
    group = GROUP_COLUMN[filters.by]
    rows = (
        Cell.objects.filter(orm_where(filters, user, "cell"))
        .values(group)
        .annotate(**{f: Sum(f) for f in FIELDS})
    )
    return {r[group]: {f: r[f] or 0 for f in FIELDS} for r in rows}


def orm_buckets(user, filters, kind):
    group = GROUP_COLUMN[filters.by]
    out: dict[Any, dict[str, int]] = defaultdict(dict)
    for g, key, n in (
        Bucket.objects.filter(orm_where(filters, user, "bucket"), kind=kind)
        .values_list(group, "key")
        .annotate(Sum("n"))
    ):
        if n:
            out[g][key] = n
    return dict(out)


def orm_credits(user, filters):
    group = GROUP_COLUMN[filters.by]
    out: dict[str, dict[Any, dict[str, float]]] = {m.value: {} for m in domain.Model}
    fields = queries.CREDIT_FIELDS
    for r in (
        Credit.objects.filter(orm_where(filters, user, "credit"))
        .values("model", group)
        .annotate(**{f: Sum(f) for f in fields})
    ):
        out[r["model"]][r[group]] = {f: r[f] or 0.0 for f in fields}
    return out


def test_every_read_answers_as_the_orm_would(world, users):
    viewers = (users.admin, users.marketer, users.manager, users.rep, users.other_rep)
    params = (
        {},
        {"source": str(world.show.pk)},
        {"rep": str(users.rep.pk)},
        {"team": str(users.rep.team_id)},
        {"product": "nothing sold"},
        {"from": "2025-01", "to": "2025-12"},
    )
    checked = 0
    for by in ("source", "campaign", "month", "team", "rep", "product"):
        for extra in params:
            f = catalog.filters_for("funnel", {"by": by, **extra}, TODAY)
            for user in viewers:
                cells = queries.cell_sums(user, f, FIELDS)
                assert cells == orm_cells(user, f), (by, extra, user.username)
                for kind in ("speed", "depth", "reason"):
                    assert queries.bucket_counts(user, f, kind) == orm_buckets(user, f, kind)
                assert queries.credit_sums(user, f) == orm_credits(user, f)
                checked += bool(cells)
    assert checked > 50  # most cases do count something


def test_a_user_who_may_see_nothing_counts_nothing(world, users):
    users.rep.is_active = False
    f = catalog.filters_for("funnel", {}, TODAY)
    assert queries.cell_sums(users.rep, f, FIELDS) == {}
    assert queries.cell_sums(users.admin, f, FIELDS)


def orm_costs(filters: Filters) -> tuple[dict[Any, float], list[str]]:
    from datetime import timedelta
    from decimal import Decimal

    from leadrefinery.reports.filters import add_months
    from leadrefinery.reports.models import CostEntry, CurrencyRate

    first, last = filters.start, add_months(filters.end, 1) - timedelta(days=1)
    entries = CostEntry.objects.filter(
        voided_at__isnull=True, starts_on__lte=last, ends_on__gte=first
    )
    if filters.source is not None:
        entries = entries.filter(source_id=filters.source)
    rates = dict(CurrencyRate.objects.values_list("currency", "rate"))
    out: dict[Any, float] = defaultdict(float)
    missing = set()
    for e in entries:
        code = (e.currency or "USD").upper()
        rate = Decimal(1) if code == "USD" else rates.get(code)
        if rate is None:
            missing.add(code)
            continue
        inside = (min(e.ends_on, last) - max(e.starts_on, first)).days + 1
        share = inside / ((e.ends_on - e.starts_on).days + 1)
        out[e.source_id if filters.by == "source" else (e.campaign_id or 0)] += (
            float(e.amount * rate) * share
        )
    return dict(out), sorted(missing)


def test_costs_read_by_hand_equal_the_orm_reading(world, users, settings):
    from decimal import Decimal

    from django.utils import timezone

    from leadrefinery.reports.marketing import costs
    from leadrefinery.reports.models import CostEntry, CurrencyRate

    settings.REFINERY_REPORTING_CURRENCY = "USD"
    now = timezone.now()
    CurrencyRate.objects.create(currency="EUR", rate=Decimal("1.1"), updated_at=now)
    for amount, currency, starts, ends in (
        ("500.50", "eur", date(2026, 2, 15), date(2026, 3, 14)),
        ("70", "XYZ", date(2026, 3, 1), date(2026, 3, 1)),
        ("90", "", date(2025, 12, 1), date(2026, 1, 31)),
    ):
        CostEntry.objects.create(
            source=world.web, starts_on=starts, ends_on=ends, amount=Decimal(amount),
            currency=currency, created_at=now,
        )  # fmt: skip
    for params in ({}, {"from": "2026-03", "to": "2026-03"}, {"source": str(world.show.pk)},
                   {"by": "campaign"}, {"from": "2025-12", "to": "2026-02"}):  # fmt: skip
        f = catalog.filters_for("source-roi", params, TODAY)
        mine, missing = costs(f)
        theirs, their_missing = orm_costs(f)
        assert missing == their_missing
        assert mine.keys() == theirs.keys(), params
        assert all(abs(mine[k] - theirs[k]) < 1e-6 for k in mine), params
    assert costs(catalog.filters_for("source-roi", {}, TODAY))[1] == ["XYZ"]


def test_the_names_a_read_brings_are_the_names_of_the_configuration(world, users):
    from leadrefinery.reports.filters import labels

    for by in ("source", "campaign", "month", "team", "rep", "product"):
        f = catalog.filters_for("funnel", {"by": by}, TODAY)
        groups = queries.cell_sums(users.admin, f, FIELDS)
        assert groups and groups.names == labels(by, list(groups)), by
    assert (
        "Ron Rep"
        in queries.cell_sums(
            users.admin, catalog.filters_for("funnel", {"by": "rep"}, TODAY), FIELDS
        ).names.values()
    )
