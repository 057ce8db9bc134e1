"""The escalation ladder: remind the owner, breach (tell the manager), reassign to another rep,
each step once, in order; a sales touch stops it; queue and closed leads drop out."""

from datetime import UTC, datetime, timedelta

import pytest

from leadrefinery.common.clock import frozen
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import LeadEvent
from leadrefinery.leads.selectors import queue_by_slug
from leadrefinery.leads.services import lead_assign, lead_dispose, touch_log
from leadrefinery.notifications.models import OutboxMessage, WebhookEndpoint
from leadrefinery.sla.models import SlaPolicy
from leadrefinery.sla.sweep import sla_sweep

from .conftest import sent, team_rule

pytestmark = pytest.mark.django_db

MINUTE = timedelta(minutes=1)


def sla_notes(lead, kind: str) -> list[LeadEvent]:
    return [e for e in lead.events.filter(kind="sla") if e.data.get("sla") == kind]


def test_the_ladder_runs_in_order_and_each_step_once(east, inquiry, frozen_now):
    start = frozen_now.at  # Monday 09:00 UTC; the default policy: one working hour
    lead = inquiry()
    first = lead.owner_user
    other = east.rep2 if first == east.rep else east.rep
    assert first in (east.rep, east.rep2)
    assert lead.sla_due_at == start + 30 * MINUTE

    frozen_now.set(start + 29 * MINUTE)
    assert sla_sweep() == 0
    frozen_now.set(start + 30 * MINUTE)
    assert sla_sweep() == 1
    assert sla_sweep() == 0  # the same minute again
    frozen_now.set(start + 45 * MINUTE)
    assert sla_sweep() == 0
    assert sent(lead, "lead.sla_warning") == [first.email]
    assert len(sla_notes(lead, "reminded")) == 1

    frozen_now.set(start + 60 * MINUTE)
    assert sla_sweep() == 1
    assert sla_sweep() == 0
    lead.refresh_from_db()
    assert lead.sla_step == 2 and lead.sla_breached_at == start + 60 * MINUTE
    assert lead.owner_user == first  # breach alone does not take the lead away
    assert sent(lead, "lead.sla_breached") == [first.email, "maria@example.com"]
    (breach,) = sla_notes(lead, "breached")
    assert breach.actor_label == "system:sla" and "made no first contact" in breach.note

    # Reassignment, 60 working minutes after the breach, to the other rep of the team.
    frozen_now.set(start + 119 * MINUTE)
    assert sla_sweep() == 0
    frozen_now.set(start + 120 * MINUTE)
    assert sla_sweep() == 1
    assert sla_sweep() == 0
    lead.refresh_from_db()
    assert lead.owner_user == other
    moved = lead.events.filter(kind="assigned", actor_label="system:sla").get()
    trace = moved.data["trace"]
    assert {"name": first.username, "why": "missed the SLA"} in trace["skipped"]
    assert trace["owner"] == other.username and "missed the SLA" in trace["because"]
    assert sorted(sent(lead, "lead.reassigned")) == sorted([other.email, first.email])

    # The clock restarts for the new owner, and their reminder is a new notification.
    assert lead.sla_started_at == start + 120 * MINUTE and lead.sla_step == 0
    assert lead.sla_first_touch_due_at == start + 180 * MINUTE
    assert lead.next_action_due_at == lead.sla_first_touch_due_at
    frozen_now.set(start + 150 * MINUTE)
    assert sla_sweep() == 1
    assert sent(lead, "lead.sla_warning") == [first.email, other.email]


def test_a_sales_touch_stops_the_clock_and_stores_speed_to_lead(east, inquiry, frozen_now):
    lead = inquiry()
    owner = lead.owner_user
    frozen_now.advance(10 * MINUTE)
    # The buyer writing again is not a sales touch: the clock keeps running.
    touch_log(lead=lead, channel="email", direction="inbound", actor=Actor.system("mailbox"))
    lead.refresh_from_db()
    assert lead.sla_due_at is not None and lead.speed_to_lead_seconds is None
    frozen_now.advance(15 * MINUTE)
    touch_log(lead=lead, channel="call", actor=Actor.of(owner), outcome="voicemail")
    lead.refresh_from_db()
    assert lead.speed_to_lead_seconds == 25 * 60
    assert lead.first_sales_touch_at == frozen_now.at and lead.sla_due_at is None
    frozen_now.advance(timedelta(hours=5))
    touch_log(lead=lead, channel="call", actor=Actor.of(owner), outcome="connected")
    lead.refresh_from_db()
    assert lead.speed_to_lead_seconds == 25 * 60  # only the first touch counts
    assert sla_sweep() == 0
    assert not OutboxMessage.objects.filter(lead=lead, event__startswith="lead.sla").exists()
    assert lead.owner_user == owner


def test_a_late_sweep_breaches_and_reassigns_without_a_stale_reminder(east, inquiry, frozen_now):
    lead = inquiry()
    first = lead.owner_user
    frozen_now.advance(timedelta(hours=2, minutes=5))  # the worker was down for two hours
    assert sla_sweep() == 2  # breach, then reassign; the reminder is no longer useful
    lead.refresh_from_db()
    assert lead.owner_user not in (first, None)
    assert sent(lead, "lead.sla_warning") == []
    assert len(sent(lead, "lead.sla_breached")) == 2
    assert len(sla_notes(lead, "breached")) == 1
    assert lead.sla_step == 0 and lead.sla_started_at == frozen_now.at


