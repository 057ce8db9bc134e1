"""Reads on leads (the guarded ones go through leads.access.visible_to)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.db.models.expressions import RawSQL

from leadrefinery.common.errors import ServiceError

from . import custom_fields, domain, queries
from .models import CustomField, Lead, LeadEvent, Queue, StageDefinition


def lead_snapshots(chunk_size: int = 2000) -> Iterator[domain.LeadSnapshot]:
    """Every lead's invariant-relevant fields, streamed in primary-key chunks."""
    last_stage = (
        LeadEvent.objects.filter(lead=OuterRef("pk"))
        .exclude(to_stage="")
        .order_by("-occurred_at", "-id")
        .values("to_stage")[:1]
    )
    last_pk = 0
    while True:
        rows = list(
            Lead.objects.filter(pk__gt=last_pk)
            .order_by("pk")
            .annotate(last_event_stage=Subquery(last_stage))
            .values_list(
                "pk",
                "stage",
                "owner_user_id",
                "owner_queue_id",
                "next_action",
                "next_action_due_at",
                "disposition_id",
                "merged_into_id",
                "last_event_stage",
            )[:chunk_size]
        )
        if not rows:
            return
        for pk, stage, user_id, queue_id, action, due, disp, merged, last in rows:
            yield domain.LeadSnapshot(
                id=pk,
                stage=domain.Stage(stage),
                has_user_owner=user_id is not None,
                has_queue_owner=queue_id is not None,
                next_action=action or "",
                next_action_due_at=due,
                has_disposition=disp is not None,
                merged_into_id=merged,
                last_event_to_stage=last,
            )
        last_pk = rows[-1][0]


def invariant_violations() -> Iterator[domain.Violation]:
    for snapshot in lead_snapshots():
        yield from domain.invariant_violations(snapshot)


def leads_filtered(
    qs: QuerySet[Lead],
    *,
    stages: list[str] | None = None,
    owner_user: int | str | None = None,
    owner_queue: int | str | None = None,
    source: int | str | None = None,
    q: str | None = None,
    received_after: datetime | None = None,
    received_before: datetime | None = None,
    custom: tuple[str, str] | None = None,
) -> QuerySet[Lead]:
    """The lead list filters shared by the UI, the API and the CSV export.

    ``custom``: (a custom field's name, a value as text): the leads whose field holds that
    value (read as the field reads it: "12" finds the number 12), or without a value for "".

    ``stages``: stage codes, or "open" / "closed" / "all"; ``owner_user``: a user id or username;
    ``owner_queue``: a queue id or slug; ``source``: a source id or name; ``q``: every word must
    match the person's name, email or company. Unknown values match nothing; nothing raises.
    """
    texts = [v for v in (owner_user, owner_queue, source, q, *(custom or ())) if isinstance(v, str)]
    if any("\x00" in text for text in texts):
        return qs.none()  # stored text never holds NUL, and PostgreSQL cannot compare it
    if stages and "all" not in stages:
        wanted: set[str] = set()
        for stage in stages:
            if stage == "open":
                wanted |= {s.value for s in domain.OPEN_STAGES}
            elif stage == "closed":
                wanted |= {s.value for s in domain.TERMINAL}
            else:
                wanted.add(stage)
        qs = qs.filter(stage__in=sorted(wanted))
    if owner_user is not None:
        qs = qs.filter(
            **{
                "owner_user_id"
                if isinstance(owner_user, int)
                else "owner_user__username": owner_user
            }
        )
    if owner_queue is not None:
        qs = qs.filter(
            **{
                "owner_queue_id"
                if isinstance(owner_queue, int)
                else "owner_queue__slug": owner_queue
            }
        )
    if source is not None:
        qs = qs.filter(**{"source_id" if isinstance(source, int) else "source__name": source})
    for word in (q or "").split()[:8]:
        qs = qs.filter(
            Q(person__first_name__icontains=word)
            | Q(person__last_name__icontains=word)
            | Q(person__email__icontains=word)
            | Q(person__company_name__icontains=word)
            | Q(account__name__icontains=word)
        )
    if received_after:
        qs = qs.filter(received_at__gte=received_after)
    if received_before:
        qs = qs.filter(received_at__lt=received_before)
    if custom is not None:
        qs = _custom_filtered(qs, *custom)
    return qs


