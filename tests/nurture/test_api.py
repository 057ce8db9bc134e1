"""The nurture API: messages, programs and suppressions, as a marketer's client uses them."""

from __future__ import annotations

import pytest
from django.test import Client

from leadrefinery.nurture.models import Suppression
from leadrefinery.nurture.sweep import nurture_sweep

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(users, token_for):
    def call(method, path, body=None, user=None, scopes=None):
        token = token_for(user or users.marketer, scopes)
        client = Client()
        kwargs = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
        if body is not None:
            kwargs["data"] = body
            kwargs["content_type"] = "application/json"
        return getattr(client, method)(f"/api/v1{path}", **kwargs)

    return call


def test_a_marketer_builds_a_program_and_reads_its_results(
    api, smtp_server, nurture_lead, frozen_now, nurture_settings
):
    created = api(
        "post",
        "/messages",
        {"name": "Speed", "subject": "Answer fast, {{ first_name }}", "body_markdown": "**78%**"},
    )
    assert created.status_code == 201, created.content
    message_id = created.json()["id"]
    preview = api("get", f"/messages/{message_id}/preview").json()
    assert preview["subject"] == "Answer fast, Dana"
    assert "<strong>78%</strong>" in preview["html"] and "12 Mill Road" in preview["html"]
    assert "/u/" in preview["text"]

    program = api(
        "post",
        "/programs",
        {
            "name": "Warm tips",
            "steps": [{"message_id": message_id}],
            "entry_rules": ["new_inquiry"],
            "interval_days": 14,
            "window_start": "08:00",
            "window_end": "18:00",
        },
    )
    assert program.status_code == 201, program.content
    body = program.json()
    assert body["population"] == 0 and body["steps"][0]["message"] == "Speed"

    nurture_lead(email="api@example.com", country="GB", consent=True)
    nurture_sweep()
    read = api("get", f"/programs/{body['id']}").json()
    # A one-message track is complete once sent: enrolled, no longer in the population.
    assert (read["enrolled"], read["population"]) == (1, 0)
    assert read["steps"][0]["sent"] == 1
    assert [p["name"] for p in api("get", "/programs").json()] == ["Warm tips"]

    paused = api("put", f"/programs/{body['id']}", {"active": False})
    assert paused.status_code == 200 and paused.json()["active"] is False


def test_field_errors_answer_422(api):
    bad_merge = api(
        "post", "/messages", {"name": "x", "subject": "Hi {{ nick }}", "body_markdown": "b"}
    )
    assert bad_merge.status_code == 422
    assert "unknown merge field 'nick'" in bad_merge.json()["detail"][0]["msg"]
    bad_program = api(
        "post",
        "/programs",
        {
            "name": "Bad",
            "steps": [{"message_id": 999}],
            "entry_rules": ["sometimes"],
        },
    )
    assert bad_program.status_code == 422
    message = api("post", "/messages", {"name": "m", "subject": "s", "body_markdown": "b"}).json()
    window = api(
        "post",
        "/programs",
        {
            "name": "Backwards",
            "steps": [{"message_id": message["id"]}],
            "entry_rules": ["warm"],
            "window_start": "17:00",
            "window_end": "09:00",
            "default_time_zone": "Mars/Base",
        },
    )
    assert window.status_code == 422
    messages = {e["msg"] for e in window.json()["detail"]}
    assert "the send window must end after it starts" in messages
    assert "unknown time zone 'Mars/Base'" in messages
    unknown = api(
        "post", "/programs", {"name": "U", "steps": [{"message_id": 999}], "entry_rules": ["warm"]}
    )
    assert unknown.status_code == 422
    assert "unknown message" in unknown.json()["detail"][0]["msg"]


def test_suppressions_are_idempotent_and_filterable(api):
    first = api("post", "/suppressions", {"address": "Stop@Example.com", "reason": "complaint"})
    assert first.status_code == 201 and first.json()["address"] == "stop@example.com"
    again = api("post", "/suppressions", {"address": "stop@example.com"})
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert api("post", "/suppressions", {"address": "not-an-address"}).status_code == 422
    listed = api("get", "/suppressions?address=STOP@example.com").json()
    assert [s["reason"] for s in listed] == ["complaint"]
    assert Suppression.objects.count() == 1


def test_who_may_use_it(api, users):
    assert api("get", "/programs", user=users.rep).status_code == 403
    assert api("get", "/programs", user=users.manager).status_code == 200
    body = {"name": "m", "subject": "s", "body_markdown": "b"}
    assert api("post", "/messages", body, user=users.manager).status_code == 403
    assert api("post", "/messages", body, scopes=["leads:read"]).status_code == 403
    assert Client().get("/api/v1/programs").status_code == 401
    assert api("get", "/messages/123456").status_code == 404
