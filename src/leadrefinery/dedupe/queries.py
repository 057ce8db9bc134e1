"""The raw SQL of account matching, which runs in every intake.

Column and table names come from the models' ``_meta``; callers pass values only.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from django.db import DatabaseError, connection

from leadrefinery.common.db import column, placeholders, read_raw, select_columns, table
from leadrefinery.leads.models import Account, Person

from . import domain
from .models import PersonVariant

# Prefixes per statement: two bound values each, well under SQLite's variable limit.
_PREFIXES_PER_READ = 500


@functools.lru_cache(maxsize=256)  # one statement per count of values
def _exact_sql(vendor: str, domains: int, keys: int) -> str:
    either = [
        f"t.{column(Account, name)} IN ({placeholders(range(n))})"
        for name, n in (("domain", domains), ("name_key", keys))
        if n
    ]
    return (
        f"SELECT {select_columns(Account, 't')} FROM {table(Account)} t WHERE {' OR '.join(either)}"
    )


def accounts_by_domain_or_key(domains: Sequence[str], keys: Sequence[str]) -> list[Account]:
    """The accounts whose domain is one of ``domains`` or whose company key is one of
    ``keys``, by id; the same answer as ``Account.objects.filter(Q(domain__in=domains) |
    Q(name_key__in=keys)).order_by("pk")``.

    Sorted here, not by the database, and on PostgreSQL read with sequential scans off
    (``_index_reads``): asked to order by id, a server without statistics for the table
    (no ANALYZE yet) walked the whole primary key index, or scanned the table in parallel,
    instead of reading the two indexes: 36 to 91 ms a read at 250,000 accounts, 2.7 s of a
    20,000-row import, and 6 ms with the indexes."""
    if not domains and not keys:
        return []
    sql = _exact_sql(connection.vendor, len(domains), len(keys))
    with connection.cursor() as cursor, _index_reads(cursor):
        found = read_raw(Account, sql, [*domains, *keys])
    found.sort(key=lambda account: account.pk)
    return found


@functools.lru_cache(maxsize=256)  # one statement per count of values
def _prefix_sql(vendor: str, prefixes: int) -> str:
    key = column(Account, "name_key")
    ranges = " OR ".join([f"({key} >= %s AND {key} < %s)"] * prefixes)
    return f"SELECT {column(Account, 'pk')}, {key} FROM {table(Account)} WHERE {ranges}"


_ROWS_PER_FETCH = 2000


def account_keys_by_prefix(prefixes: Sequence[str]) -> Iterator[tuple[int, str]]:
    """(id, company key) of every account whose company key starts with one of
    ``prefixes`` (all of them: a candidate left out could let intake create a duplicate
    account); the same rows as ``Account.objects.filter(name_key__startswith=...)`` for each
    prefix, as pairs. One index range read per prefix, up to 500 prefixes per statement."""
    wanted = sorted(set(prefixes))
    with connection.cursor() as cursor:
        for start in range(0, len(wanted), _PREFIXES_PER_READ):
            chunk = wanted[start : start + _PREFIXES_PER_READ]
            cursor.execute(
                _prefix_sql(connection.vendor, len(chunk)),
                [bound for p in chunk for bound in (p, p + "\uffff")],
            )
            # In parts: a common prefix can hold most of a large database's accounts.
            while rows := cursor.fetchmany(_ROWS_PER_FETCH):
                yield from rows


# --- People sharing a block key (the online check) ------------------------------------------

# Columns read to score a candidate (and to show it), nothing more.
MATCH_COLUMNS = (
    "id",
    "email",
    "phone",
    "first_name",
    "last_name",
    "company_name",
    "street",
    "city",
    "account_id",
    "merged_into_id",
    "status",
    "email_key",
    "domain_key",
    "company_key",
    "first_name_key",
    "last_name_key",
    "postcode_key",
    "street_number_key",
    "street_key",
)
# In the model's field order, as Model.from_db expects them; the rows of ``block_rows``.
_FIELDS = [f for f in Person._meta.concrete_fields if f.attname in set(MATCH_COLUMNS)]
MATCH_ATTNAMES = tuple(f.attname for f in _FIELDS)
_SELECT = [str(f.column) for f in _FIELDS]
_CHUNK = 200  # block keys per read


@functools.lru_cache(maxsize=1024)
def _block_sql(block: domain.Block, count: int, ordinal: int, limit: int | None) -> str:
    """One index read: the rows whose block columns equal one of ``count`` key tuples, each
    row led by ``ordinal`` (which block found it). The "NOT (first = '')" term is the partial
    index's own condition, so the planner may use it.

    PostgreSQL gets one array parameter per column (``count`` is ignored) and reads each key
    through the index in a LATERAL join: a list of 200 OR-ed column pairs took the planner
    ten times longer than this takes to run. SQLite gets the keys as a VALUES list joined to
    the table, which it reads through the block's index; given the same keys as OR-ed pairs
    it scanned the whole table. With a ``limit``, the read of each key stops after that many
    rows."""
    quote = connection.ops.quote_name
    table = quote(Person._meta.db_table)
    columns = [f"{table}.{column(Person, c)}" for c in block.columns]
    select = ", ".join([f"{ordinal} AS block_ordinal", *(f"{table}.{quote(c)}" for c in _SELECT)])
    return _keyed_read(columns, select, table, "", count, limit, table)


VARIANT = 100  # added to a block's ordinal for the rows found through a person's variant
_VARIANT_FIELDS = {
    "email", "phone", "first_name", "last_name", "company_name", "street", "city",
    "email_key", "domain_key", "company_key", "first_name_key", "last_name_key",
    "postcode_key", "street_number_key", "street_key",
}  # fmt: skip


@functools.lru_cache(maxsize=1024)
def _variant_sql(block: domain.Block, count: int, ordinal: int, limit: int | None) -> str:
    """As ``_block_sql``, over the variants: rows in the same layout, led by ``VARIANT +
    ordinal``, whose record columns are the variant's and whose id, account and merge
    columns are its person's."""
    quote = connection.ops.quote_name
    person_id = f"v.{column(PersonVariant, 'person')}"
    columns = [f"v.{column(PersonVariant, c)}" for c in block.columns]
    picked = [
        person_id if c == "id" else f"v.{quote(c)}" if c in _VARIANT_FIELDS else f"p.{quote(c)}"
        for c in _SELECT
    ]
    select = ", ".join([f"{VARIANT + ordinal} AS block_ordinal", *picked])
    join = f" JOIN {quote(Person._meta.db_table)} p ON p.{column(Person, 'id')} = {person_id}"
    return _keyed_read(
        columns, select, f"{quote(PersonVariant._meta.db_table)} v", join, count, limit, "v"
    )


