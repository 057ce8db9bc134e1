"""The raw SQL of tracking's batches: moving leads' last touch forward, and storing events
once per event id.

Column and table names come from the models' ``_meta`` and values are adapted by each
field's ``get_db_prep_save``; callers pass values only.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import datetime

from django.db import connection

from leadrefinery.common.db import db_converter
from leadrefinery.leads.models import Lead

from .models import TrackedEvent

_EVENTS_PER_INSERT = 500


@functools.cache
def _touched_sql(vendor: str) -> str:
    qn = connection.ops.quote_name
    meta = Lead._meta
    assert meta.pk is not None
    column = qn(str(meta.get_field("last_touch_at").column))
    return (
        f"UPDATE {qn(meta.db_table)} SET {column} = %s WHERE {qn(str(meta.pk.column))} = %s "
        f"AND ({column} IS NULL OR {column} < %s)"
    )


def leads_touched(latest: Mapping[int, datetime]) -> None:
    """Move each lead's ``last_touch_at`` forward to the time given for it (never back): one
    executemany for the batch."""
    if not latest:
        return
    conv = db_converter(Lead._meta.get_field("last_touch_at"))  # type: ignore[arg-type]
    with connection.cursor() as cur:
        cur.executemany(
            _touched_sql(connection.vendor),
            [(conv(when), lead_id, conv(when)) for lead_id, when in latest.items()],
        )


@functools.lru_cache(maxsize=256)  # one statement per count of values
def _events_sql(vendor: str, rows: int) -> str:
    qn = connection.ops.quote_name
    meta = TrackedEvent._meta
    assert meta.pk is not None
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    return (
        f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(str(f.column)) for f in fields)}) "
        f"VALUES {', '.join([one] * rows)} "
        f"ON CONFLICT ({qn(str(meta.get_field('event_id').column))}) DO NOTHING "
        f"RETURNING {qn(str(meta.pk.column))}, {qn(str(meta.get_field('event_id').column))}"
    )


def events_insert_new(rows: Sequence[TrackedEvent]) -> set[str]:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING: store the events whose id is new, set
    their primary keys, and return those ids (the others were stored before, by this or a
    concurrent request). One statement per 500 events."""
    if not rows:
        return set()
    fields = [f for f in TrackedEvent._meta.concrete_fields if not f.primary_key]
    conv = [(f.attname, db_converter(f)) for f in fields]
    stored: set[str] = set()
    with connection.cursor() as cur:
        for start in range(0, len(rows), _EVENTS_PER_INSERT):
            batch = rows[start : start + _EVENTS_PER_INSERT]
            params = [c(row.__dict__[name]) for row in batch for name, c in conv]
            cur.execute(_events_sql(connection.vendor, len(batch)), params)
            by_event = {row.event_id: row for row in batch}
            for pk, event_id in cur.fetchall():
                by_event[event_id].pk = pk
                stored.add(event_id)
    return stored
