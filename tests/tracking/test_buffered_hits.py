"""By default the endpoints only buffer hits and the worker's job writes them; a form fill
still merges its own visitor's buffered visits at once."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from leadrefinery.leads.models import Lead, Touch
from leadrefinery.tracking import links
from leadrefinery.tracking.models import Hit, Visit
from leadrefinery.tracking.services import hits_flush

pytestmark = pytest.mark.django_db
VID = "0f9a3c1e-1111-4b5d-9c2a-7e2d4f6a8b90"


@pytest.fixture(autouse=True)
def worker_flushes(settings):
    settings.REFINERY_TRACKING_FLUSH_SECONDS = -1  # the production default


def visit(client: Client, url: str, **headers) -> int:
    body = json.dumps({"vid": VID, "url": url, "title": "Page", "ref": ""})
    return client.post("/t/v", body, content_type="text/plain", headers=headers).status_code


def test_buffered_visits_merge_at_the_form_fill_and_the_job_writes_the_rest(submit_inquiry):
    client = Client()
    for n in range(3):
        assert visit(client, f"https://shop.example.com/p/{n}") == 204
    assert Hit.objects.filter(processed_at__isnull=True).count() == 3
    assert Visit.objects.count() == 0

    record = submit_inquiry(channel="form", email="ida@example.com", visitor_id=VID)

    lead = Lead.objects.get(pk=record.lead_id)
    assert Touch.objects.filter(lead=lead, channel=Touch.Channel.VISIT).count() == 3
    pixel = links.pixel_url(person_id=lead.person_id, message_ref="m")
    client.get(re.sub(r"^https?://[^/]+", "", pixel))
    assert not Touch.objects.filter(lead=lead, channel=Touch.Channel.EMAIL_OPEN).exists()
    assert hits_flush() == 1  # what the tracking-flush job does every minute
    assert Touch.objects.filter(lead=lead, channel=Touch.Channel.EMAIL_OPEN).count() == 1


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        json.dumps({"vid": "x", "url": "https://a.example"}).encode(),
        json.dumps({"vid": VID, "url": "javascript:alert(1)"}).encode(),
    ],
)
def test_bad_visit_bodies_are_refused_and_record_nothing(body):
    response = Client().post("/t/v", body, content_type="text/plain")
    assert response.status_code == 400
    assert Hit.objects.count() == 0


def test_do_not_track_and_gpc_headers_record_nothing():
    client = Client()
    assert visit(client, "https://shop.example.com/", DNT="1") == 204
    assert visit(client, "https://shop.example.com/", **{"Sec-GPC": "1"}) == 204
    assert Hit.objects.count() == 0


def test_the_snippet_is_served_as_javascript():
    response = Client().get("/t/snippet.js")
    assert response["Content-Type"].startswith("application/javascript")
    text = response.content.decode()
    assert "doNotTrack" in text and "sendBeacon" in text and "/t/v" in text
