"""Per-address rate limits and single-use tokens for the public entry points (forms, page
visits, the open pixel, clicks), atomic under concurrency on SQLite and PostgreSQL.

A limit is a ``RateCounter`` row per (key, window). ``take`` makes sure the row exists
(``INSERT ... ON CONFLICT DO NOTHING``) and then takes one use with a conditional UPDATE
(``SET count = count + 1 WHERE count < limit``). The database decides: on PostgreSQL
concurrent UPDATEs of the row wait for each other and re-check the condition, on SQLite
writers are serialized, so N concurrent requests against a limit of L get exactly
min(N, L) uses. (Counting rows and then inserting, as the form did before, let 34 of 50
concurrent posts through a limit of 30.)

The client address is ``REMOTE_ADDR``. ``X-Forwarded-For`` is not trusted by default, because
any client can send it. Behind reverse proxies, ``REMOTE_ADDR`` is the proxy's address and
every visitor would share one limit: set ``REFINERY_TRUSTED_PROXY_COUNT`` to the number of
proxies in front of the app, and the address the outermost of them saw (that many entries
from the right of ``X-Forwarded-For``, which each proxy appends to) is used instead.

Windows are fixed clock hours (UTC): simple to explain ("30 an hour"), at worst twice the
limit across the turn of an hour. Rows are deleted once expired (``counters_prune``, job
``limits-prune``).
"""

from __future__ import annotations

import hashlib
import ipaddress
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db.models import F
from django.http import HttpRequest

from leadrefinery.common.clock import now

from .models import RateCounter

HOUR = timedelta(hours=1)
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def client_ip(request: HttpRequest) -> str | None:
    """The visitor's address (see the module docstring about proxies); None when invalid."""
    raw = request.META.get("REMOTE_ADDR", "")
    proxies = int(getattr(settings, "REFINERY_TRUSTED_PROXY_COUNT", 0) or 0)
    if proxies > 0:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        hops = [h for h in hops if h]
        if len(hops) >= proxies:
            # Entries left of this one were written by the client and prove nothing.
            raw = hops[-proxies]
    try:
        return str(ipaddress.ip_address(raw))
    except ValueError:
        return None


def window_of(at: datetime, window: timedelta) -> datetime:
    """The start of the fixed window that holds ``at``."""
    size = window.total_seconds()
    return _EPOCH + timedelta(seconds=((at - _EPOCH).total_seconds() // size) * size)


def _take(key: str, *, start: datetime, expires_at: datetime, limit: int) -> bool:
    if limit <= 0:
        return False
    RateCounter.objects.bulk_create(
        [RateCounter(key=key, window_start=start, count=0, expires_at=expires_at)],
        ignore_conflicts=True,
    )
    taken = RateCounter.objects.filter(key=key, window_start=start, count__lt=limit).update(
        count=F("count") + 1
    )
    return taken == 1


def take(key: str, *, limit: int, window: timedelta = HOUR, at: datetime | None = None) -> bool:
    """Take one use of ``key`` in the current window: True when it was below ``limit`` (and
    now counts one more), False when the limit is reached (nothing changes)."""
    start = window_of(at or now(), window)
    return _take(key[:120], start=start, expires_at=start + window, limit=limit)


def address_allows(kind: str, ip: str | None, *, limit: int, at: datetime | None = None) -> bool:
    """One request of ``kind`` ("form", "visit", "open", "click") from client address ``ip``
    within the hourly ``limit``. An unknown address is not limited here (it cannot be told
    apart from others; the per-person daily caps on engagement still hold)."""
    if ip is None:
        return True
    return take(f"{kind}:{_bucket(ip)}", limit=limit, at=at)


def _bucket(ip: str) -> str:
    # One IPv6 subscriber usually holds a whole /64: one limit for all of it.
    address = ipaddress.ip_address(ip)
    if address.version == 4:
        return ip
    if address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(ipaddress.ip_network(f"{address}/64", strict=False))


def use_once(secret: str, *, expires_at: datetime, kind: str = "trap") -> bool:
    """True the first time ``secret`` (e.g. a form's time-trap token) is used, False after.
    Only a hash of it is kept, until ``expires_at`` (when the token is no good anyway)."""
    digest = hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()
    return _take(f"{kind}:{digest}", start=_EPOCH, expires_at=expires_at, limit=1)


def counters_prune(at: datetime | None = None) -> int:
    """Delete the counters whose window (or token) has expired. Returns how many."""
    deleted, _ = RateCounter.objects.filter(expires_at__lt=at or now()).delete()
    return deleted


def tracking_allows(kind: str, request: HttpRequest) -> bool:
    """One tracking hit of ``kind`` ("visit", "open", "click") from the request's address
    within ``REFINERY_TRACKING_RATE_LIMIT_PER_HOUR``."""
    limit = int(getattr(settings, "REFINERY_TRACKING_RATE_LIMIT_PER_HOUR", 600))
    return address_allows(kind, client_ip(request), limit=limit)
