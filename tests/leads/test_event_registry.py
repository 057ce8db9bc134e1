"""The lead-event registry: what each app follows, called once per batch with only its kinds,
in the writer's transaction."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import transaction

from leadrefinery.common.subscriptions import Subscriber
from leadrefinery.leads import events
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import LeadEvent
from leadrefinery.leads.services import event_record, lead_note_add

CALLS: list[list[tuple[str, int | None]]] = []


def record(changes):
    CALLS.append([(c.kind, c.lead_id) for c in changes])


def fail(changes):
    raise RuntimeError("subscriber failed")


@pytest.fixture
def listening(monkeypatch):
    def install(*subs: Subscriber) -> list[list[tuple[str, int | None]]]:
        monkeypatch.setattr(events, "_subscribers", lambda: subs)
        CALLS.clear()
        return CALLS

    return install


def sub(kinds: set[str], handler: str = "record") -> Subscriber:
    return Subscriber(name="test", kinds=frozenset(kinds), handler=f"{__name__}.{handler}")


def test_every_app_that_follows_leads_is_listed_and_its_handlers_load():
    registered = events.subscribers()
    apps = {s.handler.split(".")[1] for s in registered}
    assert {"cadences", "sla", "nurture", "routing"} <= apps
    for s in registered:
        assert callable(events._handler(s.handler)), s.handler
    for section in events._sections():
        assert callable(events._handler(section.reader)), section.reader
    out = io.StringIO()
    call_command("subscribers", stdout=out)
    assert "nurture: exits" in out.getvalue() and "follows:" in out.getvalue()


@pytest.mark.django_db
def test_a_bulk_write_calls_each_subscriber_once_with_only_its_kinds(
    make_lead, listening, frozen_now
):
    a, b = make_lead(), make_lead()
    calls = listening(sub({"note"}), sub({"score", "merged"}))
    rows = [
        LeadEvent(lead=lead, kind=kind, occurred_at=frozen_now.at, actor_label="t")
        for lead in (a, b)
        for kind in ("note", "score", "touch")
    ]
    events.events_insert(rows)
    assert calls == [[("note", a.pk), ("note", b.pk)], [("score", a.pk), ("score", b.pk)]]
    assert LeadEvent.objects.filter(lead__in=[a, b], kind="touch").count() == 2


@pytest.mark.django_db
def test_a_single_write_publishes_its_event(make_lead, listening):
    lead = make_lead()
    calls = listening(sub({"note"}))
    lead_note_add(lead=lead, note="Prefers mornings", actor=Actor.system("test"))
    assert calls == [[("note", lead.pk)]]


@pytest.mark.django_db(transaction=True)
def test_a_failing_subscriber_rolls_back_the_change_that_caused_it(
    make_lead, listening, frozen_now
):
    lead = make_lead()
    listening(sub({"note"}, handler="fail"))
    with pytest.raises(RuntimeError), transaction.atomic():
        event_record(lead=lead, kind="note", actor=Actor.system("t"), at=frozen_now.at, note="x")
    assert not LeadEvent.objects.filter(lead=lead, kind="note").exists()


def test_leads_of_uses_the_writers_own_instances_and_reads_the_rest_in_one_query(
    make_lead, django_assert_num_queries, frozen_now, db
):
    held, other = make_lead(), make_lead()
    held.next_action = "changed in memory, not saved"
    changes = [
        LeadEvent(lead=held, kind="note", occurred_at=frozen_now.at),
        LeadEvent(lead_id=other.pk, kind="note", occurred_at=frozen_now.at),
    ]
    with django_assert_num_queries(1):
        leads = events.leads_of(changes)
    assert leads[held.pk] is held and leads[other.pk].pk == other.pk
