"""The filters every report takes, and the rows of the rollups a viewer may count.

Period: whole months of inquiry, ``from`` and ``to`` as YYYY-MM (both included; the last 12
months by default). Source, campaign, team, rep and product line narrow the leads counted;
``by`` says what the table's rows are. Visibility follows the lead list's: a rep counts only
their own leads, a manager the leads of their teams (owned by a member or a team queue) and
their own, marketers and admins every lead.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Any

from django.db.models import Q

from leadrefinery.accounts.models import Role, Team, User
from leadrefinery.common import config
from leadrefinery.leads.models import Campaign, CustomField, Source

from . import domain
from .models import Cell

if TYPE_CHECKING:
    from collections.abc import Sequence

BY_LABELS = {
    "source": "Source",
    "campaign": "Campaign",
    "month": "Month of inquiry",
    "team": "Team",
    "rep": "Rep",
    "product": "Product line",
}
# Rows by a custom field: "field:<name>" (reports/custom_group.py).
CUSTOM_BY = "field:"
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def by_label(by: str) -> str:
    """What a table's first column is called: "Source", ..., or a custom field's label."""
    if by.startswith(CUSTOM_BY):
        field = CustomField.objects.filter(name=by[len(CUSTOM_BY) :]).first()
        return field.label if field else by[len(CUSTOM_BY) :]
    return BY_LABELS[by]


def custom_bys() -> list[tuple[str, str]]:
    """(by, label) of every custom field, for the reports that can be grouped by one."""
    return [
        (f"{CUSTOM_BY}{name}", label)
        for name, label in CustomField.objects.values_list("name", "label")
    ]


MAX_MONTHS = 60


class FilterError(ValueError):
    """Filters that cannot be read: {field: [messages]}."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class Filters:
    start: date
    end: date  # the first day of the last month included
    source: int | None = None
    campaign: int | None = None
    team: int | None = None
    rep: int | None = None
    product: str | None = None
    by: str = "source"
    model: str = domain.Model.LINEAR.value

    @property
    def months(self) -> list[date]:
        out, m = [], self.start
        while m <= self.end:
            out.append(m)
            m = add_months(m, 1)
        return out

    def query(self, **changes: Any) -> dict[str, str]:
        """These filters as URL parameters (with ``changes``), for links and the CSV."""
        f = replace(self, **changes)
        out = {"from": f"{f.start:%Y-%m}", "to": f"{f.end:%Y-%m}", "by": f.by}
        for name in ("source", "campaign", "team", "rep", "product"):
            value = getattr(f, name)
            if value not in (None, ""):
                out[name] = str(value)
        if f.model != domain.Model.LINEAR:
            out["model"] = f.model
        return out

    def period_label(self) -> str:
        if self.start == self.end:
            return f"{self.start:%b %Y}"
        return f"{self.start:%b %Y} to {self.end:%b %Y}"


