"""/api/v1/teams, /api/v1/sla-policies and /api/v1/users/{username}/availability."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from leadrefinery.leads.actors import Actor
from leadrefinery.leads.services import lead_assign
from leadrefinery.sla.models import SlaPolicy
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db


def put(client: ApiClient, path: str, body):
    return client.client.put(
        f"/api/v1{path}",
        data=json.dumps(body),
        content_type="application/json",
        headers=client._headers(None),
    )


def test_teams_show_reps_with_availability_caps_and_open_leads(
    users, token_for, make_lead, frozen_now
):
    users.rep2.away_until = datetime(2026, 3, 9, tzinfo=UTC)
    users.rep2.routing_weight = 3
    users.rep2.max_open_leads = 20
    users.rep2.save()
    lead_assign(lead=make_lead(), owner_user=users.rep, actor=Actor.system("test"))
    api = ApiClient(token_for(users.rep, ["leads:read"]))
    teams = {t["name"]: t for t in api.get("/teams").json()}
    east = teams["East"]
    assert east["manager"] == "maria"
    members = {m["username"]: m for m in east["members"]}
    assert set(members) == {"ron", "rita"}  # reps only: the manager takes no leads
    assert members["ron"]["status"] == "available" and members["ron"]["open_leads"] == 1
    assert members["rita"]["status"] == "unavailable"
    assert members["rita"]["unavailable_reason"] == "away until 2026-03-09 00:00 UTC"
    assert (members["rita"]["routing_weight"], members["rita"]["max_open_leads"]) == (3, 20)
    assert [m["username"] for m in teams["West"]["members"]] == ["walt"]


def test_sla_policies_are_listed_created_and_validated(users, token_for):
    admin = ApiClient(token_for(users.admin, ["leads:read", "routing:admin"]))
    seeded = admin.get("/sla-policies").json()
    assert len(seeded) == SlaPolicy.objects.count() >= 1
    created = admin.post(
        "/sla-policies",
        {
            "name": "Hot web",
            "order": 1,
            "temperature": "hot",
            "source": "Website",
            "first_touch_minutes": 5,
            "reassign_after_minutes": 30,
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["source"], body["first_touch_minutes"], body["remind_at_percent"]) == (
        "Website",
        5,
        50,
    )
    changed = put(admin, f"/sla-policies/{body['id']}", {"first_touch_minutes": 10})
    assert changed.json()["first_touch_minutes"] == 10 and changed.json()["temperature"] == "hot"
    unknown = admin.post("/sla-policies", {"name": "x", "source": "Nowhere"})
    assert unknown.status_code == 422 and "unknown source" in unknown.json()["detail"][0]["msg"]
    out_of_range = put(admin, f"/sla-policies/{body['id']}", {"remind_at_percent": 100})
    assert out_of_range.status_code == 422
    assert admin.get(f"/sla-policies/{body['id']}").json()["first_touch_minutes"] == 10
    rep = ApiClient(token_for(users.rep, ["leads:read", "routing:admin"]))
    assert rep.post("/sla-policies", {"name": "mine"}).status_code == 403
    assert admin.get("/sla-policies/999999").status_code == 404


def test_a_rep_sets_their_own_away_date_and_hours_but_not_their_caps(users, token_for):
    ron = ApiClient(token_for(users.rep, ["leads:read", "leads:write"]))
    answer = put(
        ron,
        "/users/ron/availability",
        {
            "away_until": "2026-03-10T08:00:00Z",
            "working_hours": {"0": [["08:00", "12:00"]]},
            "time_zone": "Europe/Berlin",
        },
    )
    assert answer.status_code == 200, answer.content
    users.rep.refresh_from_db()
    assert users.rep.away_until == datetime(2026, 3, 10, 8, tzinfo=UTC)
    assert users.rep.working_hours == {"0": [["08:00", "12:00"]]}
    assert users.rep.time_zone == "Europe/Berlin"
    caps = put(ron, "/users/ron/availability", {"max_open_leads": 500})
    assert caps.status_code == 403
    assert put(ron, "/users/rita/availability", {"away_until": None}).status_code == 404
    back = put(ron, "/users/ron/availability", {"away_until": None})
    assert back.json()["away_until"] is None


def test_managers_set_their_team_and_admins_anyone(users, token_for):
    maria = ApiClient(token_for(users.manager, ["leads:read", "leads:write"]))
    ok = put(maria, "/users/rita/availability", {"routing_weight": 3, "max_leads_per_day": 10})
    assert ok.status_code == 200 and ok.json()["routing_weight"] == 3
    assert put(maria, "/users/walt/availability", {"routing_weight": 2}).status_code == 404
    admin = ApiClient(token_for(users.admin, ["leads:read", "leads:write"]))
    assert put(admin, "/users/walt/availability", {"max_open_leads": 5}).status_code == 200
    bad = put(
        admin,
        "/users/walt/availability",
        {"time_zone": "Mars/Olympus", "working_hours": {"8": [["09:00", "17:00"]]}},
    )
    assert bad.status_code == 422
    fields = {e["loc"][-1] for e in bad.json()["detail"]}
    assert fields == {"time_zone", "working_hours"}
    backwards = put(
        admin, "/users/walt/availability", {"working_hours": {"1": [["17:00", "09:00"]]}}
    )
    assert "ends before it starts" in backwards.json()["detail"][0]["msg"]
    assert admin.get("/users/walt/availability").json()["max_open_leads"] == 5
