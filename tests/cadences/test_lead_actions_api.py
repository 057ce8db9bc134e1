"""POST /api/v1/leads/{id}/accept|reject|dispose|recycle|touches, as a rep's client would."""

from __future__ import annotations

import pytest

from leadrefinery.cadences.models import Enrollment
from leadrefinery.leads.models import Lead, LeadEvent
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(ron, token_for) -> ApiClient:
    return ApiClient(token_for(ron))


def test_accepting_starts_the_cadence_and_sets_the_first_step(api, sales_ready, frozen_now):
    response = api.post(f"/leads/{sales_ready.pk}/accept", {"note": "Looks good"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["stage"] == "working"
    assert body["next_action"] == "Step 1 of 11: Call 1: first contact"
    assert body["next_action_due_at"].startswith("2026-03-02T09:00")
    lead = Lead.objects.get(pk=sales_ready.pk)
    assert lead.accepted_at == frozen_now.at
    assert Enrollment.objects.get(lead=lead).status == "active"
    kinds = list(lead.events.order_by("id").values_list("kind", flat=True))
    assert kinds[-3:] == ["accepted", "stage_changed", "cadence"]


def test_accepting_twice_or_someone_elses_lead_is_refused(api, users, sales_ready, handed_to):
    assert api.post(f"/leads/{sales_ready.pk}/accept", {}).status_code == 200
    again = api.post(f"/leads/{sales_ready.pk}/accept", {})
    assert again.status_code == 422
    assert "only a sales-ready lead can be accepted" in again.json()["detail"][0]["msg"]
    walts = handed_to(users.other_rep)
    assert api.post(f"/leads/{walts.pk}/accept", {}).status_code == 404  # not visible to ron


def test_rejecting_to_routing_gives_the_lead_to_someone_else(api, ron, users, sales_ready):
    from leadrefinery.routing.models import RoutingRule

    RoutingRule.objects.create(
        name="East team",
        order=1,
        target_kind="team",
        target_team=ron.team,
        created_at=sales_ready.created_at,
        updated_at=sales_ready.created_at,
    )
    response = api.post(
        f"/leads/{sales_ready.pk}/reject", {"reason": "wrong_territory", "note": "Not my region"}
    )
    assert response.status_code == 200, response.content
    lead = Lead.objects.get(pk=sales_ready.pk)
    assert lead.owner_user == users.rep2  # the other rep of team East, never ron again
    rejected = lead.events.get(kind=LeadEvent.Kind.REJECTED)
    assert rejected.reason == "wrong_territory" and rejected.note == "Not my region"


def test_rejecting_with_a_recycle_reason_hands_the_lead_to_marketing(api, sales_ready):
    response = api.post(f"/leads/{sales_ready.pk}/reject", {"reason": "recycle_rejected"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["stage"] == "nurture"
    assert body["owner"]["slug"] == "marketing"
    assert body["next_action"] and body["next_action_due_at"]


def test_a_reason_that_does_not_fit_is_a_field_error(api, sales_ready):
    response = api.post(f"/leads/{sales_ready.pk}/reject", {"reason": "lost_price"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "payload", "reason"]
    response = api.post(f"/leads/{sales_ready.pk}/recycle", {"reason": "dq_spam"})
    assert response.status_code == 422
    assert "not a recycle reason" in response.json()["detail"][0]["msg"]
    response = api.post(f"/leads/{sales_ready.pk}/accept", {"unexpected": 1})
    assert response.status_code == 422


def test_no_response_is_refused_until_the_persistence_rule_is_met(
    api, ron, sales_ready, work_cadence, frozen_now
):
    api.post(f"/leads/{sales_ready.pk}/accept", {})
    work_cadence(sales_ready, ron, steps=5)
    refused = api.post(f"/leads/{sales_ready.pk}/dispose", {"reason": "lost_no_response"})
    assert refused.status_code == 422
    messages = " ".join(d["msg"] for d in refused.json()["detail"])
    assert "(5 so far, 1 to go)" in messages and "days of follow-up" in messages
    work_cadence(sales_ready, ron, steps=5)  # 10 touches, over two weeks and more
    closed = api.post(f"/leads/{sales_ready.pk}/dispose", {"reason": "lost_no_response"})
    assert closed.status_code == 200, closed.content
    assert closed.json()["disposition"] == "lost_no_response"
    assert Enrollment.objects.get(lead=sales_ready).status == "stopped"


def test_logging_touches_through_the_api(api, ron, sales_ready):
    response = api.post(
        f"/leads/{sales_ready.pk}/touches",
        {"channel": "call", "outcome": "voicemail", "note": "Left a message"},
    )
    assert response.status_code == 201, response.content
    assert response.json()["is_sales"] is True
    lead = Lead.objects.get(pk=sales_ready.pk)
    assert lead.sales_touch_count == 1 and lead.first_sales_touch_at is not None
    assert lead.sla_due_at is None  # the first sales touch stopped the SLA clock
    bad = api.post(f"/leads/{sales_ready.pk}/touches", {"channel": "carrier_pigeon"})
    assert bad.status_code == 422
    naive = api.post(
        f"/leads/{sales_ready.pk}/touches", {"channel": "call", "occurred_at": "2026-03-01T10:00"}
    )
    assert naive.status_code == 422
    assert naive.json()["detail"][0]["loc"] == ["body", "payload", "occurred_at"]
    assert api.post("/leads/999999/touches", {"channel": "call"}).status_code == 404


def test_a_touch_through_the_api_is_the_cadence_step_or_sets_the_next_step(
    api, sales_ready, handed_to, ron, frozen_now
):
    """The API logs a touch through the same service as the lead page and the Today page."""
    api.post(f"/leads/{sales_ready.pk}/accept", {})
    response = api.post(
        f"/leads/{sales_ready.pk}/touches", {"channel": "call", "outcome": "no_answer"}
    )
    assert response.status_code == 201, response.content
    enrollment = Enrollment.objects.get(lead=sales_ready)
    assert (enrollment.steps_done, enrollment.step_position) == (1, 2)
    lead = Lead.objects.get(pk=sales_ready.pk)
    assert lead.next_action == "Step 2 of 11: Email 1: introduction"

    # No cadence (not accepted yet): the touch sets the next step given, or a default.
    other = handed_to(ron, first_name="Ines")
    api.post(
        f"/leads/{other.pk}/touches",
        {
            "channel": "email",
            "outcome": "sent",
            "next_action": "Call about the quote",
            "next_action_due_at": "2026-03-05T10:00:00+00:00",
        },
    )
    other = Lead.objects.get(pk=other.pk)
    assert other.next_action == "Call about the quote"
    assert other.next_action_due_at.isoformat() == "2026-03-05T10:00:00+00:00"
    refused = api.post(
        f"/leads/{other.pk}/touches",
        {"channel": "call", "next_action_due_at": "2026-03-05T10:00:00"},
    )
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"][-1] == "next_action_due_at"
