"""Hot leads go to sales at once: a hand-raiser on a form, and a nurture lead whose engagement
crosses into hot, are routed, made sales-ready and get an SLA clock in the same request."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import Lead, LeadEvent, Source, WebForm
from leadrefinery.leads.services import lead_transition
from leadrefinery.routing.models import RoutingRule
from leadrefinery.scoring.models import LeadScore

pytestmark = pytest.mark.django_db


@pytest.fixture
def hot_to_east(users, frozen_now):
    """Routing reads the temperature: hot leads go to team East's rotation."""
    return RoutingRule.objects.create(
        name="Hot leads to East",
        order=1,
        conditions=[{"field": "temperature", "op": "equals", "value": "hot"}],
        target_kind="team",
        target_team=users.rep.team,
        created_at=frozen_now.at,
        updated_at=frozen_now.at,
    )


@pytest.fixture
def demo_form(db):
    return WebForm.objects.create(
        slug="demo",
        name="Book a demo",
        source=Source.objects.get_or_create(name="Website")[0],
        min_fill_seconds=0,
        fields=[
            {"name": "first_name", "label": "First name", "type": "text", "required": True},
            {"name": "email", "label": "Work email", "type": "email", "required": True},
            {"name": "company", "label": "Company", "type": "text", "required": False},
            {
                "name": "request_type",
                "label": "I would like",
                "type": "select",
                "options": ["demo", "pricing", "newsletter"],
                "required": True,
            },
        ],
    )


def submit(form: WebForm, **values) -> tuple[int, Lead | None]:
    client = Client()
    page = client.get(f"/f/{form.slug}/").content.decode()
    token = re.search(r'name="refinery_started" value="([^"]+)"', page).group(1)
    response = client.post(f"/f/{form.slug}/", {"refinery_started": token, **values})
    lead = Lead.objects.filter(person__email=values["email"]).first()
    return response.status_code, lead


def test_a_demo_request_is_hot_and_has_an_owner_and_sla_after_one_request(
    users, hot_to_east, demo_form, frozen_now
):
    status, lead = submit(
        demo_form, first_name="Dana", email="dana@example.com", request_type="demo"
    )

    assert status == 302 and lead is not None
    assert lead.temperature == "hot"
    assert lead.stage == "sales_ready"
    assert lead.owner_user in (users.rep, users.rep2)
    assert lead.sla_started_at == frozen_now.at
    assert lead.sla_policy.temperature == "hot"  # the 15-minute policy for hot leads
    score = LeadScore.objects.get(lead=lead)
    assert score.hand_raised_at == frozen_now.at
    assert any("hand-raiser" in r["text"] for r in score.reasons)
    assert LeadEvent.objects.filter(lead=lead, kind=LeadEvent.Kind.SCORE).exists()


def test_a_newsletter_request_is_not_a_hand_raiser(users, hot_to_east, demo_form, frozen_now):
    status, lead = submit(
        demo_form, first_name="Nico", email="nico@example.com", request_type="newsletter"
    )
    assert status == 302 and lead.temperature != "hot"
    assert lead.owner_user is None and lead.stage == "inquiry"


def test_a_nurture_lead_that_turns_hot_is_handed_to_sales_in_the_same_request(
    users, hot_to_east, make_lead, frozen_now, api_as
):
    lead = make_lead(title="VP Operations", company="Acme", country="US")
    lead = lead_transition(lead=lead, to_stage="nurture", actor=Actor.system("test"))
    assert lead.owner_user is None

    events = [
        {
            "id": f"e{n}",
            "type": t,
            "occurred_at": "2026-03-02T08:30:00Z",
            "email": lead.person.email,
        }
        for n, t in enumerate(["signup", "webinar", "download"])
    ]
    response = api_as(users.admin, ["inquiries:write"]).post("/events", {"events": events})

    assert response.status_code == 200
    lead.refresh_from_db()
    assert lead.temperature == "hot"
    assert lead.stage == "sales_ready"
    assert lead.owner_user in (users.rep, users.rep2)
    assert lead.sla_started_at == frozen_now.at
    assert lead.next_action_due_at == lead.sla_first_touch_due_at
    kinds = list(lead.events.order_by("id").values_list("kind", flat=True))
    assert kinds[-3:] == ["score", "stage_changed", "assigned"]


def test_hot_without_a_rep_to_take_it_stays_in_nurture_and_says_why(
    users, make_lead, frozen_now, api_as
):
    lead = make_lead(title="VP Operations", company="Acme", country="US")
    lead_transition(lead=lead, to_stage="nurture", actor=Actor.system("test"))
    events = [
        {
            "id": f"e{n}",
            "type": t,
            "occurred_at": "2026-03-02T08:30:00Z",
            "email": lead.person.email,
        }
        for n, t in enumerate(["signup", "webinar", "download"])
    ]
    api_as(users.admin, ["inquiries:write"]).post("/events", {"events": events})

    lead.refresh_from_db()
    assert (lead.temperature, lead.stage) == ("hot", "nurture")
    last = lead.events.order_by("-id").first()
    assert last.kind == "score" and "no rep could take it" in last.note
