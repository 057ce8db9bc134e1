"""A per-process cache of configuration, checked against a version token in the database.

Intake reads the same configuration on every request: routing rules, the reps they name with
their calendars, queues, stage defaults, SLA policies, webhook endpoints, sources, scoring
rules and settings. Loading them costs a dozen queries and most of the Python time of a
request, while they change a few times a day. So each process keeps them in memory, keyed by the token of the one ``ConfigVersion`` row,
and a change to any watched model replaces the token (in the transaction of the change, so other
processes see the new token exactly when they can see the new data).

- ``get(key, loader)`` returns the cached value or loads it; outside ``pinned()`` it checks the
  token first (one indexed read of one row).
- ``pinned()`` reads the token once for a block of work (an intake batch), so the block costs
  one token read however many values it uses.
- ``bump()`` replaces the token. Saves and deletes of the watched models call it through
  signals; code that changes a watched table with ``QuerySet.update()`` or raw SQL (which send
  no signals) must call it itself. ``migrate`` bumps at the end.
"""

from __future__ import annotations

import functools
import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from django.db import IntegrityError, connection, transaction

T = TypeVar("T")

# Models whose rows are configuration: a save or delete of any of them replaces the token.
# (API tokens are cached with their users, so that a revocation or a change of scopes counts on
# the very next request, in every process.)
WATCHED = (
    "accounts.User",
    "accounts.ApiToken",
    "accounts.Team",
    "routing.RoutingRule",
    "sla.Holiday",
    "sla.SlaPolicy",
    "notifications.WebhookEndpoint",
    "leads.StageDefinition",
    "leads.Queue",
    "leads.Source",
    "leads.Campaign",
    "leads.DispositionReason",
    "scoring.ScoringRule",
    "scoring.ScoringSettings",
    "dedupe.MatchModel",
)

# Saves that write only these fields change nothing cached: Django saves ``last_login`` on
# every login (``update_fields=["last_login"]``), which must not make every process reload.
IGNORED_FIELDS = {"accounts.User": frozenset({"last_login"})}

_values: dict[str, tuple[str, Any]] = {}
_pin = threading.local()


@functools.cache
def _token_sql(vendor: str) -> str:
    from .db import column, table
    from .models import ConfigVersion

    model = ConfigVersion
    return f"SELECT {column(model, 'token')} FROM {table(model)} WHERE {column(model, 'pk')} = 1"


def current_token() -> str:
    """The token in the database (one raw read, as it comes with every request; the same
    answer as ``ConfigVersion.objects.get(pk=1).token``); creates the row (with a fresh token)
    when it is missing, as on a database just flushed by a test run."""
    with connection.cursor() as cur:
        cur.execute(_token_sql(connection.vendor))
        row = cur.fetchone()
    if row is not None:
        return str(row[0])
    return _write_token(create=True)


def _write_token(*, create: bool = False) -> str:
    from leadrefinery.common.clock import now

    from .models import ConfigVersion

    token = secrets.token_hex(16)
    if create:
        try:
            with transaction.atomic():
                ConfigVersion.objects.create(pk=1, token=token, changed_at=now())
            return token
        except IntegrityError:  # another process created it first
            pass
    updated = ConfigVersion.objects.filter(pk=1).update(token=token, changed_at=now())
    if not updated:
        return _write_token(create=True)
    return token


def bump() -> None:
    """Mark the configuration changed: every process reloads what it cached."""
    token = _write_token()
    if getattr(_pin, "token", None) is not None:
        _pin.token = token


def _token() -> str:
    pinned = getattr(_pin, "token", None)
    return pinned if pinned is not None else current_token()


def get(key: str, loader: Callable[[], T]) -> T:
    """The cached value for ``key``, loaded with ``loader`` when the configuration changed
    since it was cached. Values are shared between threads: treat them as read-only."""
    token = _token()
    hit = _values.get(key)
    if hit is not None and hit[0] == token:
        return hit[1]  # type: ignore[no-any-return]
    value = loader()
    _values[key] = (token, value)
    return value


@contextmanager
def pinned() -> Iterator[None]:
    """Read the token once for the duration of the block (nested blocks reuse it)."""
    if getattr(_pin, "token", None) is not None:
        yield
        return
    _pin.token = current_token()
    try:
        yield
    finally:
        _pin.token = None


def clear() -> None:
    """Forget every cached value in this process."""
    _values.clear()


def _on_change(sender: Any, **kwargs: Any) -> None:
    update_fields = kwargs.get("update_fields")
    ignored = IGNORED_FIELDS.get(sender._meta.label)
    if update_fields and ignored and set(update_fields) <= ignored:
        return
    bump()


def connect_signals() -> None:
    from django.apps import apps
    from django.db.models.signals import post_delete, post_migrate, post_save

    for label in WATCHED:
        model = apps.get_model(label)
        post_save.connect(_on_change, sender=model, dispatch_uid=f"config-save-{label}")
        post_delete.connect(_on_change, sender=model, dispatch_uid=f"config-delete-{label}")
    post_migrate.connect(_after_migrate, dispatch_uid="config-migrate")


def _after_migrate(sender: Any, **kwargs: Any) -> None:
    # Data migrations write through historical models, which send no signals to ours.
    if getattr(sender, "label", "") == "common":
        bump()
