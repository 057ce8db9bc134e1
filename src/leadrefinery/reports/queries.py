"""Hand-written SQL of the reports app: adding deltas to the rollups, and the reports' reads.

An upsert that adds (``INSERT ... ON CONFLICT (key) DO UPDATE SET n = n + excluded.n``) is one
statement per batch on both SQLite and PostgreSQL; the ORM has no way to say "add" on
conflict (``bulk_create(update_conflicts=True)`` overwrites). Rows are sorted by key, so two
sweeps that touch the same rows lock them in the same order and cannot deadlock.
tests/reports/test_rollup_property.py checks the result against a recomputation.

The reads are grouped sums over a few hundred or thousand rollup rows; the database answers in
a fraction of a millisecond, and building the same query with the ORM took 0.7 ms more
(bench/reports.py at 1M leads: ratios of 3 to 30 against the hand-written baseline).
tests/reports/test_queries.py checks each read against the ORM's answer.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from django.db import connection

from leadrefinery.accounts.models import Team
from leadrefinery.accounts.models import User as UserModel
from leadrefinery.common.db import column, placeholders, table
from leadrefinery.leads.models import Campaign, Source

from . import domain
from .filters import GROUP_COLUMN, Filters, grain, name_of, scope
from .models import DIM_COLUMNS, Bucket, Cell, CostEntry, Credit, CurrencyRate

if TYPE_CHECKING:
    from leadrefinery.accounts.models import User

_KEYS: dict[str, tuple[Any, tuple[str, ...]]] = {
    "cell": (Cell, DIM_COLUMNS),
    "bucket": (Bucket, ("kind", *DIM_COLUMNS, "key")),
    "credit": (Credit, ("model", *DIM_COLUMNS)),
}


def add_rows(kind: str, rows: Sequence[tuple[tuple[Any, ...], dict[str, float]]]) -> None:
    """Add each row's counters to the rollup row with its key (created at 0 when missing)."""
    if not rows:
        return
    model, keys = _KEYS[kind]
    counters = [
        f.name for f in model._meta.concrete_fields if not f.primary_key and f.name not in keys
    ]
    names = [*keys, *counters]
    t = table(model)
    sets = ", ".join(
        f"{column(model, c)} = {t}.{column(model, c)} + excluded.{column(model, c)}"
        for c in counters
    )
    sql = (
        f"INSERT INTO {t} ({', '.join(column(model, n) for n in names)}) "
        f"VALUES ({', '.join(['%s'] * len(names))}) "
        f"ON CONFLICT ({', '.join(column(model, k) for k in keys)}) DO UPDATE SET {sets}"
    )
    month = keys.index("month")
    adapt = connection.ops.adapt_datefield_value
    params = []
    for key, cols in sorted(rows, key=lambda r: tuple(str(k) for k in r[0])):
        values = list(key)
        values[month] = adapt(values[month])
        params.append([*values, *(cols.get(c, 0) for c in counters)])
    with connection.cursor() as cursor:
        for start in range(0, len(params), 1000):
            cursor.executemany(sql, params[start : start + 1000])


# --- Reads ------------------------------------------------------------------------------

_FILTERED = (
    ("source", "source_id"),
    ("campaign", "campaign_id"),
    ("team", "team_id"),
    ("rep", "user_id"),
    ("product", "product"),
)
_MODELS = tuple(m.value for m in domain.Model)


_TABLE_OF = {"cell": Cell, "bucket": Bucket, "credit": Credit}
CREDIT_FIELDS = ("inquiries", "leads", "opportunities", "pipeline", "revenue")


