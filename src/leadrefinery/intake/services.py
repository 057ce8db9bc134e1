"""Intake that never loses a lead.

1. ``intake_receive`` stores the submission raw (payload, source, time, idempotency key) and
   commits, before anything can fail.
2. ``intake_process`` / ``process_records`` turn stored records into Person + Lead + Touch +
   timeline in one transaction per batch (the phases are in materialize.py). A record is processed exactly once: processing
   locks it, and a record already processed returns its stored response.
3. ``intake_retry_sweep`` (a periodic job) picks up records a crash left unprocessed.

All entry points (API, form, CSV import, demo) go through here.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F

from leadrefinery.common import config
from leadrefinery.common.clock import now
from leadrefinery.common.db import insert_rows, placeholders, update_rows
from leadrefinery.common.text import scrub, scrub_text
from leadrefinery.dedupe.services import AccountIndex, RowMatch, Variant
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.custom_field_services import definitions
from leadrefinery.leads.models import (
    Campaign,
    IntakeRecord,
    Source,
    WebForm,
)
from leadrefinery.leads.normalize import NormalizeResult, normalize_inquiry

# The outcomes of an inquiry, re-exported: callers import them from here.
from .materialize import OUTCOME_ATTACHED as OUTCOME_ATTACHED
from .materialize import OUTCOME_NEW as OUTCOME_NEW
from .materialize import Pending, materialize

log = logging.getLogger(__name__)


class IdempotencyConflict(Exception):
    """The same idempotency key was used with a different body."""


def payload_hash(payload: dict[str, Any]) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def scrubbed(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload without control characters; how many were removed is recorded in it."""
    clean, removed = scrub(payload)
    if removed:
        clean["removed_control_characters"] = removed
    return clean


def intake_receive(
    *,
    channel: str,
    payload: dict[str, Any],
    source: Source,
    campaign: Campaign | None = None,
    form: WebForm | None = None,
    idempotency_scope: str = "",
    idempotency_key: str | None = None,
    submitted_by=None,
    ip: str | None = None,
    user_agent: str = "",
    at: datetime | None = None,
) -> tuple[IntakeRecord, bool]:
    """Store a submission raw. Returns (record, created); a replayed key returns the original.

    Raises IdempotencyConflict when the key was used before with a different body. Control
    characters (NUL...) are removed first, and their count kept in the payload under
    ``removed_control_characters``: PostgreSQL cannot store a NUL, and an inquiry is never lost
    for one.
    """
    payload = scrubbed(payload)
    user_agent = scrub_text(user_agent or "")[0]
    digest = payload_hash(payload)
    fields = dict(
        channel=channel,
        received_at=at or now(),
        payload=payload,
        payload_hash=digest,
        source=source,
        campaign=campaign,
        form=form,
        idempotency_scope=idempotency_scope if idempotency_key else "",
        idempotency_key=idempotency_key or None,
        submitted_by=submitted_by,
        ip=ip,
        user_agent=(user_agent or "")[:300],
    )
    record = IntakeRecord(**fields)
    # In autocommit, one statement: stored for good the moment it returns (no BEGIN and
    # COMMIT round trips; a replayed key fails that statement alone). Inside a caller's
    # transaction, a savepoint, so that a replayed key does not break that transaction.
    guard = transaction.atomic() if connection.in_atomic_block else nullcontext()
    try:
        with guard:
            insert_rows(IntakeRecord, [record])
        return record, True
    except IntegrityError:
        if not idempotency_key:
            raise
        existing = IntakeRecord.objects.filter(
            idempotency_scope=idempotency_scope, idempotency_key=idempotency_key
        ).first()
        if existing is None:  # pragma: no cover - the row that conflicted must exist
            raise
        if existing.payload_hash != digest:
            raise IdempotencyConflict(idempotency_key) from None
        return existing, False


def intake_process(record: IntakeRecord, *, actor: Actor | None = None) -> IntakeRecord:
    """Process one stored record (or return it unchanged if already done)."""
    done = process_records(
        [record.pk], actor=actor or Actor.system(f"intake:{record.channel}"), stored=[record]
    )
    if done:
        return done[0]
    return IntakeRecord.objects.get(pk=record.pk)  # processed before, by another request


def _lock_match_keys(keys: list[str]) -> None:
    """Serialize concurrent intakes of the same person on PostgreSQL (SQLite already
    serializes writers with IMMEDIATE transactions)."""
    if connection.vendor != "postgresql" or not keys:
        return
    # One query for the whole batch; unnest keeps the sorted order, so two batches always
    # take their common locks in the same order and cannot deadlock.
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(pg_advisory_xact_lock(hashtext(k))) FROM unnest(%s::text[]) AS k",
            [sorted(set(keys))],
        )


_DUE = (IntakeRecord.Status.RECEIVED.value, IntakeRecord.Status.FAILED.value)


def _lock_due(record_ids: list[int], stored: Sequence[IntakeRecord]) -> list[IntakeRecord]:
    """The records among ``record_ids`` still waiting to be processed, locked, in id order.

    A caller that has just stored the records passes them as ``stored``: then only their ids
    and attempt counts are read back (one short statement; the ORM query with its joins cost
    more than 1 ms of an API request's 15). Every other field that processing reads was
    written by that caller, and every field another process may have changed since is either
    read back (attempts) or written anew (status, errors, response, person, lead).
    """
    by_pk = {r.pk: r for r in stored}
    if not record_ids or not by_pk.keys() >= set(record_ids):
        # Lock only the records ("of self"): PostgreSQL refuses FOR UPDATE on the nullable
        # side of the outer join to the form, and locking the shared Source row would
        # serialize all intake.
        return list(
            IntakeRecord.objects.select_for_update(of=("self",))
            .filter(pk__in=record_ids, status__in=_DUE)
            .select_related("form", "source")
            .order_by("pk")
        )
    qn = connection.ops.quote_name
    sql = (
        f"SELECT id, attempts FROM {qn(IntakeRecord._meta.db_table)} "
        f"WHERE id IN ({placeholders(record_ids)}) AND status IN (%s, %s) ORDER BY id"
    )
    if connection.vendor == "postgresql":  # SQLite: the IMMEDIATE transaction already locks
        sql += " FOR UPDATE"
    with connection.cursor() as cur:
        cur.execute(sql, [*record_ids, *_DUE])
        due = cur.fetchall()
    records = []
    for pk, attempts in due:
        record = by_pk[pk]
        record.attempts = attempts
        records.append(record)
    return records


