"""Writes on users and tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from django.db import connection, transaction

from leadrefinery.common.clock import now
from leadrefinery.common.db import read_models, select_columns

from .models import ApiToken, Role, Team, User

ALL_SCOPES = ("leads:read", "leads:write", "inquiries:write", "routing:admin")


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def user_create(
    *,
    username: str,
    role: str,
    password: str | None = None,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    team: Team | None = None,
    time_zone: str = "UTC",
) -> User:
    if role not in Role.values:
        raise ValueError(f"unknown role {role!r}; choose one of {', '.join(Role.values)}")
    if User.objects.filter(username=username).exists():
        raise ValueError(f"a user named {username!r} already exists")
    user = User(
        username=username,
        role=role,
        email=email,
        first_name=first_name,
        last_name=last_name,
        team=team,
        time_zone=time_zone,
        is_staff=role == Role.ADMIN,
        is_superuser=role == Role.ADMIN,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    return user


@transaction.atomic
def token_create(*, user: User, name: str = "", scopes: list[str] | None = None) -> IssuedToken:
    scopes = list(scopes or ALL_SCOPES)
    unknown = sorted(set(scopes) - set(ALL_SCOPES))
    if unknown:
        raise ValueError(f"unknown scope(s): {', '.join(unknown)}")
    secret = "lr_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name or f"token for {user.username}",
        prefix=secret[:10],
        key_hash=hash_token(secret),
        scopes=scopes,
        created_at=now(),
    )
    return IssuedToken(token=token, secret=secret)


def token_revoke(*, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = now()
        token.save(update_fields=["revoked_at"])
    return token


def token_authenticate(secret: str) -> ApiToken | None:
    """The active token for a bearer secret, or None. Records last use at most once a minute."""
    if not secret or not secret.startswith("lr_"):
        return None
    qn = connection.ops.quote_name
    # Read afresh on every request, so a revocation or deactivation counts at once; one raw
    # statement, as the QuerySet cost more to build than the database took to answer.
    found = read_models(
        f"SELECT {select_columns(ApiToken, 't')}, {select_columns(User, 'u')} "
        f"FROM {qn(ApiToken._meta.db_table)} t JOIN {qn(User._meta.db_table)} u ON u.id = t.user_id "
        "WHERE t.key_hash = %s AND t.revoked_at IS NULL AND u.is_active",
        [hash_token(secret)],
        (ApiToken, "t"),
        (User, "u"),
    )
    if not found:
        return None
    token, user = found[0]
    assert isinstance(token, ApiToken) and isinstance(user, User)
    token.user = user
    current = now()
    if token.last_used_at is None or (current - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=current)
    return token