def add_months(d: date, n: int) -> date:
    total = d.year * 12 + d.month - 1 + n
    return date(total // 12, total % 12 + 1, 1)


def parse(
    params: Mapping[str, Any],
    *,
    today: date,
    default_by: str = "source",
    bys: Sequence[str] = (),
    months: int = 12,
    custom: bool = False,
) -> Filters:
    """Filters from URL or API parameters; FilterError names each field that cannot be read."""
    errors: dict[str, list[str]] = {}
    this_month = date(today.year, today.month, 1)

    def month(name: str, default: date) -> date:
        raw = str(params.get(name) or "").strip()
        if not raw:
            return default
        m = _MONTH.match(raw)
        if not m or not 1 <= int(m.group(2)) <= 12 or not 1900 <= int(m.group(1)) <= 9999:
            errors.setdefault(name, []).append(f"'{raw[:20]}' is not a month: use YYYY-MM")
            return default
        return date(int(m.group(1)), int(m.group(2)), 1)

    def number(name: str) -> int | None:
        raw = str(params.get(name) or "").strip()
        if not raw:
            return None
        if not raw.isdigit() or len(raw) > 12:
            errors.setdefault(name, []).append(f"'{raw[:20]}' is not an id")
            return None
        return int(raw)

    end = month("to", this_month)
    start = month("from", add_months(end, 1 - months))
    if start > end:
        errors.setdefault("from", []).append("the period starts after it ends")
    elif (end.year - start.year) * 12 + end.month - start.month >= MAX_MONTHS:
        errors.setdefault("from", []).append(f"a period is at most {MAX_MONTHS} months")
    by = str(params.get("by") or default_by)
    allowed = tuple(bys) or tuple(BY_LABELS)
    if custom and by.startswith(CUSTOM_BY):
        if by not in {b for b, _ in custom_bys()}:
            errors.setdefault("by", []).append(f"no custom field is named '{by[6:][:50]}'")
            by = default_by
    elif by not in allowed:
        more = ", or field:<a custom field's name>" if custom else ""
        errors.setdefault("by", []).append(f"choose one of: {', '.join(allowed)}{more}")
        by = default_by
    model = str(params.get("model") or domain.Model.LINEAR.value)
    if model not in {m.value for m in domain.Model}:
        errors.setdefault("model", []).append(
            f"choose one of: {', '.join(m.value for m in domain.Model)}"
        )
        model = domain.Model.LINEAR.value
    product = str(params.get("product") or "").strip() or None
    if product is not None and ("\x00" in product or len(product) > 120):
        errors.setdefault("product", []).append("not a product line")
        product = None
    filters = Filters(
        start=start,
        end=end,
        source=number("source"),
        campaign=number("campaign"),
        team=number("team"),
        rep=number("rep"),
        product=product,
        by=by,
        model=model,
    )
    if errors:
        raise FilterError(errors)
    return filters


@dataclass(frozen=True)
class Scope:
    """The rollup rows a viewer may count: those of ``users`` or of ``teams``."""

    users: tuple[int, ...] = ()
    teams: tuple[int, ...] = ()


def scope(user: User) -> Scope | None:
    """What ``user`` may count (None: every row)."""
    if not user.is_authenticated or not user.is_active:
        return Scope()
    if user.is_superuser or user.role in (Role.ADMIN, Role.MARKETER):
        return None
    if user.role == Role.MANAGER:
        return Scope(users=(user.pk,), teams=tuple(managed_team_ids(user)))
    return Scope(users=(user.pk,))


def managed_team_ids(user: User) -> list[int]:
    """The teams a manager counts (read once per user object: a dashboard asks many times)."""
    cached: list[int] | None = getattr(user, "_report_team_ids", None)
    if cached is None:
        ids = set(user.managed_teams.values_list("pk", flat=True))
        if user.team_id:
            ids.add(user.team_id)
        cached = sorted(ids)
        user._report_team_ids = cached  # type: ignore[attr-defined]
    return cached


def grain(filters: Filters, user: User, table: str, *, limited: bool | None = None) -> str:
    """The coarsest grain of ``table`` ("cell", "bucket", "credit") that has the dimensions
    these filters, their grouping and this viewer's visibility need (``limited``: whether
    the viewer's scope is limited, when the caller knows it already)."""
    dims = {_DIM_OF[filters.by]}
    dims |= {
        name for name in ("source", "campaign", "product") if getattr(filters, name) is not None
    }
    if filters.team is not None:
        dims.add("team")
    if filters.rep is not None:
        dims.add("user")
    if scope(user) is not None if limited is None else limited:
        dims |= {"user", "team"}
    return domain.grain_for(table, dims)


_DIM_OF = {"source": "source", "campaign": "campaign", "month": "month", "team": "team",
           "rep": "user", "product": "product"}  # fmt: skip


GROUP_COLUMN = {
    "source": "source_id",
    "campaign": "campaign_id",
    "month": "month",
    "team": "team_id",
    "rep": "user_id",
    "product": "product",
}


def name_of(by: str, key: Any, parts: Sequence[Any] | None) -> str:
    """What people read for group ``key`` of grouping ``by``: ``parts`` are the name's
    pieces as stored (a source's or team's name; a campaign's and its source's; a user's
    first name, last name and username), None when the key names nothing."""
    if by == "month":
        return f"{key:%Y-%m}"
    if by == "product":
        return str(key or "(no product line)")
    if parts is None or parts[0] is None:
        return _NONE_LABEL[by] if key in (None, 0, "") else f"#{key}"
    if by == "campaign":
        return f"{parts[0]} ({parts[1]})"
    if by == "rep":
        return f"{parts[0]} {parts[1]}".strip() or str(parts[2])
    return str(parts[0])


def _load_names() -> dict[str, dict[int, tuple[Any, ...]]]:
    return {
        "source": {pk: (name,) for pk, name in Source.objects.values_list("pk", "name")},
        "campaign": {
            pk: (name, source)
            for pk, name, source in Campaign.objects.values_list("pk", "name", "source__name")
        },
        "team": {pk: (name,) for pk, name in Team.objects.values_list("pk", "name")},
        "rep": {
            pk: (first, last, username)
            for pk, first, last, username in User.objects.values_list(
                "pk", "first_name", "last_name", "username"
            )
        },
    }


_NONE_LABEL = {
    "source": "(no source)",
    "campaign": "(no campaign)",
    "team": "(no team)",
    "rep": "(a queue)",
}


def labels(by: str, keys: Sequence[Any]) -> dict[Any, str]:
    """What people read for each group key (names, not ids). The names of sources,
    campaigns, teams and users are configuration: read from the per-process cache, which a
    change to any of them renews. (The first read of most reports brings its groups' names
    itself: ``queries.Groups``.)"""
    if by in ("month", "product") or by.startswith(CUSTOM_BY):
        return {k: name_of(by, k, None) if not by.startswith(CUSTOM_BY) else str(k) for k in keys}
    names = config.get("reports:names", _load_names)[by]
    return {k: name_of(by, k, names.get(k)) for k in keys}


def choices(user: User) -> dict[str, list[tuple[str, str]]]:
    """The options of the filter form (a rep is offered only themselves as rep)."""
    reps = User.objects.filter(is_active=True, role__in=[Role.REP, Role.MANAGER])
    teams = Team.objects.all()
    if scope(user) is not None:
        if user.role == Role.MANAGER:
            team_ids = managed_team_ids(user)
            reps = reps.filter(Q(team_id__in=team_ids) | Q(pk=user.pk))
            teams = teams.filter(pk__in=team_ids)
        else:
            reps = reps.filter(pk=user.pk)
            teams = teams.filter(pk=user.team_id or 0)
    products = (
        Cell.objects.filter(grain="f")
        .exclude(product="")
        .order_by()
        .values_list("product", flat=True)
    )
    products = products.distinct()[:200]
    return {
        "source": [(str(pk), name) for pk, name in Source.objects.values_list("pk", "name")],
        "campaign": [
            (str(pk), f"{name} ({source})")
            for pk, name, source in Campaign.objects.values_list("pk", "name", "source__name")
        ],
        "team": [(str(pk), name) for pk, name in teams.values_list("pk", "name")],
        "rep": [
            (str(pk), f"{first} {last}".strip() or username)
            for pk, first, last, username in reps.order_by("first_name", "username").values_list(
                "pk", "first_name", "last_name", "username"
            )
        ],
        "product": [(p, p) for p in sorted(set(products))],
    }
