"""The raw SQL of accounts' hot path: the token lookup that comes with every API request.

Column and table names come from the models' ``_meta``; callers pass values only.
"""

from __future__ import annotations

import functools

from django.db import connection

from leadrefinery.common.db import build_models, column, select_columns, table

from .models import ApiToken, User


@functools.cache
def _token_sql(vendor: str) -> str:
    return (
        f"SELECT {select_columns(ApiToken, 't')}, {select_columns(User, 'u')} "
        f"FROM {table(ApiToken)} t JOIN {table(User)} u "
        f"ON u.{column(User, 'pk')} = t.{column(ApiToken, 'user')} "
        f"WHERE t.{column(ApiToken, 'key_hash')} = %s AND t.{column(ApiToken, 'revoked_at')} IS NULL "
        f"AND u.{column(User, 'is_active')}"
    )


def active_token(key_hash: str) -> ApiToken | None:
    """The unrevoked token with this hash whose user is active, with its user (``token.user``
    needs no further query); the same answer as
    ``ApiToken.objects.select_related("user").filter(key_hash=..., revoked_at=None,
    user__is_active=True).first()``, in one statement."""
    with connection.cursor() as cursor:
        cursor.execute(_token_sql(connection.vendor), [key_hash])
        rows = cursor.fetchall()
    if not rows:
        return None
    token, user = build_models(rows, (ApiToken, "t"), (User, "u"))[0]
    assert isinstance(token, ApiToken) and isinstance(user, User)
    token.user = user
    return token
