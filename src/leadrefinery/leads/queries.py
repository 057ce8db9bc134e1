"""The hand-written SQL of the leads app: the custom fields' value expression and its index.

A custom field's value lives in the ``custom`` JSON of a lead, person or account. Django compiles a key lookup
(``custom__fleet_size=12``) with the key path as a bound parameter, which no expression index
can match on SQLite; the lead list's filter on a field is then a scan of every lead. Here the
path is written into the statement (a field's name is lower-case letters, digits and ``_``,
checked when it is defined), the same expression in the index and in the filter, so both
databases read the filter from the index. ``tests/leads/test_custom_fields.py`` checks that
the filter answers as the ORM's lookup does, and that the plan uses the index.
"""

from __future__ import annotations

import json

from django.db import connection, models

from .custom_fields import NAME
from .models import Account, Lead, Person

MODELS: dict[str, type[models.Model]] = {"lead": Lead, "person": Person, "account": Account}


def value_sql(name: str, entity: str = "lead") -> str:
    """The SQL expression of a custom field's value (on the table of ``entity``), as text on
    PostgreSQL (``->>``) and as JSON_EXTRACT's SQL value on SQLite."""
    if not NAME.match(name):
        raise ValueError(f"not a custom field name: {name!r}")
    table = MODELS[entity]._meta.db_table
    column = f"{connection.ops.quote_name(table)}.{connection.ops.quote_name('custom')}"
    if connection.vendor == "postgresql":
        return f"({column} ->> '{name}')"
    return f"JSON_EXTRACT({column}, '$.\"{name}\"')"


def holders_sql(name: str, entity: str) -> str:
    """The ids of the people or accounts whose field ``name`` holds a value (one parameter,
    ``value_param``), read through the field's index."""
    table = connection.ops.quote_name(MODELS[entity]._meta.db_table)
    return f"SELECT id FROM {table} WHERE {value_sql(name, entity)} = %s"


def value_param(value: object) -> object:
    """``value`` as the expression of ``value_sql`` yields it for a stored value."""
    if connection.vendor == "postgresql":
        return value if isinstance(value, str) else json.dumps(value)
    return int(value) if isinstance(value, bool) else value


def index_name(field_id: int) -> str:
    return f"lead_custom_{field_id}"


def index_create(name: str, field_id: int, entity: str = "lead") -> None:
    """Index the field's value (the expression of ``value_sql``) on its table."""
    table = connection.ops.quote_name(MODELS[entity]._meta.db_table)
    expression = value_sql(name, entity).replace(f"{table}.", "")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # PostgreSQL refuses to index a table with deferred foreign-key checks pending (rows
            # written earlier in this transaction): run them now, then defer again.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS {index_name(field_id)} ON {table} ({expression})"
        )
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def index_drop(field_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX IF EXISTS {index_name(field_id)}")
