"""POST /api/v1/events: batches of up to 1,000, idempotent per event id, 422 on bad input."""

from __future__ import annotations

import pytest

from leadrefinery.leads.models import Touch
from leadrefinery.scoring.models import LeadScore, ScoreLog
from leadrefinery.tracking.models import TrackedEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def sender(users, api_as):
    return api_as(users.admin, ["inquiries:write"])


def event(n: int, **fields):
    return {
        "id": f"ev-{n}",
        "type": "webinar",
        "occurred_at": "2026-03-02T09:00:00Z",
        "email": "pat@example.com",
        **fields,
    }


def test_events_become_touches_on_the_open_lead_and_raise_the_score(sender, make_lead):
    lead = make_lead(email="pat@example.com")
    before = LeadScore.objects.get(lead=lead).engagement

    response = sender.post(
        "/events",
        {"events": [event(1, properties={"name": "Spring webinar"}), event(2, type="download")]},
    )

    assert response.status_code == 200, response.content
    assert response.json() == {"accepted": 2, "duplicates": 0, "unmatched": []}
    touches = Touch.objects.filter(lead=lead, channel=Touch.Channel.EVENT)
    assert sorted(t.note for t in touches) == ["download", "webinar: Spring webinar"]
    score = LeadScore.objects.get(lead=lead)
    assert score.engagement > before
    reasons = {r["text"] for r in score.reasons if r["axis"] == "engagement"}
    assert "Webinar attended" in reasons


def test_a_repeated_batch_changes_nothing(sender, make_lead):
    lead = make_lead(email="pat@example.com")
    body = {"events": [event(1), event(2, type="signup")]}
    assert sender.post("/events", body).json()["accepted"] == 2
    logs = ScoreLog.objects.filter(lead=lead).count()
    score = LeadScore.objects.get(lead=lead).engagement

    again = sender.post("/events", body)

    assert again.json() == {"accepted": 0, "duplicates": 2, "unmatched": []}
    assert ScoreLog.objects.filter(lead=lead).count() == logs
    assert LeadScore.objects.get(lead=lead).engagement == score
    assert Touch.objects.filter(lead=lead, channel=Touch.Channel.EVENT).count() == 2


def test_the_same_id_twice_in_one_batch_counts_once(sender, make_lead):
    make_lead(email="pat@example.com")
    response = sender.post("/events", {"events": [event(1), event(1)]})
    assert response.json() == {"accepted": 1, "duplicates": 1, "unmatched": []}
    assert TrackedEvent.objects.count() == 1


def test_events_for_unknown_people_are_kept_and_listed(sender):
    response = sender.post("/events", {"events": [event(1, email="nobody@example.com")]})
    assert response.json() == {"accepted": 1, "duplicates": 0, "unmatched": ["ev-1"]}
    assert TrackedEvent.objects.get().person is None


def test_one_thousand_events_are_accepted_and_one_more_is_refused(sender, make_lead):
    make_lead(email="pat@example.com")
    batch = [event(n, type="download") for n in range(1000)]
    ok = sender.post("/events", {"events": batch})
    assert ok.status_code == 200 and ok.json()["accepted"] == 1000

    too_many = sender.post("/events", {"events": [event(n) for n in range(1001)]})
    assert too_many.status_code == 422
    assert too_many.json()["detail"][0]["loc"][-1] == "events"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"type": "Web Inar"}, "type"),
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"email": None, "person_id": None}, "events"),
        ({"colour": "blue"}, "colour"),
        ({"id": ""}, "id"),
        ({"email": None, "person_id": 2**70}, "person_id"),  # found by the schema fuzzer: a 500
    ],
)
def test_bad_events_are_field_errors(sender, change, field):
    response = sender.post("/events", {"events": [{**event(1), **change}]})
    assert response.status_code == 422, response.content
    locs = [d["loc"] for d in response.json()["detail"]]
    assert any(field in [str(part) for part in loc] for loc in locs), locs
    assert TrackedEvent.objects.count() == 0


def test_needs_a_token_with_the_scope(users, api_as):
    reader = api_as(users.admin, ["leads:read"])
    assert reader.post("/events", {"events": [event(1)]}).status_code == 403