def test_with_nobody_else_in_the_team_the_lead_goes_to_the_fallback_queue(users, inquiry):
    west = users.other_rep.team
    users.other_rep.email = "walt@example.com"
    users.other_rep.save()
    team_rule(west)
    with frozen(datetime(2026, 3, 2, 9, tzinfo=UTC)) as clock:
        lead = inquiry()
        assert lead.owner_user == users.other_rep
        clock.advance(timedelta(hours=2))
        assert sla_sweep() == 2
    lead.refresh_from_db()
    assert lead.owner_queue == queue_by_slug("unassigned") and lead.owner_user is None
    assert lead.sla_due_at is None
    trace = lead.events.filter(kind="assigned").latest("pk").data["trace"]
    assert {"name": "walt", "why": "missed the SLA"} in trace["skipped"]
    assert trace["owner"] == "Unassigned" and trace["steps"][-1] == "to queue Unassigned"
    # West has no manager: the breach told walt only.
    assert sent(lead, "lead.sla_breached") == ["walt@example.com"]
    assert sent(lead, "lead.reassigned") == ["walt@example.com"]


def test_the_policy_decides_whether_the_manager_hears_of_a_breach(east, inquiry, frozen_now):
    SlaPolicy.objects.filter(temperature="").update(
        notify_manager_at_breach=False, reassign_after_minutes=None
    )
    lead = inquiry()
    frozen_now.advance(timedelta(hours=3))
    assert sla_sweep() == 1
    lead.refresh_from_db()
    assert sent(lead, "lead.sla_breached") == [lead.owner_user.email]
    assert lead.sla_step == 2 and lead.sla_due_at is None  # no reassignment step


def test_every_step_is_sent_to_subscribed_webhooks(east, inquiry, frozen_now):
    everything = WebhookEndpoint.objects.create(
        url="http://127.0.0.1:9/all", secret="s1", events=[], created_at=frozen_now.at
    )
    breaches = WebhookEndpoint.objects.create(
        url="http://127.0.0.1:9/breaches",
        secret="s2",
        events=["lead.sla_breached"],
        created_at=frozen_now.at,
    )
    lead = inquiry()
    for minutes in (30, 60, 120):
        frozen_now.set(lead.received_at + minutes * MINUTE)
        sla_sweep()
        sla_sweep()
    assert sent(lead, "lead.sla_warning", "webhook") == [str(everything.pk)]
    assert sorted(sent(lead, "lead.sla_breached", "webhook")) == sorted(
        [str(everything.pk), str(breaches.pk)]
    )
    assert sent(lead, "lead.reassigned", "webhook") == [str(everything.pk)]
    hook = OutboxMessage.objects.get(lead=lead, event="lead.reassigned", kind="webhook")
    assert hook.payload["previous_owner"] in ("ron", "rita")


def test_leads_in_a_queue_or_closed_drop_out_of_the_sweep(east, inquiry, frozen_now):
    queued = inquiry()
    closed = inquiry()
    qualifying = queue_by_slug("qualifying")
    qualifying.members.add(east.manager)  # a queue someone works; an empty one is refused
    lead_assign(lead=queued, owner_queue=qualifying, actor=Actor.of(east.manager))
    queued.refresh_from_db()
    assert queued.sla_due_at is None  # a queue has no clock
    lead_dispose(lead=closed, reason_code="dq_spam", actor=Actor.of(closed.owner_user))
    frozen_now.advance(timedelta(hours=3))
    assert sla_sweep() == 0
    closed.refresh_from_db()
    assert closed.sla_due_at is None and closed.sla_breached_at is None
    assert not OutboxMessage.objects.filter(event__startswith="lead.sla").exists()
    assert not OutboxMessage.objects.filter(event="lead.reassigned").exists()


def test_a_manual_reassignment_gives_the_new_rep_a_fresh_clock(east, inquiry, frozen_now):
    lead = inquiry()
    frozen_now.advance(45 * MINUTE)
    assert sla_sweep() == 1  # ron or rita was reminded
    new_owner = east.rep2 if lead.owner_user == east.rep else east.rep
    lead_assign(lead=lead, owner_user=new_owner, actor=Actor.of(east.manager))
    lead.refresh_from_db()
    assert lead.sla_started_at == frozen_now.at and lead.sla_step == 0
    assert lead.sla_due_at == frozen_now.at + 30 * MINUTE
    # Assigning to the same rep again does not reset the clock they are already on.
    frozen_now.advance(5 * MINUTE)
    lead_assign(lead=lead, owner_user=new_owner, actor=Actor.of(east.manager))
    lead.refresh_from_db()
    assert lead.sla_started_at == frozen_now.at - 5 * MINUTE


def test_a_lead_touched_before_reassignment_gets_no_new_clock(east, inquiry, frozen_now):
    lead = inquiry()
    touch_log(lead=lead, channel="email", actor=Actor.of(lead.owner_user))
    new_owner = east.rep2 if lead.owner_user == east.rep else east.rep
    frozen_now.advance(MINUTE)
    lead_assign(lead=lead, owner_user=new_owner, actor=Actor.of(east.manager))
    lead.refresh_from_db()
    assert lead.sla_due_at is None and lead.speed_to_lead_seconds == 0
