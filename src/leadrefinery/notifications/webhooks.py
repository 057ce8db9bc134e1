"""Webhook endpoints: signing, validation, and the writes admins make (create, change,
deactivate). Used by the API and the Webhooks page alike.

Every delivery is signed with the endpoint's secret::

    X-Refinery-Timestamp: 1772442000
    X-Refinery-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">

Signing the timestamp with the body lets a receiver refuse replays of an old delivery
(docs/webhooks.md shows how to verify).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from leadrefinery.common.clock import now

from .models import WebhookDelivery, WebhookEndpoint

SIGNATURE_PREFIX = "sha256="
EVENTS = tuple(WebhookEndpoint.EVENTS)
_url_validator = URLValidator(schemes=["http", "https"])


class WebhookError(Exception):
    """A refused change, with a user-facing message and the field it concerns."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The X-Refinery-Signature value for ``body`` sent at ``timestamp`` (unix seconds)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return SIGNATURE_PREFIX + mac.hexdigest()


def signature_valid(secret: str, timestamp: str, body: bytes, header: str) -> bool:
    """Constant-time check of a received signature header (what a receiver does)."""
    return hmac.compare_digest(signature(secret, timestamp, body), header or "")


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot receive webhooks, or None."""
    url = (url or "").strip()
    if not url:
        return "enter the URL that should receive the events"
    if len(url) > 500:
        return "the URL is longer than 500 characters"
    try:
        _url_validator(url)
    except ValidationError:
        return "enter a full http:// or https:// URL, e.g. https://example.com/hooks/refinery"
    return address_problem(url)


def _internal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
        or not address.is_global
    )


def address_problem(url: str) -> str | None:
    """Why the URL's host must not receive webhooks (None: it may): each address it resolves
    to must be a public one. A webhook that reaches the loopback, a private network or the
    link-local metadata service (169.254.169.254) would let whoever may register webhooks probe
    and call the machines around the server (SSRF). ``REFINERY_WEBHOOK_ALLOW_PRIVATE`` allows
    them, for development and tests."""
    if getattr(settings, "REFINERY_WEBHOOK_ALLOW_PRIVATE", False):
        return None
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, ValueError, UnicodeError):
        return f"the host {host!r} could not be resolved to an address"
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if _internal(address):
            return (
                f"the host {host!r} is a private, loopback or link-local address ({address}); "
                "webhooks go to public addresses only"
            )
    return None


def events_problem(events: Iterable[str]) -> str | None:
    unknown = sorted({e for e in events if e not in EVENTS})
    if unknown:
        return f"unknown event(s): {', '.join(unknown)}; known events: {', '.join(EVENTS)}"
    return None


def _clean_events(events: Iterable[str] | None) -> list[str]:
    # Keep the documented order; an empty list means "every event".
    chosen = set(events or [])
    return [e for e in EVENTS if e in chosen]


@dataclass(frozen=True)
class CreatedEndpoint:
    endpoint: WebhookEndpoint
    secret: str  # shown once; only the endpoint row keeps it, for signing


def webhook_create(
    *, url: str, events: Iterable[str] | None = None, description: str = "", created_by: Any = None
) -> CreatedEndpoint:
    """Register a receiver. Raises WebhookError on a bad URL or event name."""
    events = list(events or [])
    problem = url_problem(url)
    if problem:
        raise WebhookError(problem, "url")
    problem = events_problem(events)
    if problem:
        raise WebhookError(problem, "events")
    if len(description) > 200:
        raise WebhookError("the description is longer than 200 characters", "description")
    secret = "whsec_" + secrets.token_urlsafe(32)
    endpoint = WebhookEndpoint.objects.create(
        url=url.strip(),
        description=description.strip(),
        secret=secret,
        events=_clean_events(events),
        active=True,
        created_by=created_by,
        created_at=now(),
    )
    return CreatedEndpoint(endpoint=endpoint, secret=secret)


def webhook_update(
    endpoint: WebhookEndpoint,
    *,
    active: bool | None = None,
    events: Iterable[str] | None = None,
    description: str | None = None,
) -> WebhookEndpoint:
    """Change what is given (None = keep). The URL and secret never change: register a new
    endpoint instead, so a receiver never gets events signed with a key it does not know."""
    changed = []
    if events is not None:
        events = list(events)
        problem = events_problem(events)
        if problem:
            raise WebhookError(problem, "events")
        endpoint.events = _clean_events(events)
        changed.append("events")
    if description is not None:
        if len(description) > 200:
            raise WebhookError("the description is longer than 200 characters", "description")
        endpoint.description = description.strip()
        changed.append("description")
    if active is not None:
        endpoint.active = active
        changed.append("active")
    if changed:
        endpoint.save(update_fields=changed)
    return endpoint


def webhook_deactivate(endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Stop sending to ``endpoint``. The row stays: its delivery log is history."""
    return webhook_update(endpoint, active=False)


# --- reads (admins only; callers check the role) ----------------------------------------


def endpoint_list() -> list[WebhookEndpoint]:
    return list(WebhookEndpoint.objects.select_related("created_by").order_by("-active", "url"))


def delivery_log(
    endpoint: WebhookEndpoint | None = None, limit: int = 100
) -> list[WebhookDelivery]:
    """The latest delivery attempts, newest first, with their outbox row (status, retry time)."""
    qs = WebhookDelivery.objects.select_related("message", "endpoint")
    if endpoint is not None:
        qs = qs.filter(endpoint=endpoint)
    return list(qs.order_by("-attempted_at", "-id")[:limit])