def _keyed_read(
    columns: list[str],
    select: str,
    source: str,
    join: str,
    count: int,
    limit: int | None,
    alias: str,
) -> str:
    """The read of ``select`` from ``source`` (named ``alias`` in ``columns``, then ``join``)
    for the rows whose ``columns`` equal one of ``count`` key tuples, in the shape each
    database reads through the index."""
    nonempty = f"NOT ({columns[0]} = '')"
    if connection.vendor == "postgresql":
        # Every column not empty, as every block key is (the same rows): the planner then
        # knows how few rows can match when most people lack a column (no postcode), where
        # it took "first name + postcode" for a tenth of the table and read it through
        # another index (9 s for one chunk's 152 keys at a million people; 1 ms with this).
        nonempty = " AND ".join(f"NOT ({c} = '')" for c in columns)
        # One index read per key, each stopped after MAX_BLOCK + 1 rows (a stop word).
        arrays = ", ".join(["%s::text[]"] * len(columns))
        names = ", ".join(f"k{i}" for i in range(len(columns)))
        on = " AND ".join(f"{c} = k.k{i}" for i, c in enumerate(columns))
        stop = f" LIMIT {limit}" if limit else ""
        return (
            f"SELECT hit.* FROM unnest({arrays}) AS k({names}) CROSS JOIN LATERAL "
            f"(SELECT {select} FROM {source}{join} WHERE {on} AND {nonempty}{stop}) AS hit"
        )
    if count == 1:
        match = " AND ".join(f"{c} = %s" for c in columns)
        sql = f"SELECT {select} FROM {source}{join} WHERE {match} AND {nonempty}"
        return _limited(sql, limit)
    if len(columns) == 1 and not limit:
        match = f"{columns[0]} IN ({', '.join(['%s'] * count)})"
        return f"SELECT {select} FROM {source}{join} WHERE {match} AND {nonempty}"
    names = ", ".join(f"k{i}" for i in range(len(columns)))
    row = "(" + ", ".join(["%s"] * len(columns)) + ")"
    on = " AND ".join(f"{c} = k.k{i}" for i, c in enumerate(columns))
    keys = f"WITH k({names}) AS (VALUES {', '.join([row] * count)}) "
    # CROSS JOIN: SQLite keeps the keys as the outer loop, one index search per key.
    if not limit:
        return f"{keys}SELECT {select} FROM k CROSS JOIN {source} ON {on}{join} WHERE {nonempty}"
    # Each key's read stops after ``limit`` rows, as on PostgreSQL: a correlated list of
    # row ids read from the block's index alone (the inner FROM shadows the outer name).
    # At a million people a common name has hundreds; 200 such keys read 134,778 rows in
    # 0.42 s, and 40,200 in 0.11 s with the stop.
    return (
        f"{keys}SELECT {select} FROM k CROSS JOIN {source} ON {alias}.rowid IN "
        f"(SELECT {alias}.rowid FROM {source} WHERE {on} AND {nonempty} LIMIT {limit}){join}"
    )


