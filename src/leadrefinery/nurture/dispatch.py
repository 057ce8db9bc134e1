"""Send due nurture emails: claim, check, send, record. Exactly one send per row.

1. **Claim**: one conditional UPDATE moves up to ``limit`` due rows (``scheduled``/``failed``
   whose ``send_after`` has come, or ``sending`` rows whose lease ran out because a worker
   died) to ``sending`` with a fresh claim token and ``send_after`` = the end of the lease.
   The UPDATE repeats the due condition, so of two sweeps only one gets each row. It commits
   before any SMTP traffic.
2. **Check** each row at send time: exit rules (hot, won, sales took it back...), consent and
   the suppression list (also of people merged into the recipient), the send window in the
   recipient's time zone, and the frequency cap across programs. A row that may not go yet
   is released with a later ``send_after``; one that must never go is skipped.
3. **Send** through Django's email backend (one SMTP connection per batch), with
   List-Unsubscribe, List-Unsubscribe-Post and a Message-ID derived from the row, so a
   resend of the same row (after a crash) carries the same Message-ID. The lease is renewed
   just before each message; a worker that finds its claim taken over skips the row.
4. **Record** in two steps, only under our claim: the moment the server accepts a message,
   one UPDATE of its own marks the row ``sent`` (with ``pending_record``); then one
   transaction writes the touch, the timeline event and the next step. A worker killed
   between the two leaves a sent row that the next sweep records (``record_pending``) and
   never sends again. Failures retry with backoff (``domain.backoff``) and end ``dead``; an
   address the server refuses permanently (5xx) is suppressed as a hard bounce.

The one window we cannot close: a worker killed after the SMTP server accepted a message and
before that first UPDATE commits (a single statement, well under a millisecond). The row is
re-sent when its lease ends, with the same Message-ID; mail clients show one message. See
docs/nurture.md.
"""

from __future__ import annotations

import hashlib
import logging
import smtplib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import connection, transaction
from django.db.models import F

from leadrefinery.common.clock import now
from leadrefinery.leads.models import LeadEvent, Touch
from leadrefinery.leads.services import event_record
from leadrefinery.tracking import links

from . import content, domain, selectors, services
from .models import Enrollment, NurtureSend, ProgramStep

log = logging.getLogger(__name__)

Status = NurtureSend.Status
LEASE = timedelta(minutes=5)
SMTP_TIMEOUT_SECONDS = 30


@dataclass
class SendResult:
    sent: int = 0
    failed: int = 0
    dead: int = 0
    skipped: int = 0
    deferred: int = 0

    @property
    def total(self) -> int:
        return self.sent + self.failed + self.dead + self.skipped + self.deferred


def due(at: datetime):  # type: ignore[no-untyped-def]
    """Rows to work on at ``at``; the filter matches the partial index ``nurture_send_due``."""
    return NurtureSend.objects.filter(status__in=services.ACTIVE_SEND, send_after__lte=at)


def claim_due(at: datetime, limit: int, lease: timedelta = LEASE) -> tuple[str, list[NurtureSend]]:
    """Claim up to ``limit`` due rows for this caller; returns the claim token and the rows."""
    token = uuid.uuid4().hex
    with transaction.atomic():
        candidates = due(at).order_by("send_after", "id")
        if connection.vendor == "postgresql":
            # Concurrent sweeps take disjoint rows instead of queueing on the same ones.
            candidates = candidates.select_for_update(skip_locked=True)
        ids = list(candidates.values_list("pk", flat=True)[:limit])
        if not ids:
            return token, []
        # The due condition again: a row another sweep claimed in the meantime is not due.
        due(at).filter(pk__in=ids).order_by().update(
            status=Status.SENDING, claim=token, send_after=at + lease
        )
    rows = list(
        NurtureSend.objects.filter(pk__in=ids, claim=token, status=Status.SENDING)
        .select_related("enrollment__program", "step__message", "lead__person")
        .order_by("id")
    )
    for row in rows:
        # The lead's person today: a merge may have moved the lead to the surviving person,
        # whose address and (stricter) consent now apply.
        row.person = row.lead.person
    return token, rows


