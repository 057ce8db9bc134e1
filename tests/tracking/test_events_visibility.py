"""POST /api/v1/events reaches only the people the token's user may see: a rep's token that
gets 404 for a lead cannot move its score, and the answer for it is the answer for an email
nobody has (so it tells nothing about who exists). A token made without scopes is read-only."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from leadrefinery.accounts.models import ApiToken
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.services import lead_assign
from leadrefinery.scoring.models import LeadScore
from leadrefinery.tracking.models import TrackedEvent
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db


def signups(prefix: str, n: int, **who):
    return {
        "events": [
            {"id": f"{prefix}-{i}", "type": "signup", "occurred_at": "2026-03-02T09:00:00Z", **who}
            for i in range(n)
        ]
    }


def test_a_reps_token_cannot_score_a_lead_it_cannot_see(users, make_lead, api_as):
    hidden = lead_assign(
        lead=make_lead(email="hidden@example.com"),
        owner_user=users.other_rep,
        actor=Actor.system("test"),
    )
    own = lead_assign(
        lead=make_lead(email="own@example.com"), owner_user=users.rep, actor=Actor.system("test")
    )
    rep = api_as(users.rep, ["leads:read", "inquiries:write"])
    assert rep.get(f"/leads/{hidden.pk}").status_code == 404
    before = LeadScore.objects.get(lead=hidden).engagement

    by_email = rep.post("/events", signups("a", 5, email="hidden@example.com"))
    by_id = rep.post("/events", signups("b", 5, person_id=hidden.person_id))
    nobody = rep.post("/events", signups("c", 5, email="nobody@example.com"))
    mine = rep.post("/events", signups("d", 1, email="own@example.com"))

    assert LeadScore.objects.get(lead=hidden).engagement == before
    assert LeadScore.objects.get(lead=hidden).temperature == hidden.temperature
    # Exactly the answer an unknown email gets.
    assert by_email.json() == {
        "accepted": 5,
        "duplicates": 0,
        "unmatched": [f"a-{i}" for i in range(5)],
    }
    assert by_id.json()["unmatched"] == [f"b-{i}" for i in range(5)]
    assert nobody.json()["unmatched"] == [f"c-{i}" for i in range(5)]
    assert not TrackedEvent.objects.filter(person_id=hidden.person_id).exists()
    # The rep's own lead is scored as before.
    assert mine.json() == {"accepted": 1, "duplicates": 0, "unmatched": []}
    assert LeadScore.objects.get(lead=own).engagement > 0


def test_an_admins_token_reaches_everyone(users, make_lead, api_as):
    lead = lead_assign(
        lead=make_lead(email="walt.lead@example.com"),
        owner_user=users.other_rep,
        actor=Actor.system("test"),
    )
    admin = api_as(users.admin, ["inquiries:write"])
    answer = admin.post("/events", signups("x", 1, email="walt.lead@example.com"))
    assert answer.json()["unmatched"] == []
    assert TrackedEvent.objects.get(event_id="x-0").lead_id == lead.pk


def test_a_token_made_without_scopes_can_only_read(users, make_lead, capsys):
    make_lead(email="pat@example.com")
    call_command("token", "create", "--user", users.admin.username)
    secret = capsys.readouterr().out.strip()
    assert ApiToken.objects.get().scopes == ["leads:read"]
    client = ApiClient(secret)

    assert client.get("/leads").status_code == 200
    refused = client.post("/events", signups("z", 1, email="pat@example.com"))
    assert refused.status_code == 403
    assert "inquiries:write" in refused.json()["detail"]
    assert client.post("/inquiries", {"email": "new@example.com"}).status_code == 403
