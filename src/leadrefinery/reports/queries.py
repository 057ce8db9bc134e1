"""Hand-written SQL of the reports app: adding deltas to the rollups.

An upsert that adds (``INSERT ... ON CONFLICT (key) DO UPDATE SET n = n + excluded.n``) is one
statement per batch on both SQLite and PostgreSQL; the ORM has no way to say "add" on
conflict (``bulk_create(update_conflicts=True)`` overwrites). Rows are sorted by key, so two
sweeps that touch the same rows lock them in the same order and cannot deadlock.
tests/reports/test_rollup_property.py checks the result against a recomputation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection

from leadrefinery.common.db import column, table

from .models import DIM_COLUMNS, Bucket, Cell, Credit

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
