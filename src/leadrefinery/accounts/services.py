"""Writes on users and tokens."""

from __future__ import annotations

import copy
import hashlib
import secrets
from dataclasses import dataclass

from django.db import transaction

from leadrefinery.common import config
from leadrefinery.common.clock import now

from . import queries
from .models import ApiToken, Role, Team, User

ALL_SCOPES = (
    "leads:read",
    "leads:write",
    "inquiries:write",
    "routing:admin",
    "privacy:admin",
)
# A token made without naming its scopes may only read what its user sees: writing (leads,
# inquiries and events, rules) must be asked for, so a forgotten --scope grants no power.
DEFAULT_SCOPES = ("leads:read",)


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
    """A new token for ``user`` with ``scopes`` (default: ``DEFAULT_SCOPES``, read only)."""
    scopes = list(scopes or DEFAULT_SCOPES)
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


# Tokens known in this process at the current configuration version, by hash. Bounded, so
# that many distinct tokens cannot grow it without end.
_TOKENS_KEPT = 10_000


def token_authenticate(secret: str) -> ApiToken | None:
    """The active token for a bearer secret (with its user), or None. Records last use at most
    once a minute.

    Kept in the configuration cache: a request with a known token costs no token query while
    the configuration is unchanged. Revoking a token, changing its scopes, or any change to its
    user (deactivation, role) saves a watched model and so replaces the configuration version,
    which makes every process read the token afresh on its next request.
    """
    if not secret or not secret.startswith("lr_"):
        return None
    key = hash_token(secret)
    known: dict[str, ApiToken] = config.get("accounts:tokens", dict)
    cached = known.get(key)
    if cached is None:
        cached = queries.active_token(key)
        if cached is None:
            return None  # unknown secrets are not kept: anyone may send them
        if len(known) < _TOKENS_KEPT:
            known[key] = cached
    current = now()
    last_used = cached.last_used_at
    if last_used is None or (current - last_used).total_seconds() > 60:
        # update(): no signal, so recording use does not replace the configuration version.
        ApiToken.objects.filter(pk=cached.pk).update(last_used_at=current)
        cached.last_used_at = current
    # A copy per request: the cached instances are shared between threads.
    token = copy.copy(cached)
    token.user = copy.copy(cached.user)
    return token
