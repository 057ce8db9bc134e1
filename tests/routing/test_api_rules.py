"""/api/v1/routing-rules: list, create, change, switch off, and the preview that assigns nothing."""

from __future__ import annotations

import json

import pytest

from leadrefinery.leads.models import Lead, LeadEvent
from leadrefinery.routing.models import RoutingCounter, RoutingRule
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db


def put(client: ApiClient, path: str, body):
    return client.client.put(
        f"/api/v1{path}",
        data=json.dumps(body),
        content_type="application/json",
        headers=client._headers(None),
    )


def delete(client: ApiClient, path: str):
    return client.client.delete(f"/api/v1{path}", headers=client._headers(None))


@pytest.fixture
def admin_api(users, token_for):
    return ApiClient(token_for(users.admin, ["leads:read", "routing:admin"]))


def us_rule(team_id: int) -> dict:
    return {
        "name": "North America",
        "order": 10,
        "conditions": [{"field": "country", "op": "in", "value": ["US", "CA"]}],
        "target_kind": "team",
        "target_id": team_id,
        "method": "round_robin",
    }


def test_a_rule_created_through_the_api_is_listed_before_the_fallback(users, admin_api):
    created = admin_api.post("/routing-rules", us_rule(users.rep.team_id))
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["target"] == {"kind": "team", "id": users.rep.team_id, "name": "East"}
    assert body["conditions_text"] == ["country is one of US, CA"]
    listed = admin_api.get("/routing-rules").json()
    assert listed[0]["name"] == "North America"
    assert listed[-1]["is_fallback"] is True
    got = admin_api.get(f"/routing-rules/{body['id']}").json()
    assert got["description"] == "team East by round robin"


def test_invalid_rules_are_refused_with_field_errors(users, admin_api):
    bad_in = {**us_rule(users.rep.team_id), "conditions": [{"field": "country", "op": "in"}]}
    response = admin_api.post("/routing-rules", bad_in)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "payload", "conditions"]
    assert "needs a non-empty list" in error["msg"]
    missing = admin_api.post("/routing-rules", {**us_rule(99999)})
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["msg"] == "no team with id 99999"
    bad_range = {
        **us_rule(users.rep.team_id),
        "conditions": [{"field": "employees", "op": "range", "value": ["a", 5]}],
    }
    assert (
        "bounds must be numbers"
        in admin_api.post("/routing-rules", bad_range).json()["detail"][0]["msg"]
    )
    assert RoutingRule.objects.count() == 1  # only the fallback


def test_update_keeps_fields_left_out_and_delete_switches_the_rule_off(users, admin_api):
    rule_id = admin_api.post("/routing-rules", us_rule(users.rep.team_id)).json()["id"]
    changed = put(
        admin_api, f"/routing-rules/{rule_id}", {"target_kind": "user", "target_id": users.rep.pk}
    )
    assert changed.status_code == 200, changed.content
    rule = RoutingRule.objects.get(pk=rule_id)
    assert rule.target_user == users.rep and rule.target_team is None
    assert rule.conditions == [{"field": "country", "op": "in", "value": ["US", "CA"]}]
    gone = delete(admin_api, f"/routing-rules/{rule_id}")
    assert gone.status_code == 200 and gone.json()["active"] is False
    rule.refresh_from_db()
    assert rule.active is False


def test_the_fallback_rule_cannot_be_deleted_switched_off_or_given_conditions(admin_api, users):
    fallback = RoutingRule.objects.get(is_fallback=True)
    assert delete(admin_api, f"/routing-rules/{fallback.pk}").status_code == 409
    conditions = put(
        admin_api,
        f"/routing-rules/{fallback.pk}",
        {"conditions": [{"field": "country", "op": "equals", "value": "US"}]},
    )
    assert conditions.status_code == 422
    assert "no conditions" in conditions.json()["detail"][0]["msg"]
    off = put(admin_api, f"/routing-rules/{fallback.pk}", {"active": False})
    assert off.status_code == 422
    fallback.refresh_from_db()
    assert fallback.active and fallback.conditions == []


def test_only_admins_and_managers_with_the_scope_change_rules(users, token_for):
    rule = us_rule(users.rep.team_id)
    rep = ApiClient(token_for(users.rep, ["leads:read", "routing:admin"]))
    assert rep.post("/routing-rules", rule).status_code == 403
    assert rep.get("/routing-rules").status_code == 200  # reading is fine
    no_scope = ApiClient(token_for(users.admin, ["leads:read"]))
    refused = no_scope.post("/routing-rules", rule)
    assert refused.status_code == 403 and "routing:admin" in refused.json()["detail"]
    manager = ApiClient(token_for(users.manager, ["routing:admin"]))
    assert manager.post("/routing-rules", rule).status_code == 201
    assert ApiClient(None).get("/routing-rules").status_code == 401


def test_preview_explains_without_assigning_or_moving_counters(users, admin_api, frozen_now):
    users.rep.away_until = None
    users.rep2.max_open_leads = 0  # rita is at her cap: skipped, with the reason
    users.rep2.save()
    admin_api.post("/routing-rules", us_rule(users.rep.team_id))
    RoutingCounter.objects.create(
        team_id=users.rep.team_id, user=users.rep, rotation_count=7, day="2026-01-01"
    )
    leads_before = Lead.objects.count()
    events_before = LeadEvent.objects.count()

    answer = admin_api.post("/routing-rules/preview", {"fields": {"country": "us"}})
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["assigned"] is True
    assert body["owner"] == {"kind": "user", "id": users.rep.pk, "name": "ron"}
    assert body["rule_name"] == "North America"
    assert body["steps"][0] == "rule 'North America': match"
    assert {"name": "rita", "why": "at open-lead cap (0/0)"} in body["skipped"]
    # maria is a manager in team East: routing considers reps only, so she is not a candidate.
    assert all(s["name"] != "maria" for s in body["skipped"])

    german = admin_api.post("/routing-rules/preview", {"fields": {"country": "DE"}}).json()
    assert german["owner"]["kind"] == "queue" and german["rule_name"] != "North America"
    assert "no match (country in" in german["steps"][0]

    assert Lead.objects.count() == leads_before and LeadEvent.objects.count() == events_before
    counter = RoutingCounter.objects.get(user=users.rep)
    assert counter.rotation_count == 7 and counter.day.isoformat() == "2026-01-01"


def test_preview_of_an_existing_lead_uses_its_fields(users, admin_api, make_lead):
    admin_api.post("/routing-rules", us_rule(users.rep.team_id))
    lead = make_lead(country="CA")
    body = admin_api.post("/routing-rules/preview", {"lead_id": lead.pk}).json()
    assert body["rule_name"] == "North America"
    rep_view = ApiClient(
        __import__("leadrefinery.accounts.services", fromlist=["x"])
        .token_create(user=users.other_rep, scopes=["leads:read"])
        .secret
    )
    assert rep_view.post("/routing-rules/preview", {"lead_id": lead.pk}).status_code == 404
