"""Lean writes and reads for the intake hot path.

Django's ``bulk_create`` compiles one SQL parameter per field and row through the full field
machinery; on a CSV import that compilation was half of all the time spent (measured with
cProfile: 209k prepare_value calls for 2,000 rows). ``insert_rows`` writes the same rows with
one multi-row ``INSERT ... RETURNING id`` per batch and sets the primary keys on the objects,
adapting values with a per-field converter chosen once per column.

Building and compiling a QuerySet costs 0.6-1.5 ms, more than a simple read takes the
database. The few reads that come with every API request are written in the owning app's
``queries.py``: their select lists made by ``select_columns``, their rows made into
instances by ``read_raw`` and ``build_models`` (the ORM's own converters, without
``Model.__init__``). This module takes no SQL
text from its callers: every statement here is made from the models' ``_meta``.
"""

from __future__ import annotations

import contextlib
import enum
import functools
from collections.abc import Callable, Iterable, Iterator, Sequence, Sized
from dataclasses import dataclass
from typing import Any, TypeVar

from django.core.exceptions import EmptyResultSet
from django.db import connection, models

from .jsontext import json_adapter

M = TypeVar("M", bound=models.Model)

# Stay well under SQLite's bound-variable limit (32,766 since 3.32) and PostgreSQL's 65,535.
_MAX_PARAMS = 30000


def db_converter(field: models.Field) -> Callable[[Any], Any]:
    """The function that adapts a Python value of ``field`` for a raw statement:
    ``field.get_db_prep_save`` on this connection, as the ORM's own writes do. For text,
    integer and boolean columns (and keys to integer ids) a value already of the column's
    Python type, or None, is what that returns: it is passed as is (half the cost of a bulk
    insert was these calls)."""
    full = functools.partial(field.get_db_prep_save, connection=connection)
    target = field.target_field if isinstance(field, models.ForeignKey) else field
    plain = _plain_type(field)
    if plain is str:

        def convert_text(value: Any) -> Any:
            if value is None or type(value) is str:
                return value
            if isinstance(value, str) and isinstance(value, enum.Enum):
                # A choice (``Lead.Stage.NEW``): what the column stores is its value. The
                # full path hands the member on as it is, for the driver to store its text:
                # about eight a row on an import, 0.2 s of 10,000 rows under cProfile. A
                # text choice's own text is its value (``str.__str__``, without the enum's
                # ``value`` property: a tenth of a microsecond instead of half of one).
                return str.__str__(value)
            return full(value)

        return convert_text
    if plain is not None:

        def convert(value: Any) -> Any:
            return value if value is None or type(value) is plain else full(value)

        return convert
    if isinstance(target, models.DateField):  # DateTimeField too
        return _remembering(full)
    if isinstance(target, models.JSONField):
        return _json_converter(target, full)
    return full


def _plain_type(field: models.Field) -> type | None:
    """The Python type whose values ``field.get_db_prep_save`` returns unchanged (text,
    integer and boolean columns, and keys to integer ids), else None."""
    target = field.target_field if isinstance(field, models.ForeignKey) else field
    if isinstance(target, models.CharField | models.TextField) and not isinstance(
        target, models.GenericIPAddressField
    ):
        return str
    if isinstance(target, models.BooleanField):
        return bool
    if isinstance(target, models.IntegerField | models.AutoField):
        return int
    return None


