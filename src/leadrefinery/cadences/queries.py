"""The raw SQL of the cadence hook that runs in every intake from a known person.

Column and table names come from the models' ``_meta``; callers pass values only.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from django.db import connection, models

from leadrefinery.accounts.models import User
from leadrefinery.common.db import build_models, column, placeholders, select_columns, table
from leadrefinery.leads.models import Lead, Person, Source

_PARTS = ((Lead, "l"), (Person, "p"), (User, "u"), (Source, "s"))


@functools.lru_cache(maxsize=256)  # one statement per count of values
def _owned_sql(vendor: str, n: int) -> str:
    def join(model: type[models.Model], alias: str, fk: str) -> str:
        return (
            f"JOIN {table(model)} {alias} ON {alias}.{column(model, 'pk')} = l.{column(Lead, fk)}"
        )

    lead_pk = f"l.{column(Lead, 'pk')}"
    return (
        f"SELECT {', '.join(select_columns(model, alias) for model, alias in _PARTS)} "
        f"FROM {table(Lead)} l {join(Person, 'p', 'person')} "
        f"{join(User, 'u', 'owner_user')} {join(Source, 's', 'source')} "
        f"WHERE {lead_pk} IN ({placeholders(range(n))}) ORDER BY {lead_pk}"
    )


def owned_with_people(ids: Sequence[int]) -> list[Lead]:
    """The leads among ``ids`` that a rep owns, by id, with their person, owner and source
    (no further query to reach them); the same answer as ``Lead.objects.filter(pk__in=ids,
    owner_user__isnull=False).select_related("person", "owner_user", "source")
    .order_by("pk")``, in one statement."""
    if not ids:
        return []
    with connection.cursor() as cursor:
        cursor.execute(_owned_sql(connection.vendor, len(ids)), list(ids))
        rows = cursor.fetchall()
    owned = []
    for lead, person, user, source in build_models(rows, *_PARTS):
        assert isinstance(lead, Lead)
        lead.person, lead.owner_user, lead.source = person, user, source  # type: ignore[assignment]
        owned.append(lead)
    return owned
