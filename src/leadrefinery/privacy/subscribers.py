"""Inquiries from a contact that was erased: kept, flagged, and kept out of nurture.

A person who asked to be erased may write again (a form, an import of an old list). The
inquiry is a new fact and is stored like any other (no inquiry is ever lost), but when its
email address or phone number matches an erased contact's keyed hash, its lead's timeline
says so, and the address is put on the nurture suppression list: it is never enrolled in a
nurture program or emailed by one. Sales may still answer the inquiry itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from leadrefinery.leads.events import events_insert, leads_of
from leadrefinery.leads.models import LeadEvent, Person
from leadrefinery.nurture.models import Suppression
from leadrefinery.nurture.services import suppression_add

from . import keys
from .models import ErasedContact

NOTE = (
    "This contact matches a person whose data was erased on request. The inquiry is kept; "
    "the address is suppressed from nurture email. Check before contacting them beyond "
    "answering this inquiry."
)


def on_new_inquiries(changes: Sequence[Any]) -> None:
    if not changes or not ErasedContact.objects.exists():
        return
    leads = leads_of(changes)
    if not leads:
        return
    people = {
        p.pk: p
        for p in Person.objects.filter(pk__in={lead.person_id for lead in leads.values()}).only(
            "pk", "email", "phone"
        )
    }
    wanted: dict[str, list[int]] = {}
    for person in people.values():
        for digest in keys.contact_digests(person.email, person.phone).values():
            wanted.setdefault(digest, []).append(person.pk)
        for kind, value in (
            ("email", keys.normalized_email(person.email)),
            ("phone", keys.normalized_phone(person.phone)),
        ):
            if value:
                # Erasures made under an earlier SECRET_KEY (kept in SECRET_KEY_FALLBACKS).
                for digest in keys.digests(kind, value)[1:]:
                    wanted.setdefault(digest, []).append(person.pk)
    hit = set(
        ErasedContact.objects.filter(digest__in=list(wanted)).values_list("digest", flat=True)
    )
    flagged = {pk for digest in hit for pk in wanted[digest]}
    if not flagged:
        return
    at = max(change.occurred_at for change in changes)
    for pk in sorted(flagged):
        if people[pk].email:
            suppression_add(
                address=people[pk].email,
                reason=Suppression.Reason.MANUAL,
                source="privacy: erased earlier",
                at=at,
            )
    already = set(
        LeadEvent.objects.filter(
            lead_id__in=list(leads), kind=LeadEvent.Kind.NOTE, data__privacy="suppressed"
        ).values_list("lead_id", flat=True)
    )
    events_insert(
        [
            LeadEvent(
                lead_id=lead.pk,
                kind=LeadEvent.Kind.NOTE,
                occurred_at=at,
                actor=None,
                actor_label="system:privacy",
                note=NOTE,
                data={"privacy": "suppressed"},
            )
            for lead in leads.values()
            if lead.person_id in flagged and lead.pk not in already
        ]
    )
