"""A NUL or another control character anywhere in what a public entry point takes never
answers 5xx on either database (PostgreSQL cannot store a NUL), and an inquiry carrying one
is stored with the characters removed and their count recorded: the inquiry API, the public
form, page visits, the events API, the unsubscribe link, the open pixel and click, the bounce
webhook, the availability API and the login page."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from django.test import Client

from leadrefinery.intake import public_forms as pf
from leadrefinery.intake.schemas import InquiryIn
from leadrefinery.leads.models import IntakeRecord, Lead, WebForm
from leadrefinery.tracking.models import Hit, TrackedEvent
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db

BAD = ("\x00", "\x01", "\x07", "\x1b", "\x7f")
INQUIRY = {
    "email": "nul.tester@example.com",
    "phone": "+1 415 555 2671",
    "first_name": "Nul",
    "last_name": "Tester",
    "title": "Buyer",
    "company": "Acme",
    "website": "https://acme.example",
    "country": "US",
    "region": "CA",
    "city": "San Francisco",
    "postcode": "94103",
    "street": "1 Main St",
    "language": "en",
    "product_interest": "Presses",
    "message": "Hello",
    "need": "presses",
    "budget": "10k",
    "authority": "yes",
    "timeline": "Q3",
    "utm_source": "news",
    "utm_medium": "email",
    "utm_campaign": "spring",
    "utm_term": "press",
    "utm_content": "a",
    "name": "Nul Tester",
    "source": "API",
    "custom": {"fleet_size": "250"},
}


def _spoil(value: object, bad: str) -> object:
    if isinstance(value, str):
        return value[:2] + bad + value[2:]
    if isinstance(value, dict):
        return {_spoil(k, bad): _spoil(v, bad) for k, v in value.items()}
    return value


def test_every_field_the_inquiry_schema_takes_is_in_this_test():
    assert set(INQUIRY) | {"consent", "received_at", "campaign"} == set(InquiryIn.model_fields)


@pytest.mark.parametrize("bad", BAD)
def test_the_inquiry_api_stores_an_inquiry_with_control_characters_removed(bad, users, token_for):
    api = ApiClient(token_for(users.admin, ["inquiries:write"]))
    for n, name in enumerate(INQUIRY):
        body = {**INQUIRY, "email": f"nul{n}@example.com"}
        body[name] = _spoil(body[name], bad)
        answer = api.post("/inquiries", body)
        assert answer.status_code == 201, (name, answer.content)
        record = IntakeRecord.objects.get(pk=answer.json()["inquiry_id"])
        assert record.payload["removed_control_characters"] >= 1, name
        assert bad not in json.dumps(record.payload), name
    assert Lead.objects.filter(person__company_name="Acme").exists()


@pytest.mark.parametrize("bad", BAD)
def test_the_public_form_takes_control_characters_in_every_field(bad, frozen_now):
    from datetime import timedelta

    form = WebForm.objects.get(slug="contact")
    names = [f["name"] for f in form.fields] + ["utm_source", "utm_campaign"]
    client = Client()
    for n, name in enumerate(names):
        token = pf.issue_token(form)
        frozen_now.advance(timedelta(seconds=10))
        body = {
            "first_name": "Nul",
            "last_name": "Tester",
            "email": f"form{n}@example.com",
            "company": "Acme",
            "message": "Hello",
            "utm_source": "news",
            "utm_campaign": "spring",
            pf.TOKEN_FIELD: token,
            pf.HONEYPOT_FIELD: "",
        }
        body[name] = _spoil(body.get(name, "yes"), bad)
        answer = client.post("/f/contact/", body)
        assert answer.status_code == 302, (name, answer.content)
    records = IntakeRecord.objects.filter(channel="form")
    assert records.count() == len(names)
    # (A checkbox keeps only "yes": nothing of what was sent is stored.)
    checkbox = {f["name"] for f in form.fields if f.get("type") == "checkbox"}
    for name, record in zip(names, records.order_by("pk"), strict=True):
        assert name in checkbox or record.payload["removed_control_characters"] >= 1, name
    # Screening fields and the query string too: never a 5xx.
    for spoiled in (
        {pf.TOKEN_FIELD: pf.issue_token(form) + bad},
        {pf.HONEYPOT_FIELD: bad},
        {"refinery_visitor": "abcdefgh" + bad},
    ):
        assert client.post("/f/contact/", {"email": "x@example.com", **spoiled}).status_code < 500
    assert client.get(f"/f/contact/?utm_source=a{quote(bad)}b").status_code == 200
    assert client.get(f"/f/con{quote(bad)}tact/").status_code == 404


@pytest.mark.parametrize("bad", BAD)
def test_page_visits_pixels_and_clicks_take_control_characters(bad, make_lead):
    from leadrefinery.tracking import links

    client = Client()
    visit = {"vid": "visitor-0001", "url": "https://x.example/a", "title": "T", "ref": "R"}
    for name in ("vid", "url", "title", "ref"):
        body = json.dumps({**visit, name: _spoil(visit[name], bad)})
        assert client.post("/t/v", body, content_type="text/plain").status_code == 204, name
    hits = Hit.objects.filter(kind="visit")
    assert hits.count() == 4
    assert {h.visitor_key for h in hits} == {"visitor-0001"}
    assert all(h.removed_control_characters == 1 for h in hits)
    lead = make_lead()
    pixel = links.pixel_url(person_id=lead.person_id, message_ref="m" + bad)
    click = links.click_url(
        person_id=lead.person_id, message_ref="m" + bad, url="https://x.example/"
    )
    for url in (pixel, click):
        path = "/" + url.split("/", 3)[3]
        assert client.get(path).status_code < 400
        assert client.get(path + quote(bad)).status_code < 500
    assert Hit.objects.filter(kind__in=("open", "click"), message_ref="m").count() == 2


@pytest.mark.parametrize("bad", BAD)
def test_the_events_api_takes_control_characters_in_every_field(bad, users, token_for, make_lead):
    make_lead(email="pat@example.com")
    api = ApiClient(token_for(users.admin, ["inquiries:write"]))
    event = {
        "id": "ev-1",
        "type": "webinar",
        "occurred_at": "2026-03-02T09:00:00Z",
        "email": "pat@example.com",
        "properties": {"name": "Spring", "url": "https://x.example/"},
    }
    for n, name in enumerate(("id", "type", "email", "properties")):
        body = {
            **event,
            "id": f"ev-{n}",
            name: _spoil(event[name] if name != "id" else f"ev-{n}", bad),
        }
        answer = api.post("/events", {"events": [body]})
        assert answer.status_code == 200, (name, answer.content)
        assert answer.json()["unmatched"] == [], name
    stored = TrackedEvent.objects.all()
    assert stored.count() == 4
    assert all(e.properties["removed_control_characters"] >= 1 for e in stored)
    assert {e.type for e in stored} == {"webinar"}


@pytest.mark.parametrize("bad", BAD)
def test_unsubscribe_bounces_availability_and_login_never_answer_5xx(
    bad, users, token_for, settings
):
    client = Client()
    for method in (client.get, client.post):
        assert method(f"/u/abc{quote(bad)}def").status_code == 404
    settings.REFINERY_NURTURE_WEBHOOK_SECRET = "s3cret"
    bounce = {"email": "a" + bad + "@example.com", "event": "bounced", "description": bad}
    answer = client.post(
        "/nurture/bounces",
        json.dumps(bounce),
        content_type="application/json",
        headers={"Authorization": "Bearer s3cret"},
    )
    assert answer.status_code < 500
    api = ApiClient(token_for(users.admin, ["leads:read", "leads:write"]))
    answer = api.get(f"/users/{users.rep.username}{quote(bad)}/availability")
    assert answer.status_code in (404, 422), answer.content
    for body in (
        {"time_zone": "Europe/" + bad + "Berlin"},
        {"working_hours": {"0": [["09:00" + bad, "17:00"]]}},
        {"working_hours": {"0" + bad: [["09:00", "17:00"]]}},
        {"away_until": "2026-12-24T17:00:00" + bad + "Z"},
    ):
        answer = api.client.put(
            f"/api/v1/users/{users.rep.username}/availability",
            json.dumps(body),
            content_type="application/json",
            headers=api._headers(None),
        )
        assert answer.status_code in (200, 422), (body, answer.content)
    login = client.post("/login/", {"username": "ron" + bad, "password": "x" + bad})
    assert login.status_code < 500
