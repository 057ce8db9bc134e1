"""Admins edit cadences (page and API); the rules are checked on save."""

from __future__ import annotations

import pytest

from leadrefinery.cadences.models import CadenceTemplate
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db

STEPS = [
    {
        "day": d,
        "channel": "call" if d % 2 == 0 else "email",
        "title": f"Touch {i}",
        "email_body": "Hi {{ first_name }}" if d % 2 else "",
    }
    for i, d in enumerate([0, 1, 2, 5, 9, 15], start=1)
]


def test_the_api_lists_the_seeded_default_cadence(users, token_for):
    (cadence,) = ApiClient(token_for(users.rep)).get("/cadences").json()
    assert cadence["is_default"] and len(cadence["steps"]) == 11
    channels = [s["channel"] for s in cadence["steps"]]
    assert channels.count("call") == 6 and channels.count("email") == 5
    days = [s["day"] for s in cadence["steps"]]
    assert days[-1] >= 14 and sum(1 for d in days if d <= 4) >= 5  # front-loaded


def test_an_admin_creates_a_cadence_and_makes_it_the_default(users, token_for):
    api = ApiClient(token_for(users.admin))
    body = {"name": "Short sprint", "is_default": True, "steps": STEPS}
    created = api.post("/cadences", body)
    assert created.status_code == 201, created.content
    assert [s["position"] for s in created.json()["steps"]] == [1, 2, 3, 4, 5, 6]
    assert CadenceTemplate.objects.get(is_default=True).name == "Short sprint"


def test_a_cadence_that_breaks_the_rules_is_refused_with_field_errors(users, token_for):
    api = ApiClient(token_for(users.admin))
    short = api.post("/cadences", {"name": "Two calls", "steps": STEPS[:2]})
    assert short.status_code == 422
    messages = [d["msg"] for d in short.json()["detail"]]
    assert any("persistence rule needs 6 touches" in m for m in messages)
    rep = ApiClient(token_for(users.rep, ["routing:admin"]))
    assert rep.post("/cadences", {"name": "Mine", "steps": STEPS}).status_code == 403


def test_an_admin_edits_the_default_cadence_on_the_page(users, client_for):
    client = client_for(users.admin)
    template = CadenceTemplate.objects.get(is_default=True)
    page = client.get(f"/cadences/{template.pk}/").content.decode()
    assert "Email 5: closing the loop" in page
    form = {
        "name": "Standard follow-up",
        "active": "on",
        "is_default": "on",
        "end_wait_days": "3",
        "step_count": "6",
    }
    for i, step in enumerate(STEPS):
        form |= {f"step-{i}-{k}": str(v) for k, v in step.items()}
    response = client.post(f"/cadences/{template.pk}/", form)
    assert response.status_code == 302
    template.refresh_from_db()
    assert (template.name, template.end_wait_days, template.steps.count()) == (
        "Standard follow-up",
        3,
        6,
    )
    form["step-5-day"] = "1"  # back before the step above it
    refused = client.post(f"/cadences/{template.pk}/", form)
    assert refused.status_code == 400
    assert "day 1 comes before the step above it" in refused.content.decode()
    assert client_for(users.rep).get("/cadences/").status_code == 403
