"""/api/v1/webhooks: administrators only; validated; the secret shown once."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from leadrefinery.notifications.models import WebhookEndpoint


class Api:
    def __init__(self, secret: str | None) -> None:
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {secret}"} if secret else {}

    def call(self, method: str, path: str, body=None):
        return getattr(self.client, method)(
            f"/api/v1{path}",
            data=json.dumps(body) if body is not None else None,
            content_type="application/json",
            headers=self.headers,
        )


@pytest.fixture
def admin_api(users, token_for):
    return Api(token_for(users.admin))


def test_only_admins_with_the_admin_scope_may_manage_webhooks(users, token_for):
    assert Api(None).call("get", "/webhooks").status_code == 401
    assert Api("lr_not-a-token").call("get", "/webhooks").status_code == 401
    for user in (users.rep, users.manager, users.marketer):
        answer = Api(token_for(user)).call("get", "/webhooks")
        assert answer.status_code == 403, user.username
        assert "administrators" in answer.json()["detail"]
    no_scope = Api(token_for(users.admin, ["leads:read"]))
    assert no_scope.call("get", "/webhooks").status_code == 403
    rep = Api(token_for(users.rep))
    assert rep.call("post", "/webhooks", {"url": "https://x.example/h"}).status_code == 403
    assert not WebhookEndpoint.objects.exists()


def test_create_returns_the_secret_once(admin_api, users):
    answer = admin_api.call(
        "post",
        "/webhooks",
        {"url": "https://crm.example.com/hooks", "events": ["lead.sla_breached", "lead.assigned"]},
    )
    assert answer.status_code == 201, answer.content
    created = answer.json()
    assert created["secret"].startswith("whsec_")
    assert created["events"] == ["lead.assigned", "lead.sla_breached"]
    assert created["created_by"] == "admin"
    assert created["active"] is True
    assert WebhookEndpoint.objects.get(pk=created["id"]).secret == created["secret"]

    listed = admin_api.call("get", "/webhooks").json()
    assert [e["url"] for e in listed] == ["https://crm.example.com/hooks"]
    one = admin_api.call("get", f"/webhooks/{created['id']}")
    for body in (listed[0], one.json()):
        assert "secret" not in body
        assert created["secret"] not in json.dumps(body)


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"url": "ftp://files.example.com/x"}, "url", "http"),
        ({"url": "not a url"}, "url", "http"),
        ({"url": ""}, "url", "URL"),
        ({"url": "https://x.example/h", "events": ["lead.won"]}, "events", "lead.won"),
        ({"url": "https://x.example/h", "secret": "mine"}, "secret", ""),
    ],
)
def test_bad_url_or_event_is_a_422_naming_the_field(admin_api, body, field, words):
    answer = admin_api.call("post", "/webhooks", body)
    assert answer.status_code == 422, answer.content
    (error,) = answer.json()["detail"]
    assert error["loc"][-1] == field
    assert words in error["msg"]
    assert not WebhookEndpoint.objects.exists()


def test_update_and_delete_deactivates(admin_api):
    created = admin_api.call("post", "/webhooks", {"url": "https://crm.example.com/h"}).json()
    path = f"/webhooks/{created['id']}"

    changed = admin_api.call("put", path, {"events": ["lead.reassigned"]})
    assert changed.status_code == 200
    assert changed.json()["events"] == ["lead.reassigned"]
    assert changed.json()["active"] is True

    bad = admin_api.call("put", path, {"events": ["nope"]})
    assert bad.status_code == 422
    assert admin_api.call("put", path, {"url": "https://other.example/h"}).status_code == 422

    gone = admin_api.call("delete", path)
    assert gone.status_code == 200
    assert gone.json()["active"] is False
    endpoint = WebhookEndpoint.objects.get(pk=created["id"])
    assert endpoint.active is False
    assert endpoint.events == ["lead.reassigned"]

    again = admin_api.call("put", path, {"active": True})
    assert again.json()["active"] is True
    assert admin_api.call("get", "/webhooks/999999").status_code == 404


def test_delivery_log_through_the_api(admin_api, receiver, make_lead, frozen_now):
    from leadrefinery.notifications.dispatch import outbox_dispatch
    from leadrefinery.notifications.services import lead_notify

    lead = make_lead()
    receiver.statuses = [500, 200]
    created = admin_api.call("post", "/webhooks", {"url": receiver.url}).json()
    lead_notify(event="lead.assigned", lead=lead, fact="a", recipients=[])
    outbox_dispatch()

    (first,) = admin_api.call("get", f"/webhooks/{created['id']}/deliveries").json()
    assert (first["status_code"], first["ok"], first["message_status"]) == (500, False, "failed")
    assert first["next_attempt_at"] is not None
    assert first["event"] == "lead.assigned"