def message_id(send: NurtureSend) -> str:
    """Deterministic per row: every (re)send of the row carries the same Message-ID."""
    digest = hashlib.sha256(f"{send.pk}:{send.token}".encode()).hexdigest()[:24]
    domain_part = parseaddr(from_address())[1].rpartition("@")[2] or "leadrefinery"
    return f"<nurture.{send.pk}.{digest}@{domain_part}>"


def from_address() -> str:
    return settings.REFINERY_NURTURE_FROM_EMAIL or settings.DEFAULT_FROM_EMAIL


def unsubscribe_url(token: str) -> str:
    return f"{settings.SITE_URL}/u/{token}"


def build_email(send: NurtureSend, *, smtp: Any = None) -> EmailMultiAlternatives:
    """The email of one row, with the headers of RFC 2369 / RFC 8058 and tracking."""
    message = send.step.message
    url = unsubscribe_url(send.token)
    rendered = content.render(
        subject=message.subject,
        body_markdown=message.body_markdown,
        values=content.person_values(send.person),
        unsubscribe_url=url,
        postal_address=settings.REFINERY_POSTAL_ADDRESS,
        # Click redirects and the open pixel (tracking app), with this row as the reference.
        rewrite=lambda html: links.rewrite_links(
            html, person_id=send.person.pk, message_ref=send.ref
        ),
    )
    unsubscribe = f"<{url}>"
    if settings.REFINERY_NURTURE_UNSUBSCRIBE_MAILTO:
        unsubscribe += (
            f", <mailto:{settings.REFINERY_NURTURE_UNSUBSCRIBE_MAILTO}?subject=unsubscribe>"
        )
    email = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        from_email=from_address(),
        to=[send.recipient],
        headers={
            "Message-ID": message_id(send),
            "List-Unsubscribe": unsubscribe,
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "X-Refinery-Nurture": send.ref,
        },
        connection=smtp,
    )
    email.attach_alternative(rendered.html, "text/html")
    return email


def nurture_dispatch(
    *, at: datetime | None = None, limit: int = 100, lease: timedelta = LEASE
) -> SendResult:
    """Claim up to ``limit`` due rows and handle each one; the periodic job calls it in rounds."""
    at = at or now()
    result = SendResult()
    _step_cache.clear()
    record_pending(at, limit, lease)
    token, rows = claim_due(at, limit, lease)
    if not rows:
        return result
    ready = _check(rows, token, at, result)
    if ready:
        _send(ready, token, lease, result)
    return result


# --- checks at send time ---------------------------------------------------------------


def _mine(send: NurtureSend, token: str):  # type: ignore[no-untyped-def]
    return NurtureSend.objects.filter(pk=send.pk, claim=token, status=Status.SENDING).order_by()


def _release(send: NurtureSend, token: str, when: datetime, result: SendResult) -> None:
    _mine(send, token).update(status=Status.SCHEDULED, claim="", send_after=when)
    result.deferred += 1


def _skip(send: NurtureSend, token: str, reason: str, result: SendResult) -> None:
    _mine(send, token).update(
        status=Status.SKIPPED, claim="", skip_reason=reason[:64], send_after=None
    )
    result.skipped += 1


