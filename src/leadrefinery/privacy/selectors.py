"""Reads: which people a request is about, which rows hold data about them, the export.

Rows about a person are found by introspection: every model with a foreign key to ``Person``
or ``Lead`` (in any app, including ones added later) is read by that key, so a new table is
covered without a change here. The few tables that hold a person's data without such a key
(the tracking hit buffer, the outbox rows with no lead, the nurture suppression list, raw
inquiries that never became a lead) are read explicitly.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import models
from django.db.models import Q

from leadrefinery.common.clock import now
from leadrefinery.leads.models import IntakeRecord, Lead, Person
from leadrefinery.notifications.models import OutboxMessage
from leadrefinery.nurture.models import Suppression
from leadrefinery.tracking.models import Hit, Visit, Visitor

from . import domain

# Payload keys whose values identify a person (intake field names and their usual aliases).
PII_PAYLOAD_KEYS = frozenset(
    {
        "email",
        "phone",
        "first_name",
        "last_name",
        "name",
        "full_name",
        "street",
        "address",
        "postcode",
        "zip",
        "city",
        "title",
        "job_title",
        "website",
        "mobile",
    }
)


class NotFound(Exception):
    pass


@dataclass(frozen=True)
class Subject:
    """The people one request is about (a person and everyone merged into it) and their leads."""

    people: tuple[Person, ...]
    lead_ids: tuple[int, ...]

    @property
    def person_ids(self) -> list[int]:
        return [p.pk for p in self.people]


def subject_find(ref: str) -> Subject:
    """``ref`` is a person id or an email address. The people found, the people merged into
    them (a merge keeps the loser, pointing at its survivor) and their survivors."""
    ref = (ref or "").strip()
    if ref.isdigit():
        seeds = list(Person.objects.filter(pk=int(ref)))
    elif "@" in ref:
        from leadrefinery.dedupe.models import PersonVariant

        address = ref.lower()
        # Also the people who came in once under this address as another spelling of
        # themselves (a name variant keeps the address it arrived with).
        variants = PersonVariant.objects.filter(email=address).values("person_id")
        seeds = list(
            Person.objects.filter(
                Q(email=address) | Q(email_unparsed__iexact=ref) | Q(pk__in=variants)
            )
        )
    else:
        raise NotFound("give a person id (a number) or an email address")
    if not seeds:
        raise NotFound(f"no person matches {ref!r}")
    ids = {p.pk for p in seeds}
    # Up to the survivors, then down to everything merged into them.
    frontier = {p.merged_into_id for p in seeds if p.merged_into_id}
    while frontier - ids:
        ids |= frontier
        frontier = set(
            Person.objects.filter(pk__in=frontier, merged_into__isnull=False).values_list(
                "merged_into_id", flat=True
            )
        )
    frontier = set(ids)
    while frontier:
        below = set(Person.objects.filter(merged_into_id__in=frontier).values_list("pk", flat=True))
        frontier = below - ids
        ids |= below
    people = tuple(Person.objects.filter(pk__in=ids).order_by("pk"))
    lead_ids = tuple(
        Lead.objects.filter(person_id__in=ids).order_by("pk").values_list("pk", flat=True)
    )
    return Subject(people=people, lead_ids=lead_ids)


def linked_models() -> list[tuple[type[models.Model], list[str], list[str]]]:
    """Every model with a foreign key to Person or Lead: (model, person keys, lead keys)."""
    found = []
    for model in apps.get_models():
        if model in (Person, Lead):
            continue
        person_keys, lead_keys = [], []
        for field in model._meta.concrete_fields:
            if not field.is_relation or field.related_model is None:
                continue
            if field.related_model is Person:
                person_keys.append(field.name)
            elif field.related_model is Lead:
                lead_keys.append(field.name)
        if person_keys or lead_keys:
            found.append((model, person_keys, lead_keys))
    return sorted(found, key=lambda item: item[0]._meta.label)


def linked_rows(
    model: type[models.Model], person_keys: list[str], lead_keys: list[str], subject: Subject
) -> models.QuerySet:
    where = Q()
    for key in person_keys:
        where |= Q(**{f"{key}__in": subject.person_ids})
    for key in lead_keys:
        where |= Q(**{f"{key}__in": subject.lead_ids})
    return model._default_manager.filter(where).order_by("pk")


def contacts_of(subject: Subject) -> tuple[set[str], set[str]]:
    """The person's email addresses and phone numbers, as stored anywhere we link them."""
    from leadrefinery.dedupe.models import PersonVariant
    from leadrefinery.tracking.models import TrackedEvent

    emails: set[str] = set()
    phones: set[str] = set()
    for p in subject.people:
        emails |= {p.email, p.email_unparsed}
        phones |= {p.phone, p.phone_unparsed}
    for email, phone in PersonVariant.objects.filter(person_id__in=subject.person_ids).values_list(
        "email", "phone"
    ):
        emails.add(email)
        phones.add(phone)
    emails |= set(
        TrackedEvent.objects.filter(person_id__in=subject.person_ids).values_list(
            "email", flat=True
        )
    )
    for payload in _intake_of(subject).values_list("payload", flat=True):
        if isinstance(payload, dict):
            for key in ("email",):
                if isinstance(payload.get(key), str):
                    emails.add(payload[key].strip().lower())
            for key in ("phone", "mobile"):
                if isinstance(payload.get(key), str):
                    phones.add(payload[key].strip())
    return {e for e in emails if e}, {p for p in phones if p}


