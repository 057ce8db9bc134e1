"""Lean bulk writes for the intake hot path.

Django's ``bulk_create`` compiles one SQL parameter per field and row through the full field
machinery; on a CSV import that compilation was half of all the time spent (measured with
cProfile: 209k prepare_value calls for 2,000 rows). ``insert_rows`` writes the same rows with
one multi-row ``INSERT ... RETURNING id`` per batch and sets the primary keys on the objects,
adapting values with a per-field converter chosen once per column.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from django.db import connection, models

# Stay well under SQLite's bound-variable limit (32,766 since 3.32) and PostgreSQL's 65,535.
_MAX_PARAMS = 30000


def _converter(field: models.Field) -> Callable[[Any], Any]:
    vendor = connection.vendor
    if isinstance(field, models.JSONField):
        return lambda v: None if v is None else json.dumps(v, cls=field.encoder)
    if isinstance(field, models.DateTimeField) and vendor == "sqlite":
        # Django stores aware datetimes in SQLite as naive UTC text.
        def to_text(v: datetime | None) -> str | None:
            if v is None:
                return None
            return v.astimezone(UTC).replace(tzinfo=None).isoformat(" ")

        return to_text
    if isinstance(
        field,
        models.DecimalField | models.DateField | models.UUIDField | models.GenericIPAddressField,
    ):
        return lambda v: field.get_db_prep_save(v, connection)
    return lambda v: v


def insert_rows(model: type[models.Model], objs: Sequence[models.Model]) -> None:
    """INSERT ``objs`` (all fields but the auto primary key) and set their primary keys.

    Skips signals, ``save()`` and ``pre_save`` (no auto_now fields on the models it serves);
    callers set every value explicitly.
    """
    if not objs:
        return
    meta = model._meta
    pk = meta.pk
    assert pk is not None
    fields = [f for f in meta.concrete_fields if f is not pk]
    columns = ", ".join(connection.ops.quote_name(str(f.column)) for f in fields)
    table = connection.ops.quote_name(meta.db_table)
    convert = [(f.attname, _converter(f)) for f in fields]
    if connection.vendor == "postgresql":
        _insert_unnest(model, objs, fields, columns, table, convert)
        return
    placeholder = "(" + ", ".join(["%s"] * len(fields)) + ")"
    per_batch = max(1, _MAX_PARAMS // len(fields))
    with connection.cursor() as cursor:
        for start in range(0, len(objs), per_batch):
            batch = objs[start : start + per_batch]
            params: list[Any] = []
            for obj in batch:
                values = obj.__dict__
                params.extend(conv(values[name]) for name, conv in convert)
            sql = (
                f"INSERT INTO {table} ({columns}) VALUES {', '.join([placeholder] * len(batch))} "
                f"RETURNING {connection.ops.quote_name(str(pk.column))}"
            )
            cursor.execute(sql, params)
            ids = [row[0] for row in cursor.fetchall()]
            # Rows come back in input order on SQLite and PostgreSQL; Django's own bulk_create
            # relies on the same behaviour of both backends.
            for obj, new_id in zip(batch, ids, strict=True):
                _saved(obj, pk.attname, new_id)


def _saved(obj: models.Model, attname: str, new_id: Any) -> None:
    """Mark ``obj`` as stored with primary key ``new_id``, as Model.save() would."""
    setattr(obj, attname, new_id)
    obj._state.adding = False
    obj._state.db = connection.alias


_UNNEST_BATCH = 5000


def _server_binding_cursor() -> Any:
    """A PostgreSQL cursor that sends parameters apart from the statement, in binary.

    Django's default client-side binding renders every array element into the SQL text with
    regular-expression quoting; binding on the server, in binary (``%b``), skips that.
    Wrapped like Django's own cursors, so query logging and CaptureQueriesContext still see
    the statements."""
    import psycopg

    connection.ensure_connection()
    return connection._prepare_cursor(psycopg.Cursor(connection.connection))  # type: ignore[attr-defined]


def _insert_unnest(
    model: type[models.Model],
    objs: Sequence[models.Model],
    fields: list[models.Field],
    columns: str,
    table: str,
    convert: list[tuple[str, Callable[[Any], Any]]],
) -> None:
    """PostgreSQL: one parameter per column (an array), ``INSERT ... SELECT FROM unnest``;
    a single row is a plain ``INSERT ... VALUES``.

    A multi-row VALUES list has one placeholder per value; the driver scans such a statement
    with a regular expression on every execution (too long for its cache), which cost more
    than the database's own work. With arrays the statement is short and the same every time.
    ``WITH ORDINALITY`` keeps the input order, so RETURNING hands the ids back in that order.
    """
    pk = model._meta.pk
    assert pk is not None
    if len(objs) == 1:
        # One row (an API intake): a plain VALUES list. Dumping each value as a one-element
        # array and unnesting it cost more than the insert.
        sql = (
            f"INSERT INTO {table} ({columns}) VALUES ("
            + ", ".join(f"%b::{f.db_type(connection)}" for f in fields)
            + f") RETURNING {connection.ops.quote_name(str(pk.column))}"
        )
        obj = objs[0]
        values = obj.__dict__
        with _server_binding_cursor() as cursor:
            cursor.execute(sql, [conv(values[name]) for name, conv in convert])
            _saved(obj, pk.attname, cursor.fetchone()[0])
        return
    casts = [f"{f.db_type(connection)}[]" for f in fields]
    names = [f"c{i}" for i in range(len(fields))]
    sql = (
        f"INSERT INTO {table} ({columns}) "
        f"SELECT {', '.join(names)} FROM unnest("
        + ", ".join(f"%b::{cast}" for cast in casts)
        + f") WITH ORDINALITY AS t({', '.join(names)}, n) ORDER BY n "
        f"RETURNING {connection.ops.quote_name(str(pk.column))}"
    )
    with _server_binding_cursor() as cursor:
        for start in range(0, len(objs), _UNNEST_BATCH):
            batch = objs[start : start + _UNNEST_BATCH]
            arrays: list[list[Any]] = [[] for _ in fields]
            for obj in batch:
                values = obj.__dict__
                for column, (name, conv) in zip(arrays, convert, strict=True):
                    column.append(conv(values[name]))
            cursor.execute(sql, arrays)
            ids = [row[0] for row in cursor.fetchall()]
            for obj, new_id in zip(batch, ids, strict=True):
                _saved(obj, pk.attname, new_id)


def update_rows(objs: Sequence[models.Model], field_names: Sequence[str]) -> None:
    """Save ``field_names`` of many rows with one executemany of a plain UPDATE.

    Same effect as ``bulk_update``, which builds a CASE expression per field and row whose
    compilation cost more than the rest of processing a batch (measured on a CSV import).
    """
    if not objs:
        return
    meta = type(objs[0])._meta
    pk = meta.pk
    assert pk is not None
    fields = [meta.get_field(name) for name in field_names]
    concrete = [f for f in fields if isinstance(f, models.Field)]
    assert len(concrete) == len(fields), "update_rows writes concrete fields only"
    qn = connection.ops.quote_name
    assignments = ", ".join(f"{qn(str(f.column))} = %s" for f in concrete)
    sql = f"UPDATE {qn(meta.db_table)} SET {assignments} WHERE {qn(str(pk.column))} = %s"
    convert = [(f.attname, _converter(f)) for f in concrete]
    if connection.vendor == "postgresql":
        # One statement over arrays instead of one UPDATE per row (see _insert_unnest).
        names = [f"c{i}" for i in range(len(concrete))]
        casts = [f"{f.db_type(connection)}[]" for f in concrete]
        pk_type = pk.rel_db_type(connection) if hasattr(pk, "rel_db_type") else "bigint"
        sets = ", ".join(
            f"{qn(str(f.column))} = v.{name}" for f, name in zip(concrete, names, strict=True)
        )
        sql = (
            f"UPDATE {qn(meta.db_table)} AS t SET {sets} FROM unnest("
            + ", ".join(f"%b::{cast}" for cast in casts)
            + f", %b::{pk_type}[]) AS v({', '.join(names)}, pk) "
            f"WHERE t.{qn(str(pk.column))} = v.pk"
        )
        arrays: list[list[Any]] = [[] for _ in concrete]
        for obj in objs:
            values = obj.__dict__
            for column, (name, conv) in zip(arrays, convert, strict=True):
                column.append(conv(values[name]))
        with _server_binding_cursor() as cursor:
            cursor.execute(sql, [*arrays, [obj.pk for obj in objs]])
        return
    params = [[conv(obj.__dict__[name]) for name, conv in convert] + [obj.pk] for obj in objs]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
