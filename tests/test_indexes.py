"""The tables written for every inquiry carry no index another one covers, and index their
mostly empty foreign keys only where set; every lookup by those keys still reads an index
(migrations leads 0021, dedupe 0005, scoring 0006)."""

from __future__ import annotations

import pytest
from django.db import connection

# (table, column, the index that finds a row by it): the key's own index is gone, as another
# index starts with the column.
COVERED = [
    ("leads_lead", "person_id", "lead_person_stage"),
    ("leads_lead", "owner_user_id", "lead_owner_user_stage"),
    ("leads_lead", "owner_queue_id", "lead_owner_queue_stage"),
    ("leads_leadevent", "lead_id", "event_lead_time"),
    ("leads_touch", "lead_id", "touch_lead_time"),
    ("scoring_scorelog", "lead_id", "scorelog_lead_time"),
    ("dedupe_personvariant", "person_id", "variant_once"),
]
# (table, column, its index over the rows where it is set)
WHERE_SET = [
    ("leads_lead", "merged_into_id", "lead_merged_into"),
    ("leads_person", "merged_into_id", "person_merged_into"),
    ("leads_person", "merged_by_id", "person_merged_by"),
    ("leads_leadevent", "actor_id", "event_actor"),
    ("leads_touch", "actor_id", "touch_actor"),
    ("leads_intakerecord", "campaign_id", "intake_campaign"),
    ("leads_intakerecord", "form_id", "intake_form"),
    ("leads_intakerecord", "submitted_by_id", "intake_submitted_by"),
    ("leads_intakerecord", "ip", "intake_ip_recent"),
]


def _indexes(table: str) -> dict[str, list[str]]:
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, table)
    return {name: c["columns"] for name, c in found.items() if c["index"] or c["unique"]}


def _plan(table: str, column: str) -> str:
    """The plan of a lookup by ``column``, as the ORM's reverse lookups and deletes make it."""
    value = "'10.0.0.1'" if column == "ip" else "7"
    sql = f"SELECT * FROM {table} WHERE {column} = {value}"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")  # an empty table: scanned anyway
            cursor.execute("EXPLAIN " + sql)
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + sql)
        return " ".join(str(cell) for row in cursor.fetchall() for cell in row)


@pytest.mark.django_db
@pytest.mark.parametrize(("table", "column", "covering"), COVERED)
def test_a_key_another_index_starts_with_has_no_index_of_its_own(table, column, covering):
    indexes = _indexes(table)
    assert [name for name, columns in indexes.items() if columns == [column]] == []
    assert indexes[covering][0] == column
    plan = _plan(table, column)
    # SQLite names a unique constraint's index sqlite_autoindex_<table>_N.
    assert covering in plan or f"sqlite_autoindex_{table}" in plan


@pytest.mark.django_db
@pytest.mark.parametrize(("table", "column", "index"), WHERE_SET)
def test_a_mostly_empty_key_is_indexed_where_set_and_its_lookups_use_it(table, column, index):
    indexes = _indexes(table)
    assert indexes[index][0] == column
    assert [name for name, columns in indexes.items() if columns[0] == column] == [index]
    assert index in _plan(table, column)
    with connection.cursor() as cursor:  # only the rows that have one
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_get_indexdef(%s::regclass)", [index])
        else:
            cursor.execute("SELECT sql FROM sqlite_master WHERE name = %s", [index])
        assert "IS NOT NULL" in cursor.fetchone()[0].upper()
