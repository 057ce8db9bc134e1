"""The raw SQL of account matching, which runs in every intake.

Column and table names come from the models' ``_meta``; callers pass values only.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence

from django.db import connection

from leadrefinery.common.db import column, placeholders, select_columns, table
from leadrefinery.leads.models import Account

# Prefixes per statement: two bound values each, well under SQLite's variable limit.
_PREFIXES_PER_READ = 500


@functools.cache
def _exact_sql(vendor: str, domains: int, keys: int) -> str:
    either = [
        f"t.{column(Account, name)} IN ({placeholders(range(n))})"
        for name, n in (("domain", domains), ("name_key", keys))
        if n
    ]
    return (
        f"SELECT {select_columns(Account, 't')} FROM {table(Account)} t "
        f"WHERE {' OR '.join(either)} ORDER BY t.{column(Account, 'pk')}"
    )


def accounts_by_domain_or_key(domains: Sequence[str], keys: Sequence[str]) -> list[Account]:
    """The accounts whose domain is one of ``domains`` or whose company key is one of
    ``keys``, by id; the same answer as ``Account.objects.filter(Q(domain__in=domains) |
    Q(name_key__in=keys)).order_by("pk")``."""
    if not domains and not keys:
        return []
    sql = _exact_sql(connection.vendor, len(domains), len(keys))
    return list(Account.objects.raw(sql, [*domains, *keys]))


@functools.cache
def _prefix_sql(vendor: str, prefixes: int) -> str:
    key = column(Account, "name_key")
    ranges = " OR ".join([f"({key} >= %s AND {key} < %s)"] * prefixes)
    return f"SELECT {column(Account, 'pk')}, {key} FROM {table(Account)} WHERE {ranges}"


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
            yield from cursor.fetchall()