def needles_of(subject: Subject) -> domain.Needles:
    """Every string that identifies the person: contacts, names, street, company, and the
    identifying values of their raw inquiries."""
    from leadrefinery.dedupe.models import PersonVariant
    from leadrefinery.tracking.models import TrackedEvent

    emails, phones = contacts_of(subject)
    words: set[str] = set()
    # The match keys too: duplicate reasons quote them ("+3 same postcode (ls14ab)").
    name_fields = (
        "first_name",
        "last_name",
        "street",
        "city",
        "postcode",
        "company_name",
        "website",
        "email_key",
        "first_name_key",
        "last_name_key",
        "postcode_key",
        "street_key",
    )
    for p in subject.people:
        words |= {getattr(p, f) for f in name_fields}
        words.add(f"{p.first_name} {p.last_name}".strip())
    for row in PersonVariant.objects.filter(person_id__in=subject.person_ids).values(
        "first_name",
        "last_name",
        "company_name",
        "street",
        "city",
        "email_key",
        "first_name_key",
        "last_name_key",
        "postcode_key",
        "street_key",
    ):
        words |= {str(v) for v in row.values()}
    for payload in _intake_of(subject).values_list("payload", flat=True):
        if isinstance(payload, dict):
            words |= {v for k, v in payload.items() if k in PII_PAYLOAD_KEYS and isinstance(v, str)}
    # A sender's event id may be built from the address; score logs refer to it.
    event_ids = set(
        TrackedEvent.objects.filter(person_id__in=subject.person_ids).values_list(
            "event_id", flat=True
        )
    )
    return domain.needles_of(emails | phones | event_ids, words)


def _intake_of(subject: Subject) -> models.QuerySet:
    return IntakeRecord.objects.filter(
        Q(person_id__in=subject.person_ids) | Q(lead_id__in=subject.lead_ids)
    )


def unlinked_rows(subject: Subject) -> Iterator[tuple[type[models.Model], models.QuerySet]]:
    """Rows that hold the person's data without a key to them."""
    emails, _phones = contacts_of(subject)
    visitor_keys = list(
        Visitor.objects.filter(person_id__in=subject.person_ids).values_list("key", flat=True)
    )
    from leadrefinery.nurture.models import NurtureSend

    refs = [
        f"nurture-{pk}"
        for pk in NurtureSend.objects.filter(person_id__in=subject.person_ids).values_list(
            "pk", flat=True
        )
    ]
    # Visits of their browsers recorded before the browser was tied to them.
    yield (
        Visit,
        Visit.objects.filter(visitor__person_id__in=subject.person_ids)
        .exclude(person_id__in=subject.person_ids)
        .order_by("pk"),
    )
    yield (
        Hit,
        Hit.objects.filter(
            Q(visitor_key__in=visitor_keys)
            | Q(person_id_signed__in=subject.person_ids)
            | Q(message_ref__in=refs)
        ).order_by("pk"),
    )
    text = Q()
    for email in emails:
        text |= Q(subject__icontains=email) | Q(body__icontains=email) | Q(recipient__iexact=email)
    for p in subject.people:
        full = f"{p.first_name} {p.last_name}".strip()
        if len(full) >= domain.MIN_NEEDLE and " " in full:
            text |= Q(subject__icontains=full) | Q(body__icontains=full)
    if text:
        yield (
            OutboxMessage,
            OutboxMessage.objects.filter(lead__isnull=True).filter(text).order_by("pk"),
        )
        yield (
            IntakeRecord,
            IntakeRecord.objects.filter(person__isnull=True, lead__isnull=True)
            .filter(_payload_mentions(emails))
            .order_by("pk"),
        )
    if emails:
        yield Suppression, Suppression.objects.filter(address__in=sorted(emails)).order_by("pk")


def _payload_mentions(emails: set[str]) -> Q:
    where = Q(pk__in=[])
    for email in emails:
        where |= Q(payload__icontains=email)
    return where


# --- The export ---------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode()
    return value


def row_dict(obj: models.Model) -> dict[str, Any]:
    return {f.attname: _plain(getattr(obj, f.attname)) for f in obj._meta.concrete_fields}


def person_export(subject: Subject) -> dict[str, Any]:
    """Every row about the person, by table (``app_label.Model``), as plain JSON values."""
    tables: dict[str, list[dict[str, Any]]] = {
        "leads.Person": [row_dict(p) for p in subject.people],
        "leads.Lead": [
            row_dict(x) for x in Lead.objects.filter(pk__in=subject.lead_ids).order_by("pk")
        ],
    }
    for model, person_keys, lead_keys in linked_models():
        rows = [row_dict(r) for r in linked_rows(model, person_keys, lead_keys, subject)]
        if rows:
            tables[model._meta.label] = rows
    for model, qs in unlinked_rows(subject):
        seen = {r["id"] for r in tables.get(model._meta.label, [])}
        extra = [row_dict(r) for r in qs if r.pk not in seen]
        if extra:
            tables.setdefault(model._meta.label, []).extend(extra)
    return {
        "exported_at": now().isoformat(),
        "person_ids": subject.person_ids,
        "lead_ids": list(subject.lead_ids),
        "tables": tables,
    }
