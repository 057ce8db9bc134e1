"""The "next lead" pull through the API (POST /api/v1/queues/{id}/next) and the UI button."""

from __future__ import annotations

from datetime import timedelta

import pytest

from leadrefinery.common.clock import now
from leadrefinery.leads.models import Lead
from tests.api.conftest import ApiClient
from tests.routing.pull_helpers import qualifying_center, queued_leads
from tests.ui import conftest as ui_conftest

pytestmark = pytest.mark.django_db


client_for = ui_conftest.client_for  # the UI tests' logged-in client fixture


def test_api_pull_returns_the_next_lead_now_owned_by_the_caller(users, token_for):
    queue = qualifying_center(users.rep)
    old, hot = queued_leads(
        queue, [{"received_ago": timedelta(days=3)}, {"temperature": "hot"}], at=now()
    )
    api = ApiClient(token_for(users.rep, ["leads:write"]))

    first = api.post(f"/queues/{queue.pk}/next", {})
    second = api.post(f"/queues/{queue.pk}/next", {})
    empty = api.post(f"/queues/{queue.pk}/next", {})

    assert first.status_code == 200, first.content
    body = first.json()
    assert body["lead"]["id"] == hot.pk
    assert body["lead"]["owner"]["username"] == "ron"
    assert body["lead"]["stage"] == "qualifying"
    assert body["why"] == "hot lead, newest first"
    assert second.status_code == 200 and second.json()["lead"]["id"] == old.pk
    assert empty.status_code == 204 and empty.content == b""
    assert set(Lead.objects.filter(owner_user=users.rep).values_list("pk", flat=True)) == {
        old.pk,
        hot.pk,
    }


def test_api_refuses_a_non_member_and_leaves_the_lead_waiting(users, token_for):
    queue = qualifying_center(users.rep)
    (lead,) = queued_leads(queue, [{}], at=now())
    api = ApiClient(token_for(users.other_rep, ["leads:write"]))

    reply = api.post(f"/queues/{queue.pk}/next", {})

    assert reply.status_code == 403
    assert reply.json() == {
        "detail": "Only members of the Qualifying center queue can pull leads from it."
    }
    lead.refresh_from_db()
    assert lead.owner_queue == queue


def test_api_unknown_queue_missing_scope_and_no_token(users, token_for):
    queue = qualifying_center(users.rep)
    reader = ApiClient(token_for(users.rep, ["leads:read"]))
    writer = ApiClient(token_for(users.rep, ["leads:write"]))

    unknown = writer.post("/queues/999999/next", {})
    assert unknown.status_code == 404
    assert unknown.json() == {"detail": "There is no queue with id 999999."}
    assert reader.post(f"/queues/{queue.pk}/next", {}).status_code == 403
    assert ApiClient(None).post(f"/queues/{queue.pk}/next", {}).status_code == 401


def test_the_next_lead_button_opens_the_pulled_lead(users, client_for):
    queue = qualifying_center(users.rep)
    (lead,) = queued_leads(queue, [{"source": "Website"}], at=now())
    client = client_for(users.rep)

    page = client.get("/queues/").content.decode()
    assert "Qualifying center" in page and "1</strong> lead waiting" in page
    assert 'href="/queues/"' in client.get("/leads/").content.decode()  # in the nav

    pulled = client.post(f"/queues/{queue.pk}/next/", follow=True)
    assert pulled.redirect_chain[-1][0] == f"/leads/{lead.pk}/"
    assert "is yours now (newest web inquiry)" in pulled.content.decode()

    again = client.post(f"/queues/{queue.pk}/next/", follow=True)
    assert again.redirect_chain[-1][0] == "/queues/"
    assert "Qualifying center is empty: no open lead is waiting." in again.content.decode()


def test_a_non_member_has_no_queue_link_and_cannot_pull(users, client_for):
    queue = qualifying_center(users.rep)
    (lead,) = queued_leads(queue, [{}], at=now())
    client = client_for(users.other_rep)

    assert 'href="/queues/"' not in client.get("/leads/").content.decode()
    refused = client.post(f"/queues/{queue.pk}/next/", follow=True)
    assert "Only members of the Qualifying center queue" in refused.content.decode()
    lead.refresh_from_db()
    assert lead.owner_queue == queue
