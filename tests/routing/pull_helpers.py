"""Leads waiting in the qualifying center, written in bulk for the pull tests."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from leadrefinery.leads.models import Lead, LeadEvent, Person, Queue, Source


def qualifying_center(*members: Any) -> Queue:
    queue = Queue.objects.get(slug="qualifying")
    queue.members.add(*members)
    return queue


def queued_leads(queue: Queue, specs: list[dict[str, Any]], *, at: datetime) -> list[Lead]:
    """One person and one open lead per spec, owned by ``queue``. A spec may set ``source``
    (a Source name), ``stage``, ``temperature``, ``received_ago`` and ``due_in`` (timedeltas)."""
    sources = {s.name: s for s in Source.objects.all()}
    for name, channel in (("Trade shows", "trade_show"), ("Website", "web_form"), ("API", "api")):
        if name not in sources:
            sources[name] = Source.objects.create(name=name, channel=channel)
    people = Person.objects.bulk_create(
        Person(
            email=f"waiting{i}@example.com",
            first_name="Wai",
            last_name=f"Ting{i}",
            created_at=at,
            updated_at=at,
        )
        for i in range(len(specs))
    )
    leads = []
    for person, spec in zip(people, specs, strict=True):
        received = at - spec.get("received_ago", timedelta(hours=1))
        due = spec.get("due_in", timedelta(hours=4))
        leads.append(
            Lead(
                person=person,
                stage=spec.get("stage", "inquiry"),
                owner_queue=queue,
                next_action="Qualify the inquiry",
                next_action_due_at=None if due is None else at + due,
                source=sources[spec.get("source", "Trade shows")],
                temperature=spec.get("temperature", ""),
                received_at=received,
                created_at=received,
                updated_at=received,
                stage_changed_at=received,
            )
        )
    Lead.objects.bulk_create(leads)
    LeadEvent.objects.bulk_create(
        LeadEvent(
            lead=lead,
            kind="created" if lead.stage == "inquiry" else "stage_changed",
            occurred_at=lead.received_at,
            actor_label="system:test",
            to_stage=lead.stage,
        )
        for lead in leads
    )
    return leads
