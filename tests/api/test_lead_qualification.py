"""PATCH /leads/{id}/qualification: need, budget, authority, timeline, each change on the
timeline with who and when; fields not given stay; closed leads keep theirs."""

from __future__ import annotations

import json

import pytest

from leadrefinery.leads.actors import Actor
from leadrefinery.leads.services import lead_assign, lead_dispose, lead_transition
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db


def patch(client: ApiClient, lead_id: int, body: dict) -> object:
    return client.client.patch(
        f"/api/v1/leads/{lead_id}/qualification",
        data=json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {client.secret}"},
    )


def test_a_rep_records_budget_and_timeline_and_the_timeline_says_who(make_lead, users, token_for):
    lead = make_lead(need="Fewer lost leads", budget="")
    lead_assign(lead=lead, owner_user=users.rep, actor=Actor.system("test"))
    rep = ApiClient(token_for(users.rep))

    answer = patch(rep, lead.pk, {"budget": "  40k   EUR ", "timeline": "Q3"})
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["qualification"] == {
        "need": "Fewer lost leads",
        "budget": "40k EUR",
        "authority": "",
        "timeline": "Q3",
    }
    (event,) = [e for e in body["timeline"] if e["kind"] == "qualified"]
    assert event["actor"] == "ron"
    assert "Budget: 40k EUR" in event["note"] and "Timeline: Q3" in event["note"]

    again = patch(rep, lead.pk, {"budget": "40k EUR"})  # no change, no new event
    assert [e["kind"] for e in again.json()["timeline"]].count("qualified") == 1


def test_others_cannot_see_it_and_closed_leads_keep_theirs(make_lead, users, token_for):
    lead = make_lead()
    lead_assign(lead=lead, owner_user=users.rep, actor=Actor.system("test"))
    assert patch(ApiClient(token_for(users.other_rep)), lead.pk, {"need": "x"}).status_code == 404
    assert patch(ApiClient(token_for(users.rep)), lead.pk, {"colour": "x"}).status_code == 422

    lead = lead_transition(lead=lead, to_stage="sales_ready", actor=Actor.system("test"))
    lead = lead_transition(lead=lead, to_stage="working", actor=Actor.of(users.rep))
    lead_dispose(lead=lead, reason_code="lost_price", actor=Actor.of(users.rep))
    refused = patch(ApiClient(token_for(users.rep)), lead.pk, {"budget": "more"})
    assert refused.status_code == 422
    assert "closed" in refused.json()["detail"][0]["msg"]