def _limited(sql: str, limit: int | None) -> str:
    """A read of one key stops after ``limit`` rows: past the stop-word size, the rest does
    not matter. (Wrapped, so that it can stand inside a UNION ALL.)"""
    return f"SELECT * FROM ({sql} LIMIT {limit}) AS one_key" if limit else sql


def _block_params(block: domain.Block, chunk: list[tuple[str, ...]]) -> list:
    """The parameters of ``_block_sql(block, len(chunk), ...)``."""
    if connection.vendor == "postgresql":
        return [[key[i] for key in chunk] for i in range(len(block.columns))]
    return [value for key in chunk for value in key]


def _statements(parts: list[tuple[str, list]]) -> Iterator[list[tuple[str, list]]]:
    """Reads joined by UNION ALL into statements of up to 8 (which keeps them under the
    databases' parameter limits). A SQLite read that starts with WITH stands alone, since
    WITH may only open a statement."""
    group: list[tuple[str, list]] = []
    for part in parts:
        if part[0].startswith("WITH "):
            yield [part]
            continue
        group.append(part)
        if len(group) == 8:
            yield group
            group = []
    if group:
        yield group


def block_rows(
    blocks: Sequence[domain.Block],
    wanted: Mapping[str, Iterable[tuple[str, ...]]],
    limit: int | None,
    *,
    variants: bool = False,
) -> Iterator[tuple[int, tuple]]:
    """(index in ``blocks``, row) for each unmerged or merged person whose columns of a block
    equal one of the keys ``wanted`` for it (by block name), the first column not empty: the
    same people as ``Person.objects.filter(<column>=<value>, ...).exclude(<first column>="")``
    for each key. A row holds ``MATCH_ATTNAMES``, raw from the driver. With ``limit``, a key
    read may stop after that many rows (a stop word: its callers drop keys above it).

    One index read per block and chunk of 200 keys, in UNION ALL statements of up to 8. With
    ``variants``, each read is joined by the same read over ``PersonVariant`` (rows led by
    ``VARIANT + index``: the variant's record columns, its person's id)."""
    parts: list[tuple[str, list]] = []
    for ordinal, block in enumerate(blocks):
        ordered = sorted(wanted[block.name])
        for start in range(0, len(ordered), _CHUNK):
            chunk = ordered[start : start + _CHUNK]
            sql = _block_sql(block, len(chunk), ordinal, limit)
            parts.append((sql, _block_params(block, chunk)))
            if variants:  # the same keys over the people's other ways of being written
                sql = _variant_sql(block, len(chunk), ordinal, limit)
                parts.append((sql, _block_params(block, chunk)))
    with connection.cursor() as cursor, _index_reads(cursor):
        for group in _statements(parts):
            cursor.execute(
                " UNION ALL ".join(sql for sql, _ in group),
                [value for _, params in group for value in params],
            )
            while lines := cursor.fetchmany(_ROWS_PER_FETCH):
                for line in lines:
                    yield line[0], tuple(line[1:])


@contextlib.contextmanager
def _index_reads(cursor: Any) -> Iterator[None]:
    """PostgreSQL: no sequential scans for the block reads, then the session's setting back.

    Each key's read stops after MAX_BLOCK + 1 rows. When the table's statistics say a key
    matches many rows (a database where most people have no postcode: every "first name +
    postcode" key then looks like a tenth of the table), the planner chose to scan the table
    until it found them, and found none: 0.3 s per key at a million people, 43 s for one
    chunk's read of 148 keys. The reads are made for the blocks' indexes; without statistics
    (no ANALYZE yet) the planner used them anyway."""
    if connection.vendor != "postgresql":
        yield
        return
    cursor.execute(
        "SELECT current_setting('enable_seqscan'), set_config('enable_seqscan', 'off', false)"
    )
    before = cursor.fetchone()[0]
    try:
        yield
    finally:
        # In a transaction that failed, this fails too, and the rollback restores the setting.
        with contextlib.suppress(DatabaseError):
            cursor.execute("SELECT set_config('enable_seqscan', %s, false)", [before])
