"""Strangers cannot heat up someone else's lead: from one address, five public form posts in
the person's name and sixty page visits by a browser tied to them add at most the anonymous
daily cap to the lead's engagement (8 stays well below the warm band, not 110), while each
visit and form fill is still recorded. Through the real endpoints."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from leadrefinery.leads.models import IntakeRecord, Lead, Touch
from leadrefinery.scoring.models import LeadScore, ScoringRule
from leadrefinery.tracking.models import RateCounter, Visit
from leadrefinery.tracking.services import hits_flush
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db

VISITOR = "b1e5a7c0-visitor-of-the-flood"
PERSON = {
    "first_name": "Grace",
    "last_name": "Jones",
    "email": "grace.jones@northwind.example",
    "company": "Northwind Traders",
    "message": "Hello",
}


@pytest.fixture
def cool_lead(frozen_now, submit_inquiry, users, token_for):
    """A grade-B lead with 8 engagement points (a webinar worth 8), cool."""
    submit_inquiry(channel="import", title="Director", country="DE", **PERSON)
    lead = Lead.objects.get(person__email=PERSON["email"])
    ScoringRule.objects.filter(event_type="webinar").update(points=8)
    admin = ApiClient(token_for(users.admin, ["inquiries:write"]))
    event = {"id": "w1", "type": "webinar", "occurred_at": "2026-03-02T08:00:00Z"}
    answer = admin.post("/events", {"events": [{**event, "email": PERSON["email"]}]})
    assert answer.json()["unmatched"] == []
    score = LeadScore.objects.get(lead=lead)
    assert (score.fit_grade, score.engagement, score.temperature) == ("B", 8, "cool")
    return lead


def visit(client: Client, n: int) -> int:
    body = {"vid": VISITOR, "url": f"https://northwind.example/pricing/{n}", "title": f"P{n}"}
    return client.post("/t/v", json.dumps(body), content_type="text/plain").status_code


def test_five_form_posts_and_sixty_visits_from_one_address_keep_the_lead_cool(
    cool_lead, post_form, frozen_now
):
    browser = Client(REMOTE_ADDR="198.51.100.66")
    assert visit(browser, 0) == 204
    for _ in range(5):
        sent = post_form(
            "contact", {**PERSON, "refinery_visitor": VISITOR}, client=browser, wait=30
        )
        assert sent.response.status_code == 302
    statuses = [visit(browser, n) for n in range(1, 61)]
    hits_flush()

    assert statuses == [204] * 60
    assert IntakeRecord.objects.filter(channel="form").count() == 5
    assert Visit.objects.filter(person=cool_lead.person).count() == 61
    assert Touch.objects.filter(lead=cool_lead, channel=Touch.Channel.VISIT).count() == 61
    score = LeadScore.objects.get(lead=cool_lead)
    assert score.engagement == 8 + 20  # the anonymous daily cap, not 110
    assert score.temperature == "cool"
    cool_lead.refresh_from_db()
    assert cool_lead.temperature == "cool" and cool_lead.stage == "inquiry"
    assert RateCounter.objects.get(key="visit:198.51.100.66").count == 61


def test_visits_over_the_hourly_limit_of_an_address_are_refused(db, settings):
    settings.REFINERY_TRACKING_RATE_LIMIT_PER_HOUR = 5
    browser = Client(REMOTE_ADDR="2001:db8::1")
    other = Client(REMOTE_ADDR="2001:db8::2")  # the same /64: the same subscriber
    elsewhere = Client(REMOTE_ADDR="198.51.100.7")
    statuses = [visit(browser, n) for n in range(3)] + [visit(other, n) for n in range(3)]
    assert statuses == [204] * 5 + [429]
    assert visit(elsewhere, 1) == 204
    assert Visit.objects.count() == 6


def test_the_open_pixel_and_the_click_still_answer_over_the_limit(db, settings, make_lead):
    from leadrefinery.tracking import links
    from leadrefinery.tracking.models import Hit

    settings.REFINERY_TRACKING_RATE_LIMIT_PER_HOUR = 1
    lead = make_lead()
    client = Client()
    pixel = links.pixel_url(person_id=lead.person_id, message_ref="m1")
    click = links.click_url(person_id=lead.person_id, message_ref="m1", url="https://x.example/")
    pixel_path, click_path = (re.sub(r"^https?://[^/]+", "", u) for u in (pixel, click))
    answers = [client.get(pixel_path) for _ in range(2)] + [
        client.get(click_path) for _ in range(2)
    ]
    assert [a.status_code for a in answers] == [200, 200, 302, 302]
    assert answers[1]["Content-Type"] == "image/gif"
    assert answers[3]["Location"] == "https://x.example/"
    assert Hit.objects.filter(kind="open").count() == 1
    assert Hit.objects.filter(kind="click").count() == 1
