"""The review over the API: under the same visibility as leads; decisions go through the lead
services and the timeline; coverage follows the decisions."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from leadrefinery.leads.models import Lead, LeadEvent

pytestmark = pytest.mark.django_db


def call(token: str, method: str, path: str, body=None):
    client = Client()
    kwargs = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    if body is not None:
        return getattr(client, method)(
            f"/api/v1{path}", json.dumps(body), content_type="application/json", **kwargs
        )
    return getattr(client, method)(f"/api/v1{path}", **kwargs)


def test_flags_follow_row_visibility(users, east_leads, token_for):
    mine = call(token_for(users.rep), "get", "/hygiene/flags?kind=overdue").json()
    every = call(token_for(users.manager), "get", "/hygiene/flags?kind=overdue").json()
    own_ids = set(Lead.objects.filter(owner_user=users.rep).values_list("pk", flat=True))
    assert mine and {f["lead_id"] for f in mine} <= own_ids
    assert len(every) > len(mine)
    assert all(f["reason"] and f["label"] == "Next action overdue" for f in every)
    assert call(token_for(users.other_rep), "get", "/hygiene/flags?kind=overdue").json() == []


def test_a_manager_reviews_over_the_api_and_coverage_follows(users, east_leads, token_for):
    token = token_for(users.manager)
    opened = call(token, "post", "/reviews", {"team_id": users.rep.team_id})
    assert opened.status_code == 201, opened.content
    review = opened.json()
    assert call(token, "post", "/reviews", {"team_id": users.rep.team_id}).status_code == 200

    agenda = call(token, "get", f"/reviews/{review['id']}/agenda").json()
    assert len(agenda) == 12
    flagged = [a for a in agenda if a["flags"]]
    assert agenda[: len(flagged)] == flagged  # flagged first within each rep

    rep_leads = [a for a in agenda if a["owner"] == users.rep.username]
    for item in rep_leads:
        answer = call(
            token,
            "post",
            f"/reviews/{review['id']}/decisions",
            {
                "lead_id": item["lead_id"],
                "decision": "keep",
                "next_action": "Call back about the proposal",
                "due_at": "2026-03-09T10:00:00+00:00",
            },
        )
        assert answer.status_code == 201, answer.content
    event = LeadEvent.objects.filter(lead_id=rep_leads[0]["lead_id"], kind="reviewed").get()
    assert event.data["decision"] == "keep" and event.actor == users.manager

    [team] = call(token, "get", "/reviews/coverage").json()
    per_rep = {r["rep"]: r["coverage"] for r in team["reps"]}
    assert per_rep[users.rep.username] == 1.0 and per_rep[users.rep2.username] == 0.0
    assert team["coverage"] == 0.5


def test_a_bad_decision_is_refused_with_the_field(users, east_leads, token_for):
    token = token_for(users.manager)
    review = call(token, "post", "/reviews", {"team_id": users.rep.team_id}).json()
    lead = east_leads[0]
    answer = call(
        token,
        "post",
        f"/reviews/{review['id']}/decisions",
        {"lead_id": lead.pk, "decision": "close", "reason": "no_such_reason"},
    )
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"][-1] == "reason"
    keep = call(
        token,
        "post",
        f"/reviews/{review['id']}/decisions",
        {"lead_id": lead.pk, "decision": "keep"},
    )
    assert keep.status_code == 422 and "next action" in keep.json()["detail"][0]["msg"]


def test_reps_cannot_record_decisions_and_strangers_get_404(users, east_leads, token_for):
    review = call(
        token_for(users.manager), "post", "/reviews", {"team_id": users.rep.team_id}
    ).json()
    lead = east_leads[0]
    body = {"lead_id": lead.pk, "decision": "advance"}
    by_rep = call(token_for(users.rep), "post", f"/reviews/{review['id']}/decisions", body)
    assert by_rep.status_code == 422
    stranger = call(token_for(users.other_rep), "get", f"/reviews/{review['id']}/agenda")
    assert stranger.status_code == 404


def test_a_reps_agenda_holds_only_their_own_leads(users, east_leads, token_for):
    review = call(
        token_for(users.manager), "post", "/reviews", {"team_id": users.rep.team_id}
    ).json()
    mine = call(token_for(users.rep), "get", f"/reviews/{review['id']}/agenda").json()
    own = set(Lead.objects.filter(owner_user=users.rep).values_list("pk", flat=True))
    assert mine and {item["lead_id"] for item in mine} == own
