"""The loop: a nurtured lead clicks twice in a nurture email and visits the pricing page; it
turns hot, gets a rep and an SLA clock, and leaves the program, in one pass; the rep sees the
content it read."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client

from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import Lead
from leadrefinery.leads.services import lead_transition
from leadrefinery.nurture.models import Enrollment, NurtureSend
from leadrefinery.nurture.selectors import program_report
from leadrefinery.nurture.sweep import nurture_sweep
from leadrefinery.routing.models import RoutingRule

from .conftest import html_part

pytestmark = pytest.mark.django_db


@pytest.fixture
def hot_to_east(users, frozen_now):
    return RoutingRule.objects.create(
        name="Hot leads to East",
        order=1,
        conditions=[{"field": "temperature", "op": "equals", "value": "hot"}],
        target_kind="team",
        target_team=users.rep.team,
        created_at=frozen_now.at,
        updated_at=frozen_now.at,
    )


def test_two_clicks_and_a_pricing_visit_turn_a_nurtured_lead_hot_and_send_it_to_sales(
    smtp_server,
    make_program,
    nurture_lead,
    frozen_now,
    users,
    hot_to_east,
    token_for,
    client_for,
):
    make_program(entry_rules=["warm", "cool", "new_inquiry"])
    lead = nurture_lead(
        first_name="Nora",
        email="nora@northwind.example",
        company="Northwind Traders",
        title="Chief Operations Director",  # a good fit: grade A
        country="GB",
        consent=True,
    )
    lead = lead_transition(lead=lead, to_stage="nurture", actor=Actor.system("test"))
    assert lead.temperature == "warm" and lead.owner_user is None  # fits well, little engaged

    nurture_sweep()
    [email] = smtp_server.messages
    click = re.search(r'href="https?://[^/"]+(/t/c/[^"]+)">Read the study', html_part(email))[1]
    reader = Client()
    for _ in range(2):  # the reader clicks the link twice
        assert reader.get(click.replace("&amp;", "&")).status_code == 302
    frozen_now.advance(timedelta(minutes=3))
    visit = Client().post(
        "/api/v1/events",
        {
            "events": [
                {
                    "id": "visit-1",
                    "type": "page_visit",
                    "occurred_at": frozen_now.at.isoformat(),
                    "email": "nora@northwind.example",
                    "properties": {"url": "https://refinery.example.com/pricing"},
                }
            ]
        },
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token_for(users.admin)}",
    )
    assert visit.status_code == 200, visit.content

    # One pass: no sweep has run since the visit.
    lead = Lead.objects.get(pk=lead.pk)
    assert lead.temperature == "hot"
    assert lead.stage == "sales_ready"
    assert lead.owner_user in (users.rep, users.rep2)
    assert lead.sla_started_at is not None and lead.sla_first_touch_due_at is not None
    enrollment = Enrollment.objects.get(lead=lead)
    assert (enrollment.status, enrollment.exit_reason) == ("exited", "hot")
    sent = NurtureSend.objects.get(lead=lead, status="sent")
    assert sent.clicks == 2 and sent.turned_hot_at is not None
    assert not NurtureSend.objects.filter(lead=lead, status="scheduled").exists()
    [row] = [r for r in program_report()[0]["steps"] if r["step"].position == 1]
    assert (row["clicked"], row["turned_hot"]) == (1, 1)

    # Later sweeps send it nothing more.
    for _ in range(4):
        frozen_now.advance(timedelta(days=7))
        nurture_sweep()
    assert len(smtp_server.messages) == 1

    # The rep sees which content it read.
    page = client_for(lead.owner_user).get(f"/leads/{lead.pk}/").content.decode()
    assert "Tip 1: measure response time" in page
    assert "example.com/study" in page
