"""Writes: erase a person, record an export.

``person_erase`` keeps every record (no lead is ever lost) and irreversibly redacts what
identifies the person, everywhere it is stored:

1. Fields that hold only the person's data are blanked whole: the person's contact and name
   fields and match keys, their name variants, the free text of their leads (message,
   qualification, notes, custom text values), raw inquiry payloads, touch and timeline notes,
   the body of emails about their leads, tracked event contacts and properties, visit titles.
2. URLs keep their path only (visits, hits) or their host (referrers).
3. Every text and JSON column of every other row linked to the person or their leads (found by
   introspection, so later tables are covered too) has the person's identifying strings
   replaced by "[erased]", as have the outbox rows, hits, raw inquiries and suppression
   entries that mention them without a link.

What reports need stays: stages, dates, source, campaign, UTM parameters, amounts, reason
codes, owners, scores, the company (Account: an organisation, not the person).
An ``ErasedContact`` keeps a keyed hash of each email and phone, and a ``PrivacyEvent`` says
who erased, when and why.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import datetime
from typing import Any

from django.db import models, transaction

from leadrefinery.cadences.services import cadence_stop
from leadrefinery.common.clock import now
from leadrefinery.common.errors import ServiceError
from leadrefinery.dedupe.keys import KEY_FIELDS
from leadrefinery.dedupe.models import PersonVariant
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.events import events_insert
from leadrefinery.leads.models import (
    Account,
    Consent,
    CustomField,
    IntakeRecord,
    Lead,
    LeadEvent,
    Person,
    Touch,
)
from leadrefinery.notifications.models import OutboxMessage, WebhookDelivery
from leadrefinery.nurture.models import Enrollment as NurtureEnrollment
from leadrefinery.nurture.models import NurtureSend, Suppression
from leadrefinery.nurture.services import enrollment_exit
from leadrefinery.tracking.models import Hit, TrackedEvent, Visit, Visitor

from . import domain, keys, selectors
from .models import ErasedContact, PrivacyEvent

ERASED_PAYLOAD = {"_erased": True}

# Person fields that identify the person (blanked); the rest (country, language, account,
# status, merge links, dates) are kept.
PERSON_FIELDS = (
    "email",
    "phone",
    "email_unparsed",
    "phone_unparsed",
    "first_name",
    "last_name",
    "title",
    "company_name",
    "website",
    "region",
    "city",
    "postcode",
    "street",
    *KEY_FIELDS,  # the match keys: every one the dedupe app derives from the contact
    "merge_reason",
)
VARIANT_FIELDS = (
    "email",
    "phone",
    "first_name",
    "last_name",
    "company_name",
    "street",
    "city",
    *KEY_FIELDS,  # the match keys: every one the dedupe app derives from the contact
)
LEAD_TEXT_FIELDS = ("message", "need", "budget", "authority", "timeline", "disposition_note")
MAX_REASON = 2000
STOPPED = "Personal data erased on request"
NEXT_ACTION = "Close or keep: the person's data was erased"


def export_record(
    *, subject: selectors.Subject, actor: Actor, at: datetime | None = None
) -> PrivacyEvent:
    """The audit entry of an export (who exported which person ids, when)."""
    return PrivacyEvent.objects.create(
        kind=PrivacyEvent.Kind.EXPORT,
        occurred_at=at or now(),
        actor=actor.user,
        actor_label=actor.label,
        person_ids=subject.person_ids,
        lead_ids=list(subject.lead_ids),
    )


@transaction.atomic
def person_erase(
    *, subject: selectors.Subject, actor: Actor, reason: str, at: datetime | None = None
) -> PrivacyEvent:
    """Erase the person (and the people merged into them): see the module's docstring."""
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(
            "say why (e.g. 'GDPR request of 2026-12-01, ticket 4411')", field="reason"
        )
    if len(reason) > MAX_REASON:
        raise ServiceError(f"at most {MAX_REASON} characters", field="reason")
    at = at or now()
    # Lock the people first: an intake attaching a new inquiry waits for the erasure.
    people = list(
        Person.objects.select_for_update().filter(pk__in=subject.person_ids).order_by("pk")
    )
    # Read again under the lock: a lead attached since the request was looked up is included.
    lead_ids = tuple(
        Lead.objects.filter(person_id__in=subject.person_ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    subject = selectors.Subject(people=tuple(people), lead_ids=lead_ids)
    needles = selectors.needles_of(subject)
    emails, phones = selectors.contacts_of(subject)
    counts: Counter[str] = Counter()

    event = PrivacyEvent.objects.create(
        kind=PrivacyEvent.Kind.ERASE,
        occurred_at=at,
        actor=actor.user,
        actor_label=actor.label,
        person_ids=subject.person_ids,
        lead_ids=list(subject.lead_ids),
        reason=reason,
    )
    _keep_contact_hashes(emails, phones, event, at)
    # Unlinked rows are found by the contacts, so before the linked ones lose them.
    unlinked = [(model, list(qs)) for model, qs in selectors.unlinked_rows(subject)]

    counts["leads.Person"] = Person.objects.filter(pk__in=subject.person_ids).update(
        **{f: "" for f in PERSON_FIELDS}, updated_at=at
    )
    _erase_person_custom(subject)
    _erase_variants(subject, counts)
    _erase_own_accounts(subject, counts)
    _erase_leads(subject, counts, at)
    counts["leads.Touch"] = (
        Touch.objects.filter(
            models.Q(person_id__in=subject.person_ids) | models.Q(lead_id__in=subject.lead_ids)
        )
        .exclude(note="")
        .update(note="")
    )
    counts["leads.LeadEvent"] = (
        LeadEvent.objects.filter(lead_id__in=subject.lead_ids).exclude(note="").update(note="")
    )
    counts["leads.Consent"] = Consent.objects.filter(person_id__in=subject.person_ids).update(
        ip=None
    )
    _erase_intake(
        IntakeRecord.objects.filter(
            models.Q(person_id__in=subject.person_ids) | models.Q(lead_id__in=subject.lead_ids)
        ),
        counts,
    )
    _erase_tracking(subject, counts)
    _erase_email(subject, counts)
    for model, rows in unlinked:
        _erase_unlinked(model, rows, needles, counts)
    # Whatever else mentions the person in a row linked to them or their leads.
    for model, person_keys, lead_keys in selectors.linked_models():
        linked = selectors.linked_rows(model, person_keys, lead_keys, subject)
        changed = _scrub_rows(model, linked, needles)
        if changed:
            counts[model._meta.label] += changed
    _scrub_rows(Lead, Lead.objects.filter(pk__in=subject.lead_ids), needles)
    event.counts = {k: v for k, v in sorted(counts.items()) if v}
    event.save(update_fields=["counts"])
    # After the redaction, so that the timeline keeps why the cadence and programs ended.
    _stop_follow_up(subject, actor, at)
    _timeline_note(subject, actor, reason, at)
    return event


def _stop_follow_up(subject: selectors.Subject, actor: Actor, at: datetime) -> None:
    """Nobody can follow up a contact that is gone: nurture programs and running cadences end
    (recorded on the timeline); the leads keep their stage, for the reports."""
    for enrollment in NurtureEnrollment.objects.filter(
        person_id__in=subject.person_ids, status=NurtureEnrollment.Status.ACTIVE
    ):
        enrollment_exit(enrollment=enrollment, reason="erased", at=at, note=STOPPED)
    for lead in Lead.objects.filter(pk__in=subject.lead_ids):
        cadence_stop(lead=lead, actor=actor, reason=STOPPED, next_action=NEXT_ACTION, at=at)


def _keep_contact_hashes(
    emails: set[str], phones: set[str], event: PrivacyEvent, at: datetime
) -> None:
    wanted = {keys.digest("email", keys.normalized_email(e)): "email" for e in emails if "@" in e}
    wanted |= {
        keys.digest("phone", keys.normalized_phone(p)): "phone"
        for p in phones
        if keys.normalized_phone(p)
    }
    known = set(
        ErasedContact.objects.filter(digest__in=list(wanted)).values_list("digest", flat=True)
    )
    ErasedContact.objects.bulk_create(
        [
            ErasedContact(kind=kind, digest=digest, erased_at=at, event=event)
            for digest, kind in sorted(wanted.items())
            if digest not in known
        ]
    )


def _free_text_fields() -> set[str]:
    return set(
        CustomField.objects.filter(kind=CustomField.Kind.TEXT).values_list("name", flat=True)
    )


def _erase_person_custom(subject: selectors.Subject) -> None:
    """The person's own custom fields: free text may say anything and goes; numbers,
    choices, dates and yes/no are kept, as on the leads."""
    text_fields = _free_text_fields()
    for person in Person.objects.filter(pk__in=subject.person_ids).only("pk", "custom"):
        kept = {k: v for k, v in (person.custom or {}).items() if k not in text_fields}
        if kept != (person.custom or {}):
            person.custom = kept
            person.save(update_fields=["custom"])


def _erase_variants(subject: selectors.Subject, counts: Counter[str]) -> None:
    for variant in PersonVariant.objects.filter(person_id__in=subject.person_ids):
        for name in VARIANT_FIELDS:
            setattr(variant, name, "")
        # The signature is a plain hash of the variant's keys: replaced, not kept.
        variant.signature = hashlib.sha1(f"erased:{variant.pk}".encode()).hexdigest()
        variant.save(update_fields=[*VARIANT_FIELDS, "signature"])
        counts["dedupe.PersonVariant"] += 1


def _erase_own_accounts(subject: selectors.Subject, counts: Counter[str]) -> None:
    """A company account that only this person belongs to may be the person (a sole trader,
    a name typed as the company): its name and domain go too. Shared accounts are kept."""
    account_ids = {p.account_id for p in subject.people if p.account_id}
    if not account_ids:
        return
    shared = set(
        Person.objects.filter(account_id__in=account_ids)
        .exclude(pk__in=subject.person_ids)
        .values_list("account_id", flat=True)
    )
    own = account_ids - shared
    counts["leads.Account"] = Account.objects.filter(pk__in=own).update(
        name=domain.ERASED, name_key="", domain="", custom={}
    )


def _erase_leads(subject: selectors.Subject, counts: Counter[str], at: datetime) -> None:
    text_fields = _free_text_fields()
    for lead in Lead.objects.filter(pk__in=subject.lead_ids):
        for name in LEAD_TEXT_FIELDS:
            setattr(lead, name, "")
        # Free-text custom values may say anything; numbers, choices, dates and yes/no are
        # facts the reports and the readiness model read.
        lead.custom = {k: v for k, v in (lead.custom or {}).items() if k not in text_fields}
        lead.updated_at = at
        lead.save(update_fields=[*LEAD_TEXT_FIELDS, "custom", "updated_at"])
        counts["leads.Lead"] += 1


def _erase_intake(records: models.QuerySet, counts: Counter[str]) -> None:
    for record in records.order_by("pk"):
        record.payload = dict(ERASED_PAYLOAD)
        record.payload_hash = hashlib.sha256(f"erased:{record.pk}".encode()).hexdigest()
        record.ip = None
        record.user_agent = ""
        record.save(update_fields=["payload", "payload_hash", "ip", "user_agent"])
        counts["leads.IntakeRecord"] += 1


def _erase_tracking(subject: selectors.Subject, counts: Counter[str]) -> None:
    visits = Visit.objects.filter(
        models.Q(person_id__in=subject.person_ids)
        | models.Q(visitor__person_id__in=subject.person_ids)
    )
    for visit in visits:
        visit.url = domain.url_without_query(visit.url)
        visit.referrer = domain.url_origin(visit.referrer)
        visit.title = ""
        visit.save(update_fields=["url", "referrer", "title"])
        counts["tracking.Visit"] += 1
    for event in TrackedEvent.objects.filter(person_id__in=subject.person_ids):
        event.email = ""
        event.properties = {}
        event.save(update_fields=["email", "properties"])
        counts["tracking.TrackedEvent"] += 1
    # The cookie is an online identifier: replaced, so the browser's next visit is a stranger.
    for visitor in Visitor.objects.filter(person_id__in=subject.person_ids):
        old = visitor.key
        visitor.key = "erased-" + hashlib.sha256(f"{old}:{visitor.pk}".encode()).hexdigest()[:40]
        visitor.save(update_fields=["key"])
        Hit.objects.filter(visitor_key=old).update(visitor_key=visitor.key)
        counts["tracking.Visitor"] += 1


def _erase_email(subject: selectors.Subject, counts: Counter[str]) -> None:
    messages = OutboxMessage.objects.filter(lead_id__in=subject.lead_ids)
    for message in messages:
        message.body = ""
        message.payload = {"event": message.payload.get("event", message.event), "erased": True}
        message.save(update_fields=["body", "payload"])
        counts["notifications.OutboxMessage"] += 1
    counts["notifications.WebhookDelivery"] = WebhookDelivery.objects.filter(
        message__lead_id__in=subject.lead_ids
    ).update(response_excerpt="", error="")
    counts["nurture.NurtureSend"] = NurtureSend.objects.filter(
        person_id__in=subject.person_ids
    ).update(recipient="", last_error="")


def _erase_unlinked(
    model: type[models.Model], rows: list[Any], needles: domain.Needles, counts: Counter[str]
) -> None:
    for row in rows:
        if model is Visit:
            continue  # erased with the person's own visits (_erase_tracking)
        if model is Hit:
            row.url = domain.url_without_query(row.url)
            row.referrer = domain.url_origin(row.referrer)
            row.title = ""
            row.save(update_fields=["url", "referrer", "title"])
        elif model is Suppression:
            # Still suppressed (by its hash, keys.py); the address itself goes.
            row.address = f"erased:{keys.digest('email', keys.normalized_email(row.address))}"[:254]
            row.note = domain.scrub_text(row.note, needles)
            row.save(update_fields=["address", "note"])
        elif model is IntakeRecord:
            _erase_intake(IntakeRecord.objects.filter(pk=row.pk), counts)
            continue
        counts[model._meta.label] += 1
        _scrub_rows(model, model._default_manager.filter(pk=row.pk), needles)


def _text_fields(model: type[models.Model]) -> list[models.Field]:
    return [
        f
        for f in model._meta.concrete_fields
        if isinstance(f, models.CharField | models.TextField | models.JSONField)
        and not f.is_relation
        and not f.primary_key
        and not f.choices
    ]


def _scrub_rows(model: type[models.Model], rows: models.QuerySet, needles: domain.Needles) -> int:
    """Replace the needles in every free text and JSON column of the rows; the count changed."""
    fields = _text_fields(model)
    if not fields or needles.pattern is None:
        return 0
    changed = 0
    for row in rows.only("pk", *[f.name for f in fields]):
        dirty = []
        for field in fields:
            value = getattr(row, field.attname)
            if value is None:
                continue
            clean = (
                domain.scrub_json(value, needles)
                if isinstance(field, models.JSONField)
                else domain.scrub_text(value, needles)
            )
            if clean != value:
                if isinstance(clean, str) and field.max_length:
                    clean = clean[: field.max_length]
                if field.unique and isinstance(clean, str):
                    clean = f"{clean[: (field.max_length or 200) - 12]}:{row.pk}"
                setattr(row, field.attname, clean)
                dirty.append(field.name)
        if dirty:
            row.save(update_fields=dirty)
            changed += 1
    return changed


def _timeline_note(subject: selectors.Subject, actor: Actor, reason: str, at: datetime) -> None:
    note = (
        f"Personal data erased by {actor.label} on request. Reason: {reason}. The lead's "
        "stage, dates, source, campaign and amounts are kept for the reports."
    )
    events_insert(
        [
            LeadEvent(
                lead_id=lead_id,
                kind=LeadEvent.Kind.NOTE,
                occurred_at=at,
                actor=actor.user,
                actor_label=actor.label,
                note=note,
                data={"privacy": "erased"},
            )
            for lead_id in subject.lead_ids
        ]
    )
