"""Deliver the outbox: claim due rows, send them, record the outcome.

The sweep is safe to run twice, or in two workers at once:

1. **Claim** due rows (pending/failed whose ``next_attempt_at`` has come, or rows left in
   ``sending`` for more than five minutes by a sender that crashed) by moving them to
   ``sending`` with ``claimed_at``. On PostgreSQL the rows are picked with ``SELECT ... FOR
   UPDATE SKIP LOCKED``, so concurrent sweeps take disjoint rows without waiting; on SQLite
   (one writer at a time) each row is claimed with a conditional UPDATE that only one sweep
   can win. The claim commits before anything is sent.
2. **Send** each claimed row: email over SMTP (``django.core.mail``), webhooks as a signed
   JSON POST. Nothing is held open in a transaction while the network is slow.
3. **Record**: ``sent`` with ``sent_at``; or ``failed`` with ``attempts + 1``, the error and
   ``next_attempt_at`` after an exponential backoff (1, 2, 4, 8 ... minutes, at most an
   hour); ``dead`` after eight attempts. Every webhook attempt writes a ``WebhookDelivery``.

A sender that crashes after sending but before recording causes one resend after five
minutes; the resend carries the same Message-ID (email) or X-Refinery-Delivery (webhook), so
the receiver can recognise it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import connection, transaction
from django.db.models import F, Q

from leadrefinery.common.clock import now

from .models import OutboxMessage, WebhookDelivery
from .webhooks import address_problem, signature

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
BACKOFF_CAP = timedelta(hours=1)


def _stale_claim() -> timedelta:
    """A claim older than this is taken again: its worker died mid-send (settings)."""
    return timedelta(seconds=settings.REFINERY_OUTBOX_LEASE_SECONDS)


WEBHOOK_TIMEOUT_SECONDS = 5
SMTP_TIMEOUT_SECONDS = 30
EXCERPT_CHARS = 500
USER_AGENT = "LeadRefinery-Webhooks/1"

Status = OutboxMessage.Status


@dataclass
class DispatchResult:
    sent: int = 0
    failed: int = 0
    dead: int = 0

    @property
    def total(self) -> int:
        return self.sent + self.failed + self.dead


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: 1, 2, 4, 8 ... minutes, capped."""
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), BACKOFF_CAP)


def message_id(message: OutboxMessage) -> str:
    """A stable Message-ID: a resend of the same row (after a crash) carries the same one."""
    digest = hashlib.sha256(message.dedupe_key.encode()).hexdigest()[:32]
    return f"<{digest}.outbox@leadrefinery>"


def due_filter(at: datetime) -> Q:
    return Q(status__in=[Status.PENDING, Status.FAILED], next_attempt_at__lte=at) | Q(
        status=Status.SENDING, claimed_at__lt=at - _stale_claim()
    )


def outbox_dispatch(at: datetime | None = None, limit: int = 100) -> int:
    """Claim up to ``limit`` due outbox rows, deliver them, and return how many were handled.

    The periodic job behind ``refinery worker`` and ``refinery outbox-send``."""
    return outbox_dispatch_report(at=at, limit=limit).total


def outbox_dispatch_report(at: datetime | None = None, limit: int = 100) -> DispatchResult:
    """outbox_dispatch, with the outcome counted by kind of result."""
    at = at or now()
    result = DispatchResult()
    claimed = claim_due(at, limit)
    if not claimed:
        return result
    emails = [m for m in claimed if m.kind == OutboxMessage.Kind.EMAIL]
    hooks = [m for m in claimed if m.kind == OutboxMessage.Kind.WEBHOOK]
    if emails:
        _send_emails(emails, result)
    for message in hooks:
        if message.endpoint is None or not message.endpoint.active:
            # Deactivated after the event was queued: the admin asked for no more deliveries.
            _record(message, result, False, "the endpoint is deactivated", give_up=True)
        elif _still_ours(message):
            _record(message, result, *_send_webhook(message))
    return result


def claim_due(at: datetime, limit: int) -> list[OutboxMessage]:
    """Move up to ``limit`` due rows to ``sending`` and return them; each row goes to at most
    one caller however many sweeps run at once."""
    due = OutboxMessage.objects.filter(due_filter(at)).order_by("next_attempt_at", "id")
    if connection.vendor == "postgresql":
        with transaction.atomic():
            ids = list(due.select_for_update(skip_locked=True).values_list("pk", flat=True)[:limit])
            # The rows are locked and still due (FOR UPDATE re-reads them), so all are ours.
            OutboxMessage.objects.filter(pk__in=ids).update(status=Status.SENDING, claimed_at=at)
    else:
        ids = []
        for pk in due.values_list("pk", flat=True)[:limit]:
            # Only one sweep sees the row still due when its UPDATE runs.
            won = (
                OutboxMessage.objects.filter(due_filter(at), pk=pk)
                .order_by()
                .update(status=Status.SENDING, claimed_at=at)
            )
            if won:
                ids.append(pk)
    if not ids:
        return []
    return list(OutboxMessage.objects.filter(pk__in=ids).select_related("endpoint").order_by("id"))


def _still_ours(message: OutboxMessage) -> bool:
    """Renew the claim just before sending. A long batch (slow receivers) would otherwise let
    a later sweep take the row as stale while it is still going out; if the renewal finds
    the claim taken over, another sweep already owns the row and this one skips it."""
    stamp = now()
    if stamp <= message.claimed_at:  # type: ignore[operator]
        return True
    renewed = (
        OutboxMessage.objects.filter(
            pk=message.pk, status=Status.SENDING, claimed_at=message.claimed_at
        )
        .order_by()
        .update(claimed_at=stamp)
    )
    if renewed:
        message.claimed_at = stamp
    return bool(renewed)