def _custom_filtered(qs: QuerySet[Lead], name: str, raw: str) -> QuerySet[Lead]:
    field = CustomField.objects.filter(name=name).first()
    if field is None:
        return qs.none()
    try:
        value = custom_fields.read(field.definition(), raw)
    except ValueError:
        return qs.none()
    entity = field.applies_to
    if value is None:
        if entity == "lead":
            return qs.exclude(custom__has_key=name)
        return qs.exclude(**{f"{entity}__custom__has_key": name})
    # Read through the field's own index (queries.py), not Django's key lookup, which none
    # can serve on SQLite; a field of the person or the account, through a subquery on its
    # table.
    if entity == "lead":
        return qs.alias(custom_value=RawSQL(queries.value_sql(name), ())).filter(
            custom_value=queries.value_param(value)
        )
    holders = RawSQL(queries.holders_sql(name, entity), (queries.value_param(value),))
    return qs.filter(**{f"{entity}_id__in": holders})


def leads_overdue(qs: QuerySet[Lead], *, at: datetime) -> QuerySet[Lead]:
    """Open leads whose next action is overdue (domain.is_overdue, as a filter)."""
    return qs.filter(
        stage__in=sorted(s.value for s in domain.OPEN_STAGES),
        next_action_due_at__lt=at - domain.OVERDUE_AFTER,
    )


def owner_filter(text: str | None, *, user=None) -> dict[str, int | str]:
    """Read an owner filter as people type it: "me", "queue:<slug>" or a username."""
    if not text:
        return {}
    if text == "me" and user is not None:
        return {"owner_user": user.pk}
    kind, _, slug = text.partition(":")
    if kind == "queue" and slug:
        return {"owner_queue": slug}
    return {"owner_user": text}


def leads_for_listing(qs: QuerySet[Lead]) -> QuerySet[Lead]:
    """The joins every lead list needs, so a page costs a fixed number of queries."""
    return qs.select_related(
        "person", "account", "owner_user", "owner_queue", "source", "campaign", "disposition"
    )


def default_next_action(stage: domain.Stage, at: datetime) -> tuple[str, datetime]:
    definition = StageDefinition.objects.filter(code=stage).first()
    if definition is None or not definition.default_next_action:
        return "Review the lead", at + timedelta(hours=1)
    return definition.default_next_action, at + timedelta(minutes=definition.default_due_minutes)


def queue_by_slug(slug: str) -> Queue:
    try:
        return Queue.objects.get(slug=slug)
    except Queue.DoesNotExist:
        raise ServiceError(f"the '{slug}' queue is missing; run `refinery migrate`") from None


# --- On the lead: "why this owner" and the first-contact countdown ----------------------------


def latest_assignment_trace(lead: Any) -> dict[str, Any] | None:
    """The trace of the lead's latest assignment (None for leads assigned without one)."""
    event = lead.events.filter(kind=LeadEvent.Kind.ASSIGNED).order_by("-occurred_at", "-id").first()
    if event is None or not isinstance(event.data, dict):
        return None
    trace = event.data.get("trace")
    if not isinstance(trace, dict) or not (trace.get("steps") or trace.get("because")):
        return None
    return {**trace, "at": event.occurred_at, "by": event.actor_label}


def duration_words(seconds: float) -> str:
    """23 min, 2 h 5 min, 3 d 4 h (the countdown script in static/routing/countdown.js says
    the same)."""
    minutes = int(abs(seconds) // 60)
    if minutes < 1:
        return "under a minute"
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


@dataclass(frozen=True)
class Countdown:
    due_at: datetime
    overdue: bool
    text: str


def first_contact_countdown(lead: Any, at: datetime) -> Countdown | None:
    """For a lead whose SLA clock runs (``sla_due_at`` set): time left to the first sales
    touch, or how late it is."""
    due = getattr(lead, "sla_first_touch_due_at", None)
    if lead.sla_due_at is None or due is None:
        return None
    left = (due - at).total_seconds()
    if left >= 0:
        return Countdown(due, False, f"First contact due in {duration_words(left)}")
    return Countdown(due, True, f"First contact overdue by {duration_words(left)}")
