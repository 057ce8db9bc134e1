"""Tracking writes: buffer hits, flush them into visits, touches and scores in batches,
identify a visitor at a form fill, and ingest events from the API idempotently.

The endpoints only call ``hit_record`` (one INSERT) and answer; ``hits_flush`` does the rest
after the response has gone out (see flush.py) and from the ``tracking-flush`` job, claiming
pending hits so that no hit is processed twice.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction

from leadrefinery.common.clock import now
from leadrefinery.common.db import insert_rows, update_rows
from leadrefinery.common.subscriptions import Notice
from leadrefinery.common.text import scrub_text
from leadrefinery.leads.events import publish
from leadrefinery.leads.models import Lead, Person, Touch
from leadrefinery.scoring import domain as scoring_domain
from leadrefinery.scoring.services import events_score

from . import queries, selectors
from .models import Hit, TrackedEvent, Visit, Visitor

if TYPE_CHECKING:
    from leadrefinery.accounts.models import User

log = logging.getLogger(__name__)

EVENT_TOUCH = {
    Hit.Kind.VISIT: (Touch.Channel.VISIT, ""),
    Hit.Kind.OPEN: (Touch.Channel.EMAIL_OPEN, Touch.Outcome.OPENED),
    Hit.Kind.CLICK: (Touch.Channel.EMAIL_CLICK, Touch.Outcome.CLICKED),
}
SCORE_EVENT = {
    Hit.Kind.VISIT: "page_visit",
    Hit.Kind.OPEN: "email_open",
    Hit.Kind.CLICK: "email_click",
}


def hit_record(
    *,
    kind: str,
    at: datetime | None = None,
    visitor_key: str = "",
    person_id: int | None = None,
    message_ref: str = "",
    url: str = "",
    title: str = "",
    referrer: str = "",
    removed_control_characters: int = 0,
) -> Hit:
    """Buffer one hit: a single INSERT, no transaction of its own, nothing read. Control
    characters (NUL...) are removed from its text first and counted on the hit (with those
    the caller removed already); text that is not valid Unicode (lone surrogates from JSON
    escapes) is replaced, as no database can store it."""
    texts = {
        "visitor_key": visitor_key[:64],
        "message_ref": message_ref[:120],
        "url": url[:2000],
        "title": title[:200],
        "referrer": referrer[:500],
    }
    removed = removed_control_characters
    for name, text in texts.items():
        texts[name], n = scrub_text(text.encode("utf-8", "replace").decode("utf-8"))
        removed += n
    hit = Hit(
        kind=kind,
        person_id_signed=person_id,
        occurred_at=at or now(),
        processed_at=None,
        removed_control_characters=removed,
        **texts,
    )
    insert_rows(Hit, [hit])
    return hit


def hits_flush(
    *, limit: int = 1000, at: datetime | None = None, visitor_keys: Iterable[str] | None = None
) -> int:
    """Process buffered hits, ``limit`` at a time, until none is pending (only the visits of
    ``visitor_keys`` when given). Returns how many."""
    done = 0
    keys = None if visitor_keys is None else sorted(set(visitor_keys))
    while True:
        n = _flush_batch(limit=limit, at=at or now(), visitor_keys=keys)
        done += n
        if n < limit:
            return done


@transaction.atomic
def _flush_batch(*, limit: int, at: datetime, visitor_keys: list[str] | None = None) -> int:
    """One batch of pending hits, claimed, into visits, touches on the person's open lead and
    score events; then an ``email_engaged`` notice for each open and click."""
    hits = _claim(limit, at, visitor_keys)
    if not hits:
        return 0
    visits = [h for h in hits if h.kind == Hit.Kind.VISIT]
    emails = [h for h in hits if h.kind in (Hit.Kind.OPEN, Hit.Kind.CLICK)]
    visitors = _visitors_touch(visits, at)
    emails = _of_known_people(emails)
    person_of: dict[int, int] = {}
    for h in visits:
        v = visitors[h.visitor_key]
        if v.person_id:
            person_of[h.pk] = v.person_id
    for h in emails:
        person_of[h.pk] = int(h.person_id_signed or 0)
    touch_of = _touches_insert([*visits, *emails], person_of)
    _visits_insert(visits, visitors, person_of, touch_of)
    events_score(items=_score_items([*visits, *emails], touch_of), at=at)
    _touched(list(touch_of.values()), at)
    _announce(emails)
    return len(hits)


def _claim(limit: int, at: datetime, visitor_keys: list[str] | None) -> list[Hit]:
    """Up to ``limit`` pending hits (only the visits of ``visitor_keys`` when given), marked
    processed: a worker that read the same hits meanwhile claims none of them."""
    pending = Hit.objects.filter(processed_at__isnull=True).order_by("pk")
    if visitor_keys is not None:
        pending = pending.filter(kind=Hit.Kind.VISIT, visitor_key__in=visitor_keys)
    if connection.vendor == "postgresql":
        pending = pending.select_for_update(skip_locked=True)
    hits = list(pending[:limit])
    if not hits:
        return []
    # The claim: only hits still pending are ours (SQLite serializes writers already).
    Hit.objects.filter(pk__in=[h.pk for h in hits], processed_at__isnull=True).update(
        processed_at=at
    )
    return hits


def _of_known_people(emails: list[Hit]) -> list[Hit]:
    """The opens and clicks whose signed person still exists (one query)."""
    known = set(
        Person.objects.filter(
            pk__in={h.person_id_signed for h in emails if h.person_id_signed}
        ).values_list("pk", flat=True)
    )
    return [h for h in emails if h.person_id_signed in known]


def _touches_insert(hits: Sequence[Hit], person_of: Mapping[int, int]) -> dict[int, Touch]:
    """An inbound touch for each hit of a known person, on their open lead if any; inserted
    in one statement. Returns the touch of each hit id, in the order of ``hits``."""
    leads = selectors.open_leads_of(person_of.values())
    touch_of: dict[int, Touch] = {}
    for h in hits:
        person_id = person_of.get(h.pk)
        if person_id is None:
            continue
        channel, outcome = EVENT_TOUCH[Hit.Kind(h.kind)]
        touch_of[h.pk] = _touch(
            person_id, leads.get(person_id), channel, outcome, h.occurred_at, _note(h)
        )
    insert_rows(Touch, list(touch_of.values()))
    return touch_of


def _visits_insert(
    visits: Sequence[Hit],
    visitors: Mapping[str, Visitor],
    person_of: Mapping[int, int],
    touch_of: Mapping[int, Touch],
) -> None:
    insert_rows(
        Visit,
        [
            Visit(
                visitor=visitors[h.visitor_key],
                person_id=person_of.get(h.pk),
                touch=touch_of.get(h.pk),
                url=h.url[:500],
                title=h.title,
                referrer=h.referrer,
                occurred_at=h.occurred_at,
            )
            for h in visits
        ],
    )


def _score_items(
    hits: Sequence[Hit], touch_of: Mapping[int, Touch]
) -> list[tuple[int, scoring_domain.Event]]:
    """The score event of each hit whose touch landed on a lead."""
    items = []
    for h in hits:
        found = touch_of.get(h.pk)
        if found is None or found.lead_id is None:
            continue
        items.append(
            (
                found.lead_id,
                scoring_domain.Event(
                    type=SCORE_EVENT[Hit.Kind(h.kind)],
                    at=h.occurred_at,
                    ref=f"touch:{found.pk}",
                    properties={"url": h.url, "title": h.title, "message_ref": h.message_ref},
                ),
            )
        )
    return items


def _announce(emails: Sequence[Hit]) -> None:
    """Opens and clicks, for the apps that count them per message (nurture's sends), through
    the lead-event registry."""
    publish(
        Notice(
            kind="email_engaged",
            occurred_at=h.occurred_at,
            person_id=int(h.person_id_signed or 0),
            data={
                "message_ref": h.message_ref,
                "kind": h.kind,
                "url": h.url if h.kind == Hit.Kind.CLICK else "",
            },
        )
        for h in emails
    )


def _note(h: Hit) -> str:
    if h.kind == Hit.Kind.VISIT:
        return f"{h.title} {h.url}".strip()[:2000]
    if h.kind == Hit.Kind.CLICK:
        return f"Clicked {h.url} in {h.message_ref}"[:2000]
    return f"Opened {h.message_ref}"[:2000]


def _touch(
    person_id: int, lead_id: int | None, channel: str, outcome: str, at: datetime, note: str
) -> Touch:
    return Touch(
        person_id=person_id,
        lead_id=lead_id,
        channel=channel,
        direction=Touch.Direction.INBOUND,
        outcome=outcome,
        is_sales=False,
        actor=None,
        occurred_at=at,
        note=note,
        intake=None,
        import_batch=None,
        voided_at=None,
    )


def _touched(touches: Sequence[Touch], at: datetime) -> None:
    """Move each touched lead's last_touch_at forward: one executemany for the batch."""
    latest: dict[int, datetime] = {}
    for t in touches:
        if t.lead_id is not None:
            latest[t.lead_id] = max(latest.get(t.lead_id, t.occurred_at), t.occurred_at)
    queries.leads_touched(latest)


def _visitors_touch(visits: Sequence[Hit], at: datetime) -> dict[str, Visitor]:
    """The Visitor of every visit hit (created when new), last seen updated; two queries."""
    keys = {h.visitor_key for h in visits}
    if not keys:
        return {}
    found = {v.key: v for v in Visitor.objects.filter(key__in=keys)}
    new = []
    for h in visits:
        v = found.get(h.visitor_key)
        if v is None:
            v = Visitor(
                key=h.visitor_key,
                person=None,
                first_seen_at=h.occurred_at,
                last_seen_at=h.occurred_at,
                identified_at=None,
            )
            found[h.visitor_key] = v
            new.append(v)
        else:
            v.last_seen_at = max(v.last_seen_at, h.occurred_at)
    insert_rows(Visitor, new)
    update_rows([v for v in found.values() if v not in new], ["last_seen_at"])
    return found


@transaction.atomic
def visitors_identify(
    *, pairs: Sequence[tuple[str, Person, Lead | None]], at: datetime | None = None
) -> int:
    """A form filled in by a visitor (their cookie id): the visitor becomes that Person and
    every anonymous visit becomes a page-visit touch on the person's lead, scored. A visitor
    already identified as someone else keeps that identity. Returns visits merged."""
    at = at or now()
    pairs = [(k, p, lead) for k, p, lead in pairs if k]
    if not pairs:
        return 0
    keys = {k for k, _, _ in pairs}
    # This visitor's visits still in the buffer belong to the history too (only theirs: a
    # form fill must not wait for everyone else's hits).
    hits_flush(at=at, visitor_keys=keys)
    visitors = {v.key: v for v in Visitor.objects.filter(key__in=keys)}
    new, changed = [], []
    target: dict[int, tuple[Person, Lead | None]] = {}
    for key, person, lead in pairs:
        v = visitors.get(key)
        if v is None:
            v = Visitor(key=key, person=person, first_seen_at=at, last_seen_at=at, identified_at=at)
            visitors[key] = v
            new.append(v)
            continue
        if v.person_id is None:
            v.person = person
            v.identified_at = at
            changed.append(v)
        if v.person_id == person.pk:
            target[v.pk] = (person, lead)
    insert_rows(Visitor, new)
    update_rows(changed, ["person", "identified_at"])
    if not target:
        return 0
    visits = list(
        Visit.objects.filter(visitor_id__in=list(target), touch__isnull=True).order_by(
            "occurred_at", "pk"
        )
    )
    touches = []
    for visit in visits:
        person, lead = target[visit.visitor_id]
        touches.append(
            _touch(
                person.pk,
                lead.pk if lead is not None else None,
                Touch.Channel.VISIT,
                "",
                visit.occurred_at,
                f"{visit.title} {visit.url}".strip(),
            )
        )
    insert_rows(Touch, touches)
    for visit, touch in zip(visits, touches, strict=True):
        visit.person_id = touch.person_id
        visit.touch = touch
    update_rows(visits, ["person", "touch"])
    events_score(
        items=[
            (
                t.lead_id,
                scoring_domain.Event(
                    type="page_visit",
                    at=v.occurred_at,
                    ref=f"touch:{t.pk}",
                    properties={"url": v.url, "title": v.title},
                ),
            )
            for v, t in zip(visits, touches, strict=True)
            if t.lead_id is not None
        ],
        at=at,
    )
    return len(visits)


def intake_identify(
    *, records: Sequence[Any], persons: Sequence[Person], leads: Sequence[Lead], at: datetime
) -> None:
    """Intake's hook: identify the visitor of every inquiry that carried a visitor id."""
    pairs = []
    for record, person, lead in zip(records, persons, leads, strict=True):
        payload = record.payload if isinstance(record.payload, Mapping) else {}
        key = payload.get("visitor_id")
        if isinstance(key, str) and key:
            pairs.append((key[:64], person, lead))
    if pairs:
        visitors_identify(pairs=pairs, at=at)


# --- the events API ----------------------------------------------------------------------


@dataclass(frozen=True)
class EventIn:
    id: str
    type: str
    occurred_at: datetime
    email: str = ""
    person_id: int | None = None
    properties: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Ingested:
    accepted: int
    duplicates: int
    unmatched: tuple[str, ...]


@transaction.atomic
def events_ingest(
    *, events: Sequence[EventIn], user: User | None = None, at: datetime | None = None
) -> Ingested:
    """Store events (idempotent per event id), attach each to its person's open lead as a
    touch, and score it. Events for unknown people are kept, unmatched; so are events for
    people ``user`` (the token's user) may not see: the answer is the same, so a caller
    learns nothing about who exists, and cannot change the score of a lead hidden from it."""
    at = at or now()
    emails = {e.email.strip().lower() for e in events if e.email}
    people = {
        p.email: p.pk
        for p in Person.objects.filter(email__in=emails, merged_into__isnull=True).only("email")
    }
    ids = {e.person_id for e in events if e.person_id}
    if ids:
        known_ids = set(Person.objects.filter(pk__in=ids).values_list("pk", flat=True))
    else:
        known_ids = set()
    person_of: dict[str, int | None] = {}
    for e in events:
        pid = e.person_id if e.person_id in known_ids else people.get(e.email.strip().lower())
        person_of[e.id] = pid
    if user is not None:
        allowed = selectors.people_visible_to(user, (p for p in person_of.values() if p))
        person_of = {key: (p if p in allowed else None) for key, p in person_of.items()}
    leads = selectors.open_leads_of(p for p in person_of.values() if p)
    rows = [
        TrackedEvent(
            event_id=e.id,
            type=e.type,
            email=e.email[:254],
            person_id=person_of[e.id],
            lead_id=leads.get(person_of[e.id] or 0),
            touch=None,
            occurred_at=e.occurred_at,
            received_at=at,
            properties=dict(e.properties or {}),
        )
        for e in events
    ]
    unique: dict[str, TrackedEvent] = {}
    for row in rows:
        unique.setdefault(row.event_id, row)  # the same id twice in one batch counts once
    stored = queries.events_insert_new(list(unique.values()))
    fresh = [row for row in unique.values() if row.event_id in stored and row.person_id]
    touches = [
        _touch(
            int(row.person_id or 0),
            row.lead_id,
            Touch.Channel.EVENT,
            "",
            row.occurred_at,
            f"{row.type}: {row.properties.get('name') or row.properties.get('title') or ''}".strip(
                ": "
            )[:2000],
        )
        for row in fresh
    ]
    insert_rows(Touch, touches)
    for row, touch in zip(fresh, touches, strict=True):
        row.touch = touch
    update_rows(fresh, ["touch"])
    events_score(
        items=[
            (
                row.lead_id,
                scoring_domain.Event(
                    type=row.type,
                    at=row.occurred_at,
                    ref=f"event:{row.event_id}"[:120],
                    properties={k: v for k, v in row.properties.items() if k != "type"},
                ),
            )
            for row in fresh
            if row.lead_id is not None
        ],
        at=at,
    )
    _touched(touches, at)
    return Ingested(
        accepted=len(stored),
        duplicates=len(events) - len(stored),
        unmatched=tuple(row.event_id for row in unique.values() if row.person_id is None),
    )
