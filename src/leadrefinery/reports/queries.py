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

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from django.db import connection

from leadrefinery.common.db import column, placeholders, table

from . import domain
from .filters import GROUP_COLUMN, Filters, grain, scope
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


def _where(model: Any, kind: str, filters: Filters, user: User) -> tuple[str, list[Any]]:
    """WHERE over the rows of the grain that answers these filters, for this viewer."""
    adapt = connection.ops.adapt_datefield_value
    month = column(model, "month")
    sql = [f"{column(model, 'grain')} = %s", f"{month} >= %s", f"{month} <= %s"]
    params: list[Any] = [grain(filters, user, kind), adapt(filters.start), adapt(filters.end)]
    for name, field in _FILTERED:
        value = getattr(filters, name)
        if value is not None:
            sql.append(f"{column(model, field)} = %s")
            params.append(value)
    seen = scope(user)
    if seen is not None:
        either = []
        if seen.users:
            either.append(f"{column(model, 'user_id')} IN ({placeholders(seen.users)})")
            params.extend(seen.users)
        if seen.teams:
            either.append(f"{column(model, 'team_id')} IN ({placeholders(seen.teams)})")
            params.extend(seen.teams)
        sql.append(f"({' OR '.join(either)})" if either else "1 = 0")
    return " AND ".join(sql), params


def _group(by: str, value: Any) -> Any:
    if by == "month" and isinstance(value, str):  # SQLite hands dates back as text
        return date.fromisoformat(value)
    return value


def cell_sums(user: User, filters: Filters, fields: Sequence[str]) -> dict[Any, dict[str, int]]:
    """{group key: {field: sum}} over the cells these filters and this viewer count."""
    g = column(Cell, GROUP_COLUMN[filters.by])
    where, params = _where(Cell, "cell", filters, user)
    sums = ", ".join(f"SUM({column(Cell, f)})" for f in fields)
    sql = f"SELECT {g}, {sums} FROM {table(Cell)} WHERE {where} GROUP BY {g}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    # PostgreSQL sums a bigint as numeric: every counter is a whole number.
    return {
        _group(filters.by, row[0]): {f: int(v or 0) for f, v in zip(fields, row[1:], strict=True)}
        for row in rows
    }


def bucket_counts(user: User, filters: Filters, kind: str) -> dict[Any, dict[str, int]]:
    """{group key: {bucket key: count}} for one histogram kind ("speed", "depth", "reason")."""
    g = column(Bucket, GROUP_COLUMN[filters.by])
    key, n = column(Bucket, "key"), column(Bucket, "n")
    where, params = _where(Bucket, "bucket", filters, user)
    sql = (
        f"SELECT {g}, {key}, SUM({n}) FROM {table(Bucket)} "
        f"WHERE {column(Bucket, 'kind')} = %s AND {where} GROUP BY {g}, {key}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [kind, *params])
        rows = cursor.fetchall()
    out: dict[Any, dict[str, int]] = defaultdict(dict)
    for group, k, total in rows:
        if total:
            out[_group(filters.by, group)][k] = int(total)
    return dict(out)


CREDIT_FIELDS = ("inquiries", "leads", "opportunities", "pipeline", "revenue")


def credit_sums(user: User, filters: Filters) -> dict[str, dict[Any, dict[str, float]]]:
    """{model: {group key: {field: sum}}} for every attribution model, in one statement."""
    g = column(Credit, GROUP_COLUMN[filters.by])
    model = column(Credit, "model")
    where, params = _where(Credit, "credit", filters, user)
    sums = ", ".join(f"SUM({column(Credit, f)})" for f in CREDIT_FIELDS)
    sql = (
        f"SELECT {model}, {g}, {sums} FROM {table(Credit)} "
        f"WHERE {model} IN ({placeholders(_MODELS)}) AND {where} GROUP BY {model}, {g}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*_MODELS, *params])
        rows = cursor.fetchall()
    out: dict[str, dict[Any, dict[str, float]]] = {m: {} for m in _MODELS}
    for m, group, *values in rows:
        out[m][_group(filters.by, group)] = {
            f: float(v or 0.0) for f, v in zip(CREDIT_FIELDS, values, strict=True)
        }
    return out


def cost_entries(
    first: date, last: date, source: int | None, campaign: int | None
) -> list[tuple[int, int, date, date, float, str, float | None]]:
    """The live cost entries that overlap the days ``first`` to ``last``: (source, campaign or
    0, starts on, ends on, amount, currency, rate into the reporting currency or None)."""
    e, r = table(CostEntry), table(CurrencyRate)

    def c(name: str) -> str:
        return f"{e}.{column(CostEntry, name)}"

    sql = (
        f"SELECT {c('source_id')}, {c('campaign_id')}, {c('starts_on')}, {c('ends_on')}, "
        f"{c('amount')}, {c('currency')}, {r}.{column(CurrencyRate, 'rate')} "
        f"FROM {e} LEFT JOIN {r} ON {r}.{column(CurrencyRate, 'currency')} = UPPER({c('currency')}) "
        f"WHERE {c('voided_at')} IS NULL AND {c('starts_on')} <= %s AND {c('ends_on')} >= %s"
    )
    adapt = connection.ops.adapt_datefield_value
    params: list[Any] = [adapt(last), adapt(first)]
    if source is not None:
        sql += f" AND {c('source_id')} = %s"
        params.append(source)
    if campaign is not None:
        sql += f" AND {c('campaign_id')} = %s"
        params.append(campaign)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [
        (
            src,
            camp or 0,
            _day(starts),
            _day(ends),
            float(amount),
            currency or "",
            None if rate is None else float(rate),
        )
        for src, camp, starts, ends, amount, currency, rate in rows
    ]


def _day(value: Any) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value
