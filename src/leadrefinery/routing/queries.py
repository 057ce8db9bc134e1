"""The raw SQL of routing's hot path: locking and reading the rotation counters of the teams an
intake batch may route to.

Column and table names come from the models' ``_meta``; callers pass values only.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from django.db import connection

from leadrefinery.common.db import placeholders

from .models import RoutingCounter


@functools.lru_cache(maxsize=256)  # one statement per count of values
def _lock_sql(vendor: str, teams: int) -> str:
    qn = connection.ops.quote_name
    meta = RoutingCounter._meta
    assert meta.pk is not None
    table, pk = qn(meta.db_table), qn(str(meta.pk.column))
    team = qn(str(meta.get_field("team").column))
    rotation = qn(str(meta.get_field("rotation_count").column))
    returning = ", ".join(qn(str(f.column)) for f in meta.concrete_fields)
    if vendor == "postgresql":
        # Rows are locked in id order, so two batches always take their common locks in the
        # same order and cannot deadlock.
        rows = (
            f"SELECT {pk} FROM {table} WHERE {team} IN ({placeholders(range(teams))}) "
            f"ORDER BY {pk} FOR UPDATE"
        )
        where = f"{pk} IN ({rows})"
    else:  # SQLite: the first write of the transaction holds the database's one write lock
        where = f"{team} IN ({placeholders(range(teams))})"
    return f"UPDATE {table} SET {rotation} = {rotation} WHERE {where} RETURNING {returning}"


def counters_locked(team_ids: Sequence[int]) -> list[RoutingCounter]:
    """The rotation counters of these teams, locked until the transaction ends, by id; the
    same rows as ``RoutingCounter.objects.filter(team__in=team_ids).order_by("id")``.

    One ``UPDATE ... RETURNING`` (a write that changes nothing) on both databases: it takes
    the row locks on PostgreSQL and the write lock on SQLite and hands back the rows, so two
    intakes routing to the same team at once take turns and the rotation stays fair.
    """
    if not team_ids:
        return []
    sql = _lock_sql(connection.vendor, len(team_ids))
    found = list(RoutingCounter.objects.raw(sql, list(team_ids)))
    return sorted(found, key=lambda c: c.pk)
