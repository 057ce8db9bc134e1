"""Webhooks go to public addresses only: a URL whose host resolves to a loopback, private or
link-local address (the cloud metadata service) is refused with a field error, and a delivery
is not sent when the host resolves to one by then. REFINERY_WEBHOOK_ALLOW_PRIVATE allows them
(the other webhook tests use it for their receiver on 127.0.0.1)."""

from __future__ import annotations

import pytest

from leadrefinery.notifications.dispatch import outbox_dispatch
from leadrefinery.notifications.models import WebhookDelivery, WebhookEndpoint
from leadrefinery.notifications.services import lead_notify
from leadrefinery.notifications.webhooks import webhook_create
from tests.notifications.test_webhooks_api import Api

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_api(users, token_for, settings):
    settings.REFINERY_WEBHOOK_ALLOW_PRIVATE = False
    return Api(token_for(users.admin))


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hooks",
        "http://localhost/hooks",
        "http://10.1.2.3/hooks",
        "http://192.168.0.10/hooks",
        "http://172.16.5.4/hooks",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hooks",
        "http://[::ffff:127.0.0.1]/hooks",
        "http://[fe80::1]/hooks",
        "http://0.0.0.0/hooks",
    ],
)
def test_a_private_address_is_refused_with_a_field_error(admin_api, url):
    answer = admin_api.call("post", "/webhooks", {"url": url})
    assert answer.status_code == 422, answer.content
    (error,) = answer.json()["detail"]
    assert error["loc"][-1] == "url"
    assert "public addresses only" in error["msg"] or "could not be resolved" in error["msg"]
    assert not WebhookEndpoint.objects.exists()


def test_an_unresolvable_host_is_refused_and_a_public_address_is_taken(admin_api):
    answer = admin_api.call("post", "/webhooks", {"url": "https://no-such-host.invalid/h"})
    assert answer.status_code == 422
    assert "could not be resolved" in answer.json()["detail"][0]["msg"]
    public = admin_api.call("post", "/webhooks", {"url": "https://93.184.215.14/hooks"})
    assert public.status_code == 201, public.content


def test_a_delivery_to_an_address_that_became_private_is_not_sent(
    receiver, make_lead, users, settings
):
    webhook_create(url=receiver.url, events=["lead.assigned"], created_by=users.admin)
    settings.REFINERY_WEBHOOK_ALLOW_PRIVATE = False  # e.g. the name now points inside
    lead_notify(event="lead.assigned", lead=make_lead(), fact="assign-1", recipients=[])
    outbox_dispatch()
    assert receiver.requests == []
    deliveries = list(WebhookDelivery.objects.all())
    assert deliveries
    for delivery in deliveries:
        assert delivery.status_code is None
        assert "not sent" in delivery.error and "loopback" in delivery.error