def _record(
    message: OutboxMessage, result: DispatchResult, ok: bool, error: str, *, give_up: bool = False
) -> None:
    """Store the outcome of one attempt, only while the row is still under this claim."""
    mine = OutboxMessage.objects.filter(
        pk=message.pk, status=Status.SENDING, claimed_at=message.claimed_at
    ).order_by()
    stamp = now()
    if ok:
        mine.update(status=Status.SENT, sent_at=stamp, last_error="", attempts=F("attempts") + 1)
        result.sent += 1
        return
    attempts = message.attempts + (0 if give_up else 1)
    if give_up or attempts >= MAX_ATTEMPTS:
        mine.update(
            status=Status.DEAD, attempts=attempts, last_error=error[:2000], next_attempt_at=None
        )
        result.dead += 1
        log.warning("outbox %s gave up after %s attempts: %s", message.pk, attempts, error)
    else:
        mine.update(
            status=Status.FAILED,
            attempts=attempts,
            last_error=error[:2000],
            next_attempt_at=stamp + backoff(attempts),
        )
        result.failed += 1


# --- email ----------------------------------------------------------------------------


def _send_emails(messages: list[OutboxMessage], result: DispatchResult) -> None:
    """One SMTP connection for the batch; each message succeeds or fails on its own."""
    smtp = get_connection(fail_silently=False, timeout=SMTP_TIMEOUT_SECONDS)
    try:
        smtp.open()
    except Exception as exc:  # any connection failure means: retry later
        error = _describe(exc, "could not connect to the mail server")
        for message in messages:
            _record(message, result, False, error)
        return
    try:
        for message in messages:
            if not _still_ours(message):
                continue
            email = EmailMessage(
                subject=message.subject,
                body=message.body,
                from_email=settings.DEFAULT_FROM_EMAIL,
                to=[message.recipient],
                headers={
                    # Extra headers stored with the row (cadence emails: threading, Reply-To).
                    **(message.payload or {}).get("headers", {}),
                    "Message-ID": message_id(message),
                    "X-Refinery-Event": message.event,
                },
                connection=smtp,
            )
            try:
                email.send()
            except Exception as exc:  # SMTP and socket errors alike
                _record(message, result, False, _describe(exc, "the mail server refused it"))
            else:
                _record(message, result, True, "")
    finally:
        try:
            smtp.close()
        except Exception:  # closing a broken connection must not hide results
            log.debug("closing the SMTP connection failed", exc_info=True)


# --- webhooks -------------------------------------------------------------------------


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirected POST would be replayed as a GET without the body; treat 3xx as a failure
    # the admin can see in the delivery log (and fix the URL).
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def webhook_request(message: OutboxMessage, timestamp: str) -> urllib.request.Request:
    """The signed POST for one outbox row (the body is the stored payload as JSON)."""
    endpoint = message.endpoint
    assert endpoint is not None
    body = json.dumps(message.payload, separators=(",", ":"), sort_keys=True).encode()
    return urllib.request.Request(
        endpoint.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Refinery-Event": message.event,
            "X-Refinery-Delivery": str(message.pk),
            "X-Refinery-Timestamp": timestamp,
            "X-Refinery-Signature": signature(endpoint.secret, timestamp, body),
        },
    )


def _send_webhook(message: OutboxMessage) -> tuple[bool, str]:
    endpoint = message.endpoint
    assert endpoint is not None
    attempted_at = now()
    request = webhook_request(message, str(int(attempted_at.timestamp())))
    status: int | None = None
    excerpt = ""
    error = ""
    started = time.monotonic()
    # Checked again at each delivery: the host's address may have changed since it was
    # registered (or since the setting allowing private addresses was turned off).
    refused = address_problem(endpoint.url)
    try:
        if refused:
            error = f"not sent: {refused}"
        else:
            with _opener.open(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:
                status = response.status
                excerpt = _excerpt(response.read(EXCERPT_CHARS * 4))
    except urllib.error.HTTPError as exc:
        status = exc.code
        try:
            excerpt = _excerpt(exc.read(EXCERPT_CHARS * 4))
        except OSError:
            excerpt = ""
        finally:
            exc.close()
    except (urllib.error.URLError, OSError, ValueError) as exc:
        error = _describe(exc, "the request failed")
    duration_ms = int((time.monotonic() - started) * 1000)
    ok = status is not None and 200 <= status < 300
    if status is not None and not ok:
        error = f"HTTP {status}: the receiver did not answer 2xx"
    WebhookDelivery.objects.create(
        message=message,
        endpoint=endpoint,
        attempt=message.attempts + 1,
        attempted_at=attempted_at,
        status_code=status,
        duration_ms=duration_ms,
        response_excerpt=excerpt[:EXCERPT_CHARS],
        error=error[:500],
    )
    return ok, error


def _excerpt(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")[:EXCERPT_CHARS]


def _describe(exc: BaseException, fallback: str) -> str:
    if isinstance(exc, urllib.error.URLError) and not isinstance(exc, urllib.error.HTTPError):
        exc = exc.reason if isinstance(exc.reason, BaseException) else exc
    if isinstance(exc, socket.timeout | TimeoutError):
        return "timed out waiting for the receiver"
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else fallback