@transaction.atomic
def process_records(
    record_ids: list[int],
    *,
    actor: Actor,
    at: datetime | None = None,
    stored: Sequence[IntakeRecord] = (),
    matches: Callable[[Sequence[IntakeRecord]], list[RowMatch]] | None = None,
    accounts: AccountIndex | None = None,
    normalized: Callable[[IntakeRecord], NormalizeResult | None] | None = None,
    keys: Callable[[IntakeRecord], dict[str, str] | None] | None = None,
    variants: Callable[[IntakeRecord], Variant | None] | None = None,
) -> list[IntakeRecord]:
    """Process stored records in one transaction with a constant number of queries per batch.

    ``stored``: the record objects, when the caller has just stored them (see ``_lock_due``).
    ``matches``: who the records' people are, decided by the caller (an import decides for
    the whole file at once, see import_plan.py), given the records that normalize, in order;
    by default each batch is matched here. ``accounts``: the stored accounts' keys as the
    caller's earlier batches read them (an import keeps one for all its chunks).
    ``normalized``: a record's normalization when the caller already made it from the same
    payload and settings (an import's matching process), or None to make it here.
    ``keys``: the match keys of a record's person when the caller worked them out from that
    normalization (dedupe.keys.person_keys), or None to work them out here. ``variants``: the
    variant a record attaching to a person is kept as (dedupe.services.variant_of), when the
    caller made it from the same fields and keys, or None to make it here.
    """
    at = at or now()
    records = _lock_due(record_ids, stored)
    if not records:
        return []
    default_country = settings.REFINERY_DEFAULT_COUNTRY
    custom = definitions()
    entity_of = {d.name: d.entity for d in custom}
    pending: list[Pending] = []
    for record in records:
        record.attempts += 1
        record.processed_at = at
        result = (normalized(record) if normalized is not None else None) or normalize_inquiry(
            record.payload,
            default_country=default_country,
            read_money=record.channel == IntakeRecord.Channel.IMPORT,
            custom=custom,
        )
        if result.clean is None:
            record.status = IntakeRecord.Status.REJECTED
            record.errors = [{"field": e.field, "message": e.message} for e in result.errors]
            record.response = {"inquiry_id": record.pk, "errors": record.errors}
            continue
        clean = result.clean
        lead_fields: dict[str, Any] = dict(clean.lead)
        by_entity: dict[str, dict[str, Any]] = {"lead": {}, "person": {}, "account": {}}
        for name, value in clean.custom.items():
            by_entity[entity_of.get(name, "lead")][name] = value
        lead_fields["custom"] = by_entity["lead"]
        if not lead_fields["product_interest"] and record.form and record.form.product_interest:
            lead_fields["product_interest"] = record.form.product_interest
        pending.append(
            Pending(
                record=record,
                person=clean.person,
                lead=lead_fields,
                received_at=clean.received_at or record.received_at,
                consent=clean.consent,
                warnings=clean.warnings,
                opportunity_amount=clean.opportunity_amount,
                currency=clean.currency,
                person_custom=by_entity["person"],
                account_custom=by_entity["account"],
                keys=keys(record) if keys is not None else None,
                variant=variants(record) if variants is not None else None,
            )
        )
    _lock_match_keys([p.person["email"] or p.person["phone"] for p in pending])
    decided = matches([p.record for p in pending]) if matches and pending else None
    with config.pinned():  # one configuration-token read for the whole batch
        materialize(pending, actor=actor, at=at, matches=decided, accounts=accounts)
    update_rows(
        records, ["status", "errors", "response", "person", "lead", "processed_at", "attempts"]
    )
    return records


def intake_retry_sweep(*, older_than_seconds: int | None = None, limit: int = 500) -> int:
    """Process records left unprocessed by a crash. Idempotent; safe to run concurrently."""
    age = (
        settings.REFINERY_INTAKE_RETRY_AFTER_SECONDS
        if older_than_seconds is None
        else older_than_seconds
    )
    cutoff = now() - timedelta(seconds=age)
    done = 0
    while True:
        ids = list(
            IntakeRecord.objects.filter(
                status__in=[IntakeRecord.Status.RECEIVED, IntakeRecord.Status.FAILED],
                received_at__lte=cutoff,
                attempts__lt=10,
            )
            .order_by("received_at")
            .values_list("pk", flat=True)[:limit]
        )
        if not ids:
            return done
        try:
            done += len(process_records(ids, actor=Actor.system("intake-retry")))
        except Exception:  # one poisoned record must not stop the others
            log.exception("intake retry failed for a batch; retrying one by one")
            for pk in ids:
                try:
                    done += len(process_records([pk], actor=Actor.system("intake-retry")))
                except Exception:
                    log.exception("intake record %s failed again", pk)
                    IntakeRecord.objects.filter(pk=pk).update(
                        status=IntakeRecord.Status.FAILED, attempts=F("attempts") + 1
                    )
        if len(ids) < limit:
            return done