def _check(
    rows: list[NurtureSend], token: str, at: datetime, result: SendResult
) -> list[NurtureSend]:
    person_ids = {r.person.pk for r in rows}
    bases, merged_addresses = selectors.consent_bases(person_ids)
    addresses = {r.person.email for r in rows} | {
        a for group in merged_addresses.values() for a in group
    }
    suppressed = selectors.suppressed_reasons(addresses)
    cap = selectors.frequency_cap()
    history = selectors.recent_sends(person_ids, at - timedelta(days=cap.days))
    countries = selectors.opt_in_countries()
    ready = []
    for send in rows:
        program = send.enrollment.program
        person = send.person
        if send.enrollment.status != Enrollment.Status.ACTIVE:
            _skip(send, token, f"enrollment {send.enrollment.status}", result)
            continue
        if not program.active:
            _release(send, token, at + timedelta(days=1), result)
            continue
        own = domain.normalize_address(person.email)
        hits = [suppressed[a] for a in [own, *merged_addresses[person.pk]] if a in suppressed]
        suppression = hits[0] if hits else ""
        leave = domain.exit_decision(
            services.lead_snapshot(send.lead), program.exit_rules, suppression=suppression
        )
        if leave.ok:
            services.enrollment_exit(enrollment=send.enrollment, reason=leave.reason, at=at)
            result.skipped += 1
            continue
        consent = domain.consent_decision(
            country=person.country,
            bases=bases[person.pk],
            opt_in_countries=countries,
            suppressed=suppression,
        )
        if not own or consent.reason in ("withdrawn", "suppressed"):
            reason = "no_address" if not own else "unsubscribed"
            services.enrollment_exit(enrollment=send.enrollment, reason=reason, at=at)
            result.skipped += 1
            continue
        if not consent.ok:
            # No opt-in yet where one is required: this message is not sent; a later step
            # may go once consent is recorded.
            with transaction.atomic():
                _skip(send, token, consent.reason, result)
                _schedule_next(send, at)
            continue
        zone = selectors.recipient_zone(person, program)
        opens = domain.next_in_window(at, program.window, zone)
        if opens > at:
            _release(send, token, opens, result)
            continue
        allowed, free_at = domain.cap_decision(history.get(person.pk, []), at, cap)
        if not allowed.ok:
            _release(send, token, domain.next_in_window(free_at, program.window, zone), result)
            continue
        history.setdefault(person.pk, []).append(at)  # counts for later rows of this batch
        send.recipient = own
        ready.append(send)
    return ready


def _schedule_next(send: NurtureSend, at: datetime) -> None:
    program = send.enrollment.program
    steps = _steps(program.pk)
    following = next((s for s in steps if s.position > send.step.position), None)
    if following is None:
        Enrollment.objects.filter(pk=send.enrollment_id, status=Enrollment.Status.ACTIVE).update(
            status=Enrollment.Status.COMPLETED, ended_at=at, exit_reason="completed"
        )
        return
    services.send_schedule(
        enrollment=send.enrollment,
        step=following,
        person=send.person,
        not_before=at + selectors.step_delay(program, following),
        at=at,
        claimed=True,
    )


# A program's steps, read once per dispatch round (cleared at the start of each).
_step_cache: dict[int, list[ProgramStep]] = {}


def _steps(program_id: int) -> list[ProgramStep]:
    if program_id not in _step_cache:
        _step_cache[program_id] = list(
            ProgramStep.objects.filter(program_id=program_id).order_by("position")
        )
    return _step_cache[program_id]


# --- sending ---------------------------------------------------------------------------


def _renew(send: NurtureSend, token: str, lease: timedelta) -> bool:
    """Make sure the row is still ours just before sending. While more than half of the lease
    is left nobody else can have claimed it (a claim needs the lease to have ended), so no
    query; after that the lease is extended, and False means another worker took the row."""
    stamp = now()
    if send.send_after is not None and stamp < send.send_after - lease / 2:
        return True
    renewed = _mine(send, token).update(send_after=stamp + lease)
    send.send_after = stamp + lease
    return bool(renewed)


def _send(rows: list[NurtureSend], token: str, lease: timedelta, result: SendResult) -> None:
    smtp = get_connection(fail_silently=False, timeout=SMTP_TIMEOUT_SECONDS)
    try:
        smtp.open()
    except Exception as exc:  # any connection failure: retry later
        for send in rows:
            _failed(send, token, _describe(exc), result, permanent=False)
        return
    try:
        for send in rows:
            if not _renew(send, token, lease):
                continue
            try:
                build_email(send, smtp=smtp).send()
            except smtplib.SMTPRecipientsRefused as exc:
                code = next(iter(exc.recipients.values()), (0, b""))[0]
                _failed(send, token, _describe(exc), result, permanent=code >= 500)
            except Exception as exc:  # SMTP and socket errors alike: retry with backoff
                _failed(send, token, _describe(exc), result, permanent=False)
            else:
                _sent(send, token, result)
    finally:
        try:
            smtp.close()
        except Exception:  # a broken connection must not hide the results
            log.debug("closing the SMTP connection failed", exc_info=True)