@functools.lru_cache(maxsize=512)
def _sql(kind: str, by: str, fields: tuple[str, ...], shape: tuple[Any, ...]) -> str:
    """The statement of one read; ``shape`` says which filters are set and how many users
    and teams the viewer's scope names. Built once per shape: quoting the column names cost
    more than the database's answer."""
    model = _TABLE_OF[kind]

    def c(name: str) -> str:
        return column(model, name)

    filtered, users, teams = shape
    where = [f"{c('grain')} = %s", f"{c('month')} >= %s", f"{c('month')} <= %s"]
    where += [f"{c(field)} = %s" for (_, field), on in zip(_FILTERED, filtered, strict=True) if on]
    if users is not None:
        either = [f"{c('user_id')} IN ({placeholders(range(users))})"] if users else []
        either += [f"{c('team_id')} IN ({placeholders(range(teams))})"] if teams else []
        where.append(f"({' OR '.join(either)})" if either else "1 = 0")
    g = c(GROUP_COLUMN[by])
    if kind == "cell":
        head, keys, extra = "", g, ""
        sums = ", ".join(f"SUM({c(f)})" for f in fields)
    elif kind == "bucket":
        head, keys, extra = "", f"{g}, {c('key')}", f"{c('kind')} = %s AND "
        sums = f"SUM({c('n')})"
    else:
        head, keys = f"{c('model')}, ", f"{c('model')}, {g}"
        extra = f"{c('model')} IN ({placeholders(_MODELS)}) AND "
        sums = ", ".join(f"SUM({c(f)})" for f in CREDIT_FIELDS)
    sql = (
        f"SELECT {head}{g}{', ' + c('key') if kind == 'bucket' else ''}, {sums} "
        f"FROM {table(model)} WHERE {extra}{' AND '.join(where)} GROUP BY {keys}"
    )
    return _named(sql, by) if kind == "cell" and by in _NAMED else sql


class Groups(dict[Any, dict[str, int]]):
    """Sums per group, with the groups' names when the read brought them (``names``)."""

    names: dict[Any, str]


def _named(inner: str, by: str) -> str:
    """``inner`` (grouped by the column of ``by``, first) with the pieces of each group's
    name as its last columns: the names come in the same round trip as the numbers."""
    g = column(Cell, GROUP_COLUMN[by])
    if by == "source":
        parts = [f"n.{column(Source, 'name')}"]
        join = f"LEFT JOIN {table(Source)} n ON n.{column(Source, 'id')} = q.{g}"
    elif by == "campaign":
        parts = [f"n.{column(Campaign, 'name')}", f"ns.{column(Source, 'name')}"]
        join = (
            f"LEFT JOIN {table(Campaign)} n ON n.{column(Campaign, 'id')} = q.{g} "
            f"LEFT JOIN {table(Source)} ns ON ns.{column(Source, 'id')} = "
            f"n.{column(Campaign, 'source')}"
        )
    elif by == "team":
        parts = [f"n.{column(Team, 'name')}"]
        join = f"LEFT JOIN {table(Team)} n ON n.{column(Team, 'id')} = q.{g}"
    else:
        parts = [f"n.{column(UserModel, f)}" for f in ("first_name", "last_name", "username")]
        join = f"LEFT JOIN {table(UserModel)} n ON n.{column(UserModel, 'id')} = q.{g}"
    return f"SELECT q.*, {', '.join(parts)} FROM ({inner}) q {join}"


_NAMED = {"source": 1, "campaign": 2, "team": 1, "rep": 3}  # pieces of a name


def _read(
    kind: str, user: User, filters: Filters, fields: tuple[str, ...], first: Sequence[Any]
) -> list[tuple[Any, ...]]:
    """Run the read of ``kind`` for these filters and this viewer (``first``: the values of
    the conditions before the WHERE's own: the bucket kind, the credit models)."""
    values = [getattr(filters, name) for name, _ in _FILTERED]
    seen = scope(user)
    shape = (
        tuple(v is not None for v in values),
        None if seen is None else len(seen.users),
        0 if seen is None else len(seen.teams),
    )
    adapt = connection.ops.adapt_datefield_value
    params = [
        *first,
        grain(filters, user, kind, limited=seen is not None),
        adapt(filters.start),
        adapt(filters.end),
    ]
    params += [v for v in values if v is not None]
    if seen is not None:
        params += [*seen.users, *seen.teams]
    with connection.cursor() as cursor:
        cursor.execute(_sql(kind, filters.by, fields, shape), params)
        return cursor.fetchall()  # type: ignore[no-any-return]


def _group(by: str, value: Any) -> Any:
    if by == "month" and isinstance(value, str):  # SQLite hands dates back as text
        return date.fromisoformat(value)
    return value


