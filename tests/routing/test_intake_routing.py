"""Intake routes a new lead by the rules, starts the SLA clock and queues the notification,
all in the same transaction."""

from datetime import UTC, datetime

import pytest
from django.core.management import call_command

from leadrefinery.common.clock import frozen
from leadrefinery.leads.models import Lead
from leadrefinery.notifications.models import OutboxMessage
from leadrefinery.routing.models import RoutingRule

pytestmark = pytest.mark.django_db


def team_rule(team, **kw):
    now = datetime(2026, 1, 1, tzinfo=UTC)
    return RoutingRule.objects.create(
        name=kw.pop("name", "East team"),
        order=kw.pop("order", 10),
        conditions=kw.pop("conditions", []),
        target_kind="team",
        target_team=team,
        created_at=now,
        updated_at=now,
        **kw,
    )


def test_a_team_rule_hands_the_lead_to_a_rep_with_a_clock(users, submit_inquiry):
    users.rep.email, users.rep2.email = "ron@example.com", "rita@example.com"
    users.rep.save()
    users.rep2.save()
    users.manager.is_active = False  # the manager is in team East too, but does not take leads
    users.manager.save()
    team_rule(users.rep.team, conditions=[{"field": "country", "op": "in", "value": ["US", "CA"]}])
    monday_10am_utc = datetime(2026, 3, 2, 10, tzinfo=UTC)
    with frozen(monday_10am_utc):
        record = submit_inquiry(email="buyer@example.com", country="US", company="Acme")
        other = submit_inquiry(email="someone@example.de", country="DE")
    lead = Lead.objects.get(pk=record.lead_id)
    assert lead.owner_user in (users.rep, users.rep2)
    assert lead.stage == "sales_ready"
    assert lead.sla_first_touch_due_at == datetime(
        2026, 3, 2, 11, tzinfo=UTC
    )  # one working hour (UTC reps)
    assert lead.next_action_due_at == lead.sla_first_touch_due_at
    assigned = lead.events.get(kind="assigned")
    assert assigned.data["trace"]["steps"][0] == "rule 'East team': match"
    mail = OutboxMessage.objects.get(lead=lead, kind="email")
    assert mail.recipient == lead.owner_user.email and "New lead for you" in mail.subject
    german = Lead.objects.get(pk=other.lead_id)
    assert german.owner_queue.slug == "unassigned" and german.sla_due_at is None
    assert "no match (country in" in german.events.get(kind="assigned").data["trace"]["steps"][0]
    call_command("checkleads")


def test_round_robin_through_intake_alternates_between_reps(users, submit_inquiry):
    users.manager.is_active = False
    users.manager.save()
    team_rule(users.rep.team)
    owners = [
        Lead.objects.get(pk=submit_inquiry(email=f"b{i}@example.com").lead_id).owner_user_id
        for i in range(10)
    ]
    assert sorted(owners.count(u.pk) for u in (users.rep, users.rep2)) == [5, 5]


def test_rules_see_the_persons_own_account_in_a_batch_with_new_accounts(users, submit_inquiry):
    """A person at a known company is routed on that company, even when the same batch creates
    other accounts (a regression: the last new account of the batch leaked into routing)."""
    from leadrefinery.intake.services import intake_receive, process_records
    from leadrefinery.leads.actors import Actor
    from leadrefinery.leads.models import Source

    users.manager.is_active = False
    users.manager.save()
    team_rule(users.rep.team, conditions=[{"field": "company", "op": "contains", "value": "acme"}])
    submit_inquiry(email="first@acme.example", company="Acme Corp")  # creates the account
    source = Source.objects.get(name="API")
    known = intake_receive(
        channel="api",
        payload={"email": "second@acme.example", "company": "Acme Corp"},
        source=source,
    )[0]
    fresh = intake_receive(
        channel="api", payload={"email": "x@zenith.example", "company": "Zenith Ltd"}, source=source
    )[0]
    process_records([fresh.pk, known.pk], actor=Actor.system("test"))
    known.refresh_from_db()
    fresh.refresh_from_db()
    assert known.status == fresh.status == "processed"
    assert Lead.objects.get(pk=known.lead_id).owner_user is not None
    assert Lead.objects.get(pk=fresh.lead_id).owner_queue.slug == "unassigned"