def _sent(send: NurtureSend, token: str, result: SendResult) -> None:
    """The server accepted the message: say so at once, in one statement of its own, so that
    a worker killed now does not send it again; then write what follows from it."""
    stamp = now()
    won = _mine(send, token).update(
        status=Status.SENT,
        pending_record=True,
        recipient=send.recipient,
        person_id=send.person.pk,
        sent_at=stamp,
        message_id=message_id(send),
        attempts=F("attempts") + 1,
        last_error="",
    )
    if won:
        result.sent += 1
        _record(send, token, stamp)


def _pending(at: datetime):  # type: ignore[no-untyped-def]
    """Sent rows whose worker died before it recorded them (their lease has ended)."""
    return NurtureSend.objects.filter(status=Status.SENT, pending_record=True, send_after__lte=at)


def record_pending(at: datetime, limit: int, lease: timedelta = LEASE) -> int:
    """Finish the rows a killed worker sent but did not record: the touch, the timeline event
    and the next step, written once (each row is claimed first), never a second email."""
    done = 0
    for pk in list(_pending(at).order_by("send_after", "id").values_list("pk", flat=True)[:limit]):
        token = uuid.uuid4().hex
        if not _pending(at).filter(pk=pk).update(claim=token, send_after=at + lease):
            continue  # another sweep took it
        send = NurtureSend.objects.select_related(
            "enrollment__program", "step__message", "lead__person", "person"
        ).get(pk=pk)
        done += _record(send, token, send.sent_at or at)
    return done


def _record(send: NurtureSend, token: str, stamp: datetime) -> int:
    with transaction.atomic():
        won = (
            NurtureSend.objects.filter(
                pk=send.pk, claim=token, status=Status.SENT, pending_record=True
            )
            .order_by()
            .update(pending_record=False, claim="", send_after=None)
        )
        if not won:
            return 0
        _schedule_next(send, stamp)
        message = send.step.message
        Touch.objects.create(
            person_id=send.person.pk,
            lead_id=send.lead_id,
            channel=Touch.Channel.EMAIL,
            direction=Touch.Direction.OUTBOUND,
            outcome=Touch.Outcome.SENT,
            occurred_at=stamp,
            note=f"Nurture: {message.subject}"[:2000],
        )
        event_record(
            lead=send.lead,
            kind=LeadEvent.Kind.NURTURE,
            actor=services.ACTOR,
            at=stamp,
            reason="sent",
            note=f"Sent '{message.name}' (step {send.step.position} of "
            f"'{send.enrollment.program.name}')",
            data={"send": send.pk, "message": message.pk, "message_id": message_id(send)},
        )
    return 1


def _failed(
    send: NurtureSend, token: str, error: str, result: SendResult, *, permanent: bool
) -> None:
    attempts = send.attempts + 1
    stamp = now()
    if permanent or attempts >= domain.MAX_ATTEMPTS:
        if _mine(send, token).update(
            status=Status.DEAD,
            claim="",
            recipient=send.recipient,
            attempts=attempts,
            last_error=error[:2000],
            send_after=None,
        ):
            result.dead += 1
        if permanent:
            services.bounce_record(
                address=send.recipient,
                kind="hard_bounce",
                source="smtp",
                note=error[:500],
                at=stamp,
            )
        return
    if _mine(send, token).update(
        status=Status.FAILED,
        claim="",
        recipient=send.recipient,
        attempts=attempts,
        last_error=error[:2000],
        send_after=stamp + domain.backoff(attempts),
    ):
        result.failed += 1


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