def cell_sums(user: User, filters: Filters, fields: Sequence[str]) -> Groups:
    """{group key: {field: sum}} over the cells these filters and this viewer count, with
    the groups' names (``Groups.names``)."""
    names = tuple(fields)
    rows = _read("cell", user, filters, names, ())
    by, n = filters.by, len(names)
    out = Groups()
    out.names = {}
    for row in rows:
        key = _group(by, row[0])
        # PostgreSQL sums a bigint as numeric: every counter is a whole number.
        out[key] = {f: int(v or 0) for f, v in zip(names, row[1 : 1 + n], strict=True)}
        out.names[key] = name_of(by, key, row[1 + n :] if by in _NAMED else None)
    return out


def bucket_counts(user: User, filters: Filters, kind: str) -> dict[Any, dict[str, int]]:
    """{group key: {bucket key: count}} for one histogram kind ("speed", "depth", "reason")."""
    out: dict[Any, dict[str, int]] = defaultdict(dict)
    for group, k, total in _read("bucket", user, filters, (), (kind,)):
        if total:
            out[_group(filters.by, group)][k] = int(total)
    return dict(out)


def credit_sums(user: User, filters: Filters) -> dict[str, dict[Any, dict[str, float]]]:
    """{model: {group key: {field: sum}}} for every attribution model, in one statement."""
    out: dict[str, dict[Any, dict[str, float]]] = {m: {} for m in _MODELS}
    for m, group, *values in _read("credit", user, filters, (), _MODELS):
        out[m][_group(filters.by, group)] = {
            f: float(v or 0.0) for f, v in zip(CREDIT_FIELDS, values, strict=True)
        }
    return out


def cost_sums(
    first: date, last: date, reporting: str, *, by: str, source: int | None, campaign: int | None
) -> tuple[dict[int, float], list[str]]:
    """Cost per source (``by`` "source") or campaign (0 for none) over the days ``first`` to
    ``last``, in the reporting currency: each live entry counted with the share of its days
    inside, at its currency's rate; and the currencies without a rate (their entries left
    out). One statement; the day arithmetic is the database's."""
    e, r = table(CostEntry), table(CurrencyRate)

    def c(name: str) -> str:
        return f"{e}.{column(CostEntry, name)}"

    starts, ends, rate = c("starts_on"), c("ends_on"), f"{r}.{column(CurrencyRate, 'rate')}"
    if connection.vendor == "postgresql":
        inside = f"(LEAST({ends}, %s::date) - GREATEST({starts}, %s::date) + 1)"
        days = f"({ends} - {starts} + 1)"
        real = "DOUBLE PRECISION"
    else:
        real = "REAL"
        inside = f"(julianday(MIN({ends}, %s)) - julianday(MAX({starts}, %s)) + 1)"
        days = f"(julianday({ends}) - julianday({starts}) + 1)"
    code = f"COALESCE(NULLIF(UPPER({c('currency')}), ''), %s)"
    key = c("source_id") if by == "source" else f"COALESCE({c('campaign_id')}, 0)"
    missing = f"CASE WHEN {code} = %s OR {rate} IS NOT NULL THEN '' ELSE {code} END"
    sql = (
        f"SELECT {key}, {missing}, SUM(CAST({c('amount')} AS {real}) * "
        f"(CASE WHEN {code} = %s THEN 1 ELSE CAST({rate} AS {real}) END) * {inside} / {days}) "
        f"FROM {e} LEFT JOIN {r} ON {r}.{column(CurrencyRate, 'currency')} = "
        f"UPPER({c('currency')}) "
        f"WHERE {c('voided_at')} IS NULL AND {starts} <= %s AND {ends} >= %s"
    )
    adapt = connection.ops.adapt_datefield_value
    params: list[Any] = [reporting] * 5  # the currency checks of the SELECT
    params += [adapt(last), adapt(first), adapt(last), adapt(first)]
    if source is not None:
        sql += f" AND {c('source_id')} = %s"
        params.append(source)
    if campaign is not None:
        sql += f" AND {c('campaign_id')} = %s"
        params.append(campaign)
    sql += " GROUP BY 1, 2"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    out: dict[int, float] = {}
    unrated: set[str] = set()
    for group, unrated_code, total in rows:
        if unrated_code:
            unrated.add(unrated_code)
        elif total is not None:
            out[group] = out.get(group, 0.0) + float(total)
    return out, sorted(unrated)
