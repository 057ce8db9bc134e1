"""The same Idempotency-Key sent 50 times at once, over real HTTP, creates exactly one lead."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from leadrefinery.leads.models import IntakeRecord, Lead, LeadEvent, Person, Touch

CALLS = 50


def post(url: str, secret: str, key: str, body: dict, start: threading.Barrier):
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={
            "Authorization": f"Bearer {secret}",
            "Idempotency-Key": key,
            "Content-Type": "application/json",
        },
    )
    start.wait()  # release all threads together so the requests really overlap
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_replays_create_one_lead(live_server, users, token_for):
    secret = token_for(users.admin, ["inquiries:write"])
    body = {"email": "rush@example.com", "first_name": "Rush", "company": "Hurry Ltd"}
    url = f"{live_server.url}/api/v1/inquiries"
    start = threading.Barrier(CALLS)

    with ThreadPoolExecutor(max_workers=CALLS) as pool:
        futures = [pool.submit(post, url, secret, "order-4711", body, start) for _ in range(CALLS)]
        replies = [future.result() for future in futures]

    statuses = {status for status, _ in replies}
    bodies = {json.dumps(reply, sort_keys=True) for _, reply in replies}
    assert statuses == {201}, replies[:3]
    assert len(bodies) == 1, bodies
    reply = replies[0][1]
    assert IntakeRecord.objects.count() == 1
    assert Lead.objects.count() == 1
    assert Person.objects.count() == 1
    assert Touch.objects.count() == 1
    assert LeadEvent.objects.filter(kind="created").count() == 1
    assert reply["lead_id"] == Lead.objects.get().pk
    assert reply["inquiry_id"] == IntakeRecord.objects.get().pk


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_distinct_keys_for_one_person_make_one_open_lead(
    live_server, users, token_for
):
    # Different keys are different submissions, but the same person still has one open lead.
    secret = token_for(users.admin, ["inquiries:write"])
    body = {"email": "same@example.com", "first_name": "Sam"}
    url = f"{live_server.url}/api/v1/inquiries"
    start = threading.Barrier(CALLS)

    with ThreadPoolExecutor(max_workers=CALLS) as pool:
        futures = [pool.submit(post, url, secret, f"k-{i}", body, start) for i in range(CALLS)]
        replies = [future.result() for future in futures]

    assert {status for status, _ in replies} == {201}
    assert sorted(reply["outcome"] for _, reply in replies).count("new_lead") == 1
    assert len({reply["lead_id"] for _, reply in replies}) == 1
    assert IntakeRecord.objects.count() == CALLS
    assert Lead.objects.count() == 1
    assert Person.objects.count() == 1
    assert Touch.objects.count() == CALLS