def _row_maker(fields: Sequence[models.Field]) -> Callable[[dict[str, Any]], list[Any]]:
    """A function from an object's ``__dict__`` to its values of ``fields`` as ``db_converter``
    adapts them, written out as one list expression: a plain column's value, and None, is
    tested inline and passed as is; only the others call their converter. Calling a converter
    per value was half of what an import spent building its inserts' parameters. The
    generated code holds only attribute names of the models' own fields and the converters,
    by name."""
    namespace: dict[str, Any] = {}
    items = []
    for i, f in enumerate(fields):
        name = repr(f.attname)
        namespace[f"c{i}"] = db_converter(f)
        plain = _plain_type(f)
        if plain is None:  # None is None for every converter (a test checks): not called
            items.append(f"(None if (v := d[{name}]) is None else c{i}(v))")
        else:
            namespace[f"t{i}"] = plain
            items.append(f"(v if (v := d[{name}]) is None or v.__class__ is t{i} else c{i}(v))")
    source = f"def make(d):\n    return [{', '.join(items)}]\n"
    exec(compile(source, f"<row maker {len(fields)} columns>", "exec"), namespace)
    return namespace["make"]  # type: ignore[no-any-return]


@contextlib.contextmanager
def sqlite_unmapped(cache_mib: int | None = None) -> Iterator[None]:
    """On SQLite, read the database's pages through the OS cache instead of mapping the file
    into this process (``mmap_size``, 256 MiB in the settings) while the block runs, then as
    before. A bulk job (an import) writes far more than it reads, and every page it read
    through the mapping counted in its resident memory. ``cache_mib``: also hold at most
    that many MiB of pages in this connection's own cache (64 MiB in the settings) meanwhile;
    a page read again comes from the OS cache."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA mmap_size")
        before = int(cursor.fetchone()[0])
        cursor.execute("PRAGMA cache_size")
        cache_before = int(cursor.fetchone()[0])
        cursor.execute("PRAGMA mmap_size=0")
        if cache_mib is not None:
            cursor.execute(f"PRAGMA cache_size={-1024 * int(cache_mib)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA mmap_size={before}")
            cursor.execute(f"PRAGMA cache_size={cache_before}")


def _json_converter(field: models.JSONField, full: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A JSON column: a dict or list goes straight to its adaptation, as ``get_db_prep_save``
    ends up doing after its checks for expressions (the field machinery around it was a tenth
    of an import's insert time), written by orjson unless the field has an encoder of its
    own (common/jsontext.py); anything else takes the full path.
    An empty one is adapted once: half the JSON values an import writes are ``{}`` or ``[]``
    (custom fields, errors), each dumped again before."""
    encoder = field.encoder
    if encoder is None:  # written by orjson (common/jsontext.py)
        adapt = json_adapter(connection.vendor)
    else:
        adapt = functools.partial(connection.ops.adapt_json_value, encoder=encoder)
    empty: dict[type, Any] = {dict: adapt({}), list: adapt([])}

    def convert(value: Any) -> Any:
        if value is None:
            return None
        kind = type(value)
        if kind in _JSON_CONTAINERS:
            return adapt(value) if value else empty[kind]
        return full(value)

    return convert


_JSON_CONTAINERS = frozenset((dict, list))


def _remembering(full: Callable[[Any], Any], size: int = 256) -> Callable[[Any], Any]:
    """``full`` for dates and times, remembering its last results: the rows of one batch
    share a handful of timestamps (received, created, updated: "now"), and adapting each
    again was a quarter of an import's insert time. Equal datetimes are the same instant, so
    they adapt to the same stored value."""
    seen: dict[Any, Any] = {}

    def convert(value: Any) -> Any:
        if value is None:
            return None
        try:
            return seen[value]
        except KeyError:
            if len(seen) >= size:
                seen.clear()
            adapted = seen[value] = full(value)
            return adapted
        except TypeError:  # not hashable: adapt it as it is
            return full(value)

    return convert


@functools.cache
def _build_plan(
    model: type[models.Model],
) -> tuple[dict[str, Any], tuple[tuple[str, Any], ...], dict[str, tuple[str, str] | None]]:
    """The constant defaults by attname (copied in at once), the callable ones (attname,
    default), and for each name a value may be given by: None for a plain column,
    (attname, target field's attname) for a relation given as an object."""
    constant: dict[str, Any] = {}
    called: list[tuple[str, Any]] = []
    relations: dict[str, tuple[str, str] | None] = {}
    for f in model._meta.concrete_fields:
        if f.has_default() and callable(f.default):
            constant[f.attname] = None  # keeps the fields' order in the object's dict
            called.append((f.attname, f.default))
        else:
            constant[f.attname] = f.default if f.has_default() else f.get_default()
        relations[f.attname] = None
        if isinstance(f, models.ForeignKey):
            relations[f.name] = (f.attname, f.target_field.attname)
    return constant, tuple(called), relations


