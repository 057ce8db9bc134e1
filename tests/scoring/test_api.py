"""/api/v1/scoring-rules, /api/v1/scoring-settings, and the score on GET /api/v1/leads/{id}."""

from __future__ import annotations

import pytest

from leadrefinery.scoring.models import ScoringRule

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_api(users, api_as):
    return api_as(users.admin, ["leads:read", "routing:admin"])


def patch(api, path, body):
    import json

    return api.client.patch(
        f"/api/v1{path}",
        data=json.dumps(body),
        content_type="application/json",
        headers=api._headers(None),
    )


def put(api, path, body):
    import json

    return api.client.put(
        f"/api/v1{path}",
        data=json.dumps(body),
        content_type="application/json",
        headers=api._headers(None),
    )


def test_lead_detail_carries_score_temperature_and_reasons(users, api_as, make_lead):
    lead = make_lead(title="VP Sales", company="Acme", budget="50k")
    body = api_as(users.admin, ["leads:read"]).get(f"/leads/{lead.pk}").json()
    score = body["score"]
    assert score["fit_grade"] == "B"  # VP 20 + company 15 + budget 20 at half weight = 45
    assert score["fit_points"] == 45
    assert score["engagement"] == 10 and score["temperature"] == "cool"
    texts = [r["text"] for r in score["reasons"]]
    assert any("self-reported" in t for t in texts)
    assert any(t.startswith("fit grade B x engagement 10") for t in texts)


def test_rules_are_listed_and_created_by_admins(admin_api):
    listed = admin_api.get("/scoring-rules").json()
    assert {r["kind"] for r in listed} == {"fit", "engagement", "hand_raiser"}

    created = admin_api.post(
        "/scoring-rules",
        {
            "name": "Case study read",
            "kind": "engagement",
            "event_type": "page_visit",
            "conditions": [{"field": "url", "op": "contains", "value": "/case-studies/"}],
            "points": 8,
            "daily_cap": 16,
            "half_life_days": 30,
        },
    )
    assert created.status_code == 201, created.content
    assert ScoringRule.objects.get(name="Case study read").daily_cap == 16


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "kind": "engagement", "points": 5}, "event_type"),
        (
            {"name": "x", "kind": "fit", "points": 5, "conditions": [{"field": "a", "op": "??"}]},
            "conditions",
        ),
        ({"name": "x", "kind": "hand_raiser", "points": 0}, "conditions"),
        ({"name": "x", "kind": "fit", "points": 5000}, "points"),
    ],
)
def test_invalid_rules_are_422_field_errors(admin_api, body, field):
    response = admin_api.post("/scoring-rules", body)
    assert response.status_code == 422, response.content
    assert field in [str(p) for d in response.json()["detail"] for p in d["loc"]]


def test_only_admins_change_rules(users, api_as):
    manager = api_as(users.manager, ["leads:read", "routing:admin"])
    response = manager.post("/scoring-rules", {"name": "x", "kind": "fit", "points": 5})
    assert response.status_code == 403


def test_preview_then_patch_a_rule(admin_api, make_lead):
    make_lead(title="Plant Manager", company="Acme")
    rule = ScoringRule.objects.get(name="Manager title")

    preview = admin_api.post("/scoring-rules/preview", {"rule_id": rule.pk, "rule": {"points": 60}})
    assert preview.status_code == 200, preview.content
    assert preview.json()["open_leads"] == 1 and preview.json()["grade_moves"] == 1

    changed = patch(admin_api, f"/scoring-rules/{rule.pk}", {"points": 60})
    assert changed.status_code == 200 and changed.json()["points"] == 60
    assert patch(admin_api, "/scoring-rules/999999", {"points": 1}).status_code == 404


def test_the_matrix_is_validated(admin_api):
    current = admin_api.get("/scoring-settings").json()
    assert current["matrix"]["A"]["high"] == "hot"
    bad = put(admin_api, "/scoring-settings", {"grade_thresholds": {"A": 10, "B": 40, "C": 20}})
    assert bad.status_code == 422
    ok = put(admin_api, "/scoring-settings", {"hand_raiser_hot_days": 14})
    assert ok.status_code == 200 and ok.json()["hand_raiser_hot_days"] == 14


def test_a_null_in_a_change_leaves_the_field_and_clears_only_caps(admin_api):
    rule = ScoringRule.objects.filter(kind="engagement").exclude(daily_cap=None).first()
    assert rule is not None and rule.active
    changed = patch(
        admin_api,
        f"/scoring-rules/{rule.pk}",
        {"active": None, "name": None, "points": 7, "daily_cap": None},
    )
    assert changed.status_code == 200, changed.content
    body = changed.json()
    assert body["active"] is True and body["name"] == rule.name  # null: unchanged
    assert body["points"] == 7 and body["daily_cap"] is None  # a cap may be cleared
