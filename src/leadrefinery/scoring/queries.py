"""The raw SQL of scoring's hot path: a lead's engagement history and its locked score row,
read in every intake from a known person and every tracking batch.

Column and table names come from the models' ``_meta``; callers pass values only.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime

from django.db import connection, models

from leadrefinery.common.db import column, placeholders, read_raw, select_columns, table

from .models import LeadScore, ScoreLog


def _col(model: type[models.Model], name: str) -> str:
    return "t." + column(model, name)


@functools.lru_cache(maxsize=256)  # one statement per count of values
def _logs_sql(vendor: str, n: int, since: bool) -> str:
    where = [
        f"{_col(ScoreLog, 'lead')} IN ({placeholders(range(n))})",
        f"{_col(ScoreLog, 'axis')} = %s",
        f"{_col(ScoreLog, 'event_type')} <> %s",
    ]
    if since:
        where += [
            f"{_col(ScoreLog, 'occurred_at')} >= %s",
            f"{_col(ScoreLog, 'rule')} IS NOT NULL",
            f"{_col(ScoreLog, 'delta')} > 0",
        ]
    return (
        f"SELECT {select_columns(ScoreLog, 't')} FROM {table(ScoreLog)} t "
        f"WHERE {' AND '.join(where)} "
        f"ORDER BY {_col(ScoreLog, 'occurred_at')} DESC, {_col(ScoreLog, 'id')} DESC"
    )


def engagement_logs(lead_ids: Sequence[int], *, since: datetime | None = None) -> list[ScoreLog]:
    """The engagement awards (not decay) of these leads, newest first; with ``since``: only
    the positive awards of a rule at or after ``since`` (what the daily caps count). The same
    answer as ``ScoreLog.objects.filter(lead__in=..., axis=ENGAGEMENT).exclude(
    event_type="decay")`` (and ``occurred_at__gte=since, rule__isnull=False, delta__gt=0``)
    ``.order_by("-occurred_at", "-id")``."""
    if not lead_ids:
        return []
    params: list = [*lead_ids, ScoreLog.Axis.ENGAGEMENT.value, "decay"]
    if since is not None:
        field = ScoreLog._meta.get_field("occurred_at")
        params.append(field.get_db_prep_save(since, connection))
    sql = _logs_sql(connection.vendor, len(lead_ids), since is not None)
    return read_raw(ScoreLog, sql, params)


@functools.lru_cache(maxsize=256)  # one statement per count of values
def _scores_sql(vendor: str, n: int) -> str:
    lead = _col(LeadScore, "lead")
    sql = (
        f"SELECT {select_columns(LeadScore, 't')} FROM {table(LeadScore)} t "
        f"WHERE {lead} IN ({placeholders(range(n))}) ORDER BY {lead}"
    )
    if vendor == "postgresql":  # SQLite: the IMMEDIATE transaction already holds the lock
        sql += " FOR UPDATE"
    return sql


def scores_locked(lead_ids: Sequence[int]) -> list[LeadScore]:
    """The score rows of these leads, locked until the transaction ends, in lead order (so two
    batches sharing leads cannot deadlock); the same rows as
    ``LeadScore.objects.select_for_update().filter(lead__in=...).order_by("lead_id")``."""
    if not lead_ids:
        return []
    return read_raw(LeadScore, _scores_sql(connection.vendor, len(lead_ids)), lead_ids)