def build(model: type[M], **values: Any) -> M:
    """``model(**values)`` for the intake's bulk writes, about 25 times faster: Django's
    ``Model.__init__`` goes through every field's descriptor (the largest single item of an
    import's CPU profile, for the ~100,000 objects of 10,000 rows). Fields not given get their
    defaults (the constant ones copied in with one dict update); a related object given by
    name sets its id and is cached as the ORM's own assignment does. No signals are sent: the
    project's models have no ``pre_init``/``post_init`` receivers (a test checks that both
    constructions give the same object)."""
    constant, called, relations = _build_plan(model)
    obj = model.__new__(model)
    state = obj._state = models.base.ModelState()
    # Set here: the class's descriptor makes it on first use, a call per object.
    cache: dict[str, Any] = {}
    state.fields_cache = cache
    data = obj.__dict__
    data.update(constant)
    for attname, default in called:
        data[attname] = default()
    # The names a call site gives come in the same order every time: whether they are all
    # columns is worked out once per model and order of names, not for every object.
    given = tuple(values)
    try:
        all_columns = _all_columns[model, given]
    except KeyError:
        if len(_all_columns) >= 4096:  # call sites are few; never unbounded
            _all_columns.clear()
        all_columns = _all_columns[model, given] = not (values.keys() - constant.keys())
    if all_columns:
        data.update(values)
        return obj
    for name, value in values.items():
        try:
            relation = relations[name]
        except KeyError:
            raise TypeError(f"{model.__name__} has no field {name!r}") from None
        if relation is None:
            data[name] = value
            continue
        attname, target = relation
        data[attname] = None if value is None else getattr(value, target)
        cache[name] = value
    return obj


# (model, the names given to build(), in order) -> whether all of them are columns.
_all_columns: dict[tuple[type[models.Model], tuple[str, ...]], bool] = {}


@dataclass(frozen=True)
class _InsertPlan:
    """What an INSERT of one model needs, worked out once per model and database vendor."""

    pk_attname: str
    width: int  # columns written
    make: Callable[[dict[str, Any]], list[Any]]  # an object's __dict__ -> its row (_row_maker)
    head: str  # INSERT INTO table (columns)
    returning: str  # RETURNING the primary key
    one: str  # the statement for a single row
    one_plain: str  # the same, with %s placeholders and no RETURNING
    unnest: str  # PostgreSQL: the statement for many rows, one array per column


@functools.cache
def _insert_plan(model: type[models.Model], vendor: str) -> _InsertPlan:
    meta = model._meta
    pk = meta.pk
    assert pk is not None
    qn = connection.ops.quote_name
    fields = [f for f in meta.concrete_fields if f is not pk]
    head = f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(str(f.column)) for f in fields)})"
    returning = f" RETURNING {qn(str(pk.column))}"
    make = _row_maker(fields)
    placeholder = "(" + ", ".join(["%s"] * len(fields)) + ")"
    one_plain = f"{head} VALUES {placeholder}"
    if vendor != "postgresql":
        one = f"{head} VALUES {placeholder}{returning}"
        return _InsertPlan(
            pk.attname, len(fields), make, head, returning, one, one_plain, unnest=""
        )
    # PostgreSQL (see _insert_unnest): one array parameter per column for many rows; a plain
    # VALUES list for one row, where dumping each value as a one-element array cost more than
    # the insert.
    types = [f.db_type(connection) for f in fields]
    names = [f"c{i}" for i in range(len(fields))]
    unnest = (
        f"{head} SELECT {', '.join(names)} FROM unnest("
        + ", ".join(f"%b::{t}[]" for t in types)
        + f") WITH ORDINALITY AS t({', '.join(names)}, n) ORDER BY n{returning}"
    )
    one = f"{head} VALUES (" + ", ".join(f"%b::{t}" for t in types) + f"){returning}"
    return _InsertPlan(pk.attname, len(fields), make, head, returning, one, one_plain, unnest)


def insert_rows(
    model: type[models.Model], objs: Sequence[models.Model], *, ignore_conflicts: bool = False
) -> None:
    """INSERT ``objs`` (all fields but the auto primary key) and set their primary keys.

    Skips signals, ``save()`` and ``pre_save`` (no auto_now fields on the models it serves);
    callers set every value explicitly. ``ignore_conflicts``: a row that breaks a unique
    constraint is left out (``ON CONFLICT DO NOTHING``), and no primary keys are set, as with
    ``bulk_create(ignore_conflicts=True)``.
    """
    if not objs:
        return
    plan = _insert_plan(model, connection.vendor)
    if ignore_conflicts:
        _insert_ignoring(plan, objs)
        return
    if connection.vendor == "postgresql":
        _insert_unnest(plan, objs)
        return
    make, width = plan.make, plan.width
    alias = connection.alias
    per_batch = max(1, _MAX_PARAMS // width)
    with connection.cursor() as cursor:
        direct = _to_the_driver()
        for start in range(0, len(objs), per_batch):
            batch = objs[start : start + per_batch]
            params: list[Any] = []
            for obj in batch:
                params += make(obj.__dict__)
            if len(batch) == 1:
                cursor.execute(plan.one, params)
            elif direct:
                # The statement in the driver's own placeholders, made once per row count.
                sql = _values_sql(plan.head, plan.returning, width, len(batch), "?")
                connection.validate_no_broken_transaction()
                with connection.wrap_database_errors:  # django.db's errors, as the ORM raises
                    _sqlite_execute(cursor.cursor, sql, params)
            else:
                cursor.execute(_values_sql(plan.head, plan.returning, width, len(batch)), params)
            ids = [row[0] for row in cursor.fetchall()]
            # Rows come back in input order on SQLite and PostgreSQL; Django's own bulk_create
            # relies on the same behaviour of both backends.
            for obj, new_id in zip(batch, ids, strict=True):
                _saved(obj, plan.pk_attname, new_id, alias)


@functools.lru_cache(maxsize=64)
def _values_sql(head: str, returning: str, width: int, rows: int, mark: str = "%s") -> str:
    """``head VALUES (...), (...) returning`` for ``rows`` rows of ``width`` values."""
    placeholder = "(" + ", ".join([mark] * width) + ")"
    return f"{head} VALUES {', '.join([placeholder] * rows)}{returning}"


def _to_the_driver() -> bool:
    """Whether a multi-row INSERT can go straight to the SQLite driver, in its own ``?``
    placeholders: on SQLite, with no query being logged (DEBUG, CaptureQueriesContext) and
    no execute wrapper set, which would want to see it. Django's SQLite cursor rewrites
    every ``%s`` of a statement into ``?`` with a regular expression on each execution:
    for the statements of thousands of values an import writes, that was 0.2 s of a
    10,000-row import (cProfile)."""
    return (
        connection.vendor == "sqlite"
        and not connection.queries_logged
        and not connection.execute_wrappers
    )


def _sqlite_execute(cursor: Any, sql: str, params: Sequence[Any]) -> None:
    """The driver's own ``execute`` (``sqlite3.Cursor``), past Django's rewriting of the
    placeholders in its subclass."""
    import sqlite3

    sqlite3.Cursor.execute(cursor, sql, params)


def _insert_ignoring(plan: _InsertPlan, objs: Sequence[models.Model]) -> None:
    """``INSERT ... ON CONFLICT DO NOTHING`` of every row (SQLite 3.24+ and PostgreSQL), one
    executemany of the single-row statement without RETURNING: the rows left out have no id
    to hand back, and the ids of the others are not needed."""
    sql = plan.one_plain + " ON CONFLICT DO NOTHING"
    make = plan.make
    params = [make(obj.__dict__) for obj in objs]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _saved(obj: models.Model, attname: str, new_id: Any, alias: str) -> None:
    """Mark ``obj`` as stored with primary key ``new_id`` in database ``alias``, as
    Model.save() would."""
    setattr(obj, attname, new_id)
    state = obj._state
    state.adding = False
    state.db = alias


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


def _insert_unnest(plan: _InsertPlan, objs: Sequence[models.Model]) -> None:
    """PostgreSQL: one parameter per column (an array), ``INSERT ... SELECT FROM unnest``;
    a single row is a plain ``INSERT ... VALUES``.

    A multi-row VALUES list has one placeholder per value; the driver scans such a statement
    with a regular expression on every execution (too long for its cache), which cost more
    than the database's own work. With arrays the statement is short and the same every time.
    ``WITH ORDINALITY`` keeps the input order, so RETURNING hands the ids back in that order.
    """
    make = plan.make
    with _server_binding_cursor() as cursor:
        if len(objs) == 1:
            obj = objs[0]
            cursor.execute(plan.one, make(obj.__dict__))
            _saved(obj, plan.pk_attname, cursor.fetchone()[0], connection.alias)
            return
        alias = connection.alias
        for start in range(0, len(objs), _UNNEST_BATCH):
            batch = objs[start : start + _UNNEST_BATCH]
            rows = [make(obj.__dict__) for obj in batch]
            cursor.execute(plan.unnest, [list(column) for column in zip(*rows, strict=True)])
            ids = [row[0] for row in cursor.fetchall()]
            for obj, new_id in zip(batch, ids, strict=True):
                _saved(obj, plan.pk_attname, new_id, alias)


@functools.cache
def _update_plan(
    model: type[models.Model], field_names: tuple[str, ...], vendor: str
) -> tuple[str, Callable[[dict[str, Any]], list[Any]]]:
    """The UPDATE statement for ``field_names`` of ``model``, and the function that makes a
    row's parameters: those fields' values, then the primary key."""
    meta = model._meta
    pk = meta.pk
    assert pk is not None
    fields = [meta.get_field(name) for name in field_names]
    concrete = [f for f in fields if isinstance(f, models.Field)]
    assert len(concrete) == len(fields), "update_rows writes concrete fields only"
    qn = connection.ops.quote_name
    make = _row_maker([*concrete, pk])
    if vendor != "postgresql":
        assignments = ", ".join(f"{qn(str(f.column))} = %s" for f in concrete)
        return (
            f"UPDATE {qn(meta.db_table)} SET {assignments} WHERE {qn(str(pk.column))} = %s",
            make,
        )
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
    return sql, make


def update_rows(objs: Sequence[models.Model], field_names: Sequence[str]) -> None:
    """Save ``field_names`` of many rows with one statement (PostgreSQL) or one executemany
    of a plain UPDATE (SQLite).

    Same effect as ``bulk_update``, which builds a CASE expression per field and row whose
    compilation cost more than the rest of processing a batch (measured on a CSV import).
    """
    if not objs:
        return
    sql, make = _update_plan(type(objs[0]), tuple(field_names), connection.vendor)
    params = [make(obj.__dict__) for obj in objs]
    if connection.vendor == "postgresql":
        with _server_binding_cursor() as cursor:
            cursor.execute(sql, [list(column) for column in zip(*params, strict=True)])
        return
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


@dataclass(frozen=True)
class _ReadPlan:
    columns: str  # the select list, "alias"."column", ...
    attnames: tuple[str, ...]
    fields: tuple[models.Field, ...]
    converters: tuple[tuple[int, Callable[[Any], Any]], ...]  # (index, stored value -> value)


# Columns whose converted values cannot be changed in place (dates, times, numbers): the same
# stored value may give the same object to many rows.
_IMMUTABLE_VALUES = (models.DateTimeField, models.DateField, models.TimeField, models.DecimalField)


@functools.cache
def _read_plan(
    model: type[models.Model], alias: str, vendor: str, only: tuple[str, ...] | None = None
) -> _ReadPlan:
    qn = connection.ops.quote_name
    # In the model's field order, as Model.from_db expects them; ``only``: these attnames and
    # the primary key, the rest deferred.
    fields = [
        f for f in model._meta.concrete_fields if only is None or f.primary_key or f.attname in only
    ]
    converters = []
    for i, field in enumerate(fields):
        col = field.get_col(alias)
        # The backend's converters first, then the field's own (``from_db_value``): the order
        # Django's compiler applies them in.
        fns = (*connection.ops.get_db_converters(col), *col.get_db_converters(connection))
        if fns:
            convert = _chain(fns, col)
            if isinstance(field, _IMMUTABLE_VALUES):
                # SQLite stores times as text: parsing each was most of reading a lead (18
                # converted columns), and the leads an import reads share a few "now"s.
                convert = _remembering(convert, size=1024)
            converters.append((i, convert))
    return _ReadPlan(
        columns=", ".join(f"{qn(alias)}.{qn(str(f.column))}" for f in fields),
        attnames=tuple(f.attname for f in fields),
        fields=tuple(fields),
        converters=tuple(converters),
    )


def _chain(fns: Sequence[Callable[..., Any]], col: Any) -> Callable[[Any], Any]:
    """A column's converters as one function of the stored value, as the compiler calls them
    (``fn(value, expression, connection)``, in turn)."""
    if len(fns) == 1:
        fn = fns[0]
        return lambda value: fn(value, col, connection)

    def convert(value: Any) -> Any:
        for fn in fns:
            value = fn(value, col, connection)
        return value

    return convert


def _instances(model: type[M], plan: _ReadPlan, rows: Iterable[Sequence[Any]]) -> list[M]:
    """One instance per row of ``plan``'s columns, converted as the ORM would and made as
    ``Model.from_db`` makes it (not added, of this database; columns not read are deferred),
    without ``Model.__init__``: it went through every field's descriptor, a third of reading
    a lead. A model with ``pre_init``/``post_init`` receivers is made by ``from_db``."""
    converters, attnames, alias = plan.converters, plan.attnames, connection.alias
    out: list[M] = []
    plain = not _init_signalled(model)
    for row in rows:
        values = list(row)
        for i, convert in converters:
            values[i] = convert(values[i])
        if not plain:
            out.append(model.from_db(alias, attnames, values))
            continue
        obj = model.__new__(model)
        state = obj._state = models.base.ModelState()
        state.adding = False
        state.db = alias
        state.fields_cache = {}
        obj.__dict__.update(zip(attnames, values, strict=True))
        out.append(obj)
    return out


@functools.cache
def _init_signalled(model: type[models.Model]) -> bool:
    return models.signals.pre_init.has_listeners(model) or models.signals.post_init.has_listeners(
        model
    )


def column(model: type[models.Model], name: str) -> str:
    """The quoted column of ``model``'s field ``name`` (``"pk"``: its primary key)."""
    field = model._meta.pk if name == "pk" else model._meta.get_field(name)
    assert isinstance(field, models.Field)
    return connection.ops.quote_name(str(field.column))


def table(model: type[models.Model]) -> str:
    """The quoted table of ``model``."""
    return connection.ops.quote_name(model._meta.db_table)


def select_columns(
    model: type[models.Model], alias: str, *, only: Sequence[str] | None = None
) -> str:
    """The select list of the concrete columns of ``model`` under table alias ``alias`` (all,
    or ``only`` these attnames and the primary key), in the order ``build_models`` expects."""
    return _read_plan(
        model, alias, connection.vendor, None if only is None else tuple(only)
    ).columns


def build_models(
    rows: Iterable[Sequence[Any]], *parts: tuple[type[models.Model], str]
) -> list[tuple[models.Model, ...]]:
    """One instance of each model in ``parts`` per row, converted as the ORM would; each row
    holds ``select_columns(model, alias)`` of every (model, alias) in turn.

    For the joined reads of a request's hot path, which ``Manager.raw()`` (one model per row)
    cannot build: a QuerySet costs 0.6-1.5 ms to build and compile there (measured on
    PostgreSQL), several times the database's own work. The owning app's ``queries.py``
    writes and runs the statement.
    """
    rows = list(rows)
    columns: list[list[models.Model]] = []
    start = 0
    for model, alias in parts:
        plan = _read_plan(model, alias, connection.vendor)
        width = len(plan.attnames)
        columns.append(_instances(model, plan, [row[start : start + width] for row in rows]))
        start += width
    return list(zip(*columns, strict=True)) if columns else [() for _ in rows]


def read_raw(
    model: type[M],
    sql: str,
    params: Sequence[Any],
    alias: str = "t",
    *,
    only: tuple[str, ...] | None = None,
) -> list[M]:
    """``list(model.objects.raw(sql, params))`` for a statement that selects
    ``select_columns(model, alias, only=only)`` (and nothing else), the instances made by
    ``_instances``: ``Manager.raw()`` made each through ``Model.__init__``."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return _instances(model, _read_plan(model, alias, connection.vendor, only), rows)


def read_models(queryset: models.QuerySet[M]) -> list[M]:
    """``list(queryset)`` for a plain one (its model's own columns, or ``only`` some of them:
    no ``select_related``, ``defer``, annotations, ``values`` or prefetching), the instances
    made by ``_instances``; any other is listed by the ORM. The statement is the ORM's own."""
    query = queryset.query
    model = queryset.model
    names, deferring = query.deferred_loading
    if (
        queryset._iterable_class is not models.query.ModelIterable
        or queryset._prefetch_related_lookups  # type: ignore[attr-defined]
        or query.combinator
        or query.select_related
        or query.annotation_select
        or query.extra_select
        or not query.default_cols
        or (deferring and names)
        or queryset.db != connection.alias
    ):
        return list(queryset)
    compiler = query.get_compiler(queryset.db)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return []
    only = None if deferring else tuple(sorted(names))
    plan = _read_plan(model, model._meta.db_table, connection.vendor, only)
    if [c[0].target for c in compiler.select] != list(plan.fields):
        return list(queryset)  # not the model's columns in its order (inheritance): the ORM's
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return _instances(model, plan, cursor.fetchall())


@functools.lru_cache(maxsize=256)  # one statement per count of values
def _in_bulk_sql(
    model: type[models.Model], vendor: str, only: tuple[str, ...] | None, n: int
) -> str:
    meta = model._meta
    pk = meta.pk
    assert pk is not None
    qn = connection.ops.quote_name
    columns = _read_plan(model, "t", vendor, only).columns
    return (
        f"SELECT {columns} FROM {qn(meta.db_table)} t "
        f"WHERE t.{qn(str(pk.column))} IN ({placeholders(range(n))})"
    )


def read_in_bulk(
    model: type[M], ids: Sequence[int], *, only: Sequence[str] | None = None
) -> dict[int, M]:
    """``QuerySet.in_bulk(ids)`` (with ``only``: ``.only(*only)``): the instances by primary
    key, without building a QuerySet, made by ``_instances``."""
    if not ids:
        return {}
    ids = list(dict.fromkeys(ids))
    fields = None if only is None else tuple(only)
    sql = _in_bulk_sql(model, connection.vendor, fields, len(ids))
    return {obj.pk: obj for obj in read_raw(model, sql, ids, "t", only=fields)}


def placeholders(values: Sized) -> str:
    """``%s, %s, ...``, one per value (an IN list)."""
    return ", ".join(["%s"] * len(values))
