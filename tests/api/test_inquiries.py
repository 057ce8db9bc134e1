"""POST /api/v1/inquiries: a lead from an integration, exactly once, or field errors."""

from __future__ import annotations

import pytest

from leadrefinery.intake.services import intake_retry_sweep
from leadrefinery.leads.models import (
    Campaign,
    Consent,
    IntakeRecord,
    Lead,
    LeadEvent,
    Queue,
    Source,
)
from leadrefinery.routing.models import RoutingRule

pytestmark = pytest.mark.django_db

INQUIRY = {
    "email": "Jane.Doe@Example.com",
    "first_name": "Jane",
    "last_name": "Doe",
    "company": "Acme Tools",
    "phone": "+1 415 555 2671",
    "product_interest": "Presses",
    "message": "Please call me about a quote.",
    "utm_source": "newsletter",
    "consent": True,
}


@pytest.fixture
def client(users, api_as):
    return api_as(users.admin, ["inquiries:write", "leads:read"])


def errors_by_field(response) -> dict[str, str]:
    body = response.json()
    return {item["loc"][-1]: item["msg"] for item in body["detail"]}


def test_first_call_creates_a_lead_and_answers_201(client, users):
    response = client.post("/inquiries", INQUIRY, key="k-1")

    assert response.status_code == 201, response.content
    body = response.json()
    lead = Lead.objects.get(pk=body["lead_id"])
    assert body["outcome"] == "new_lead"
    assert body["person_id"] == lead.person_id
    assert lead.person.email == "jane.doe@example.com"
    assert lead.person.phone == "+14155552671"
    assert lead.product_interest == "Presses"
    assert lead.utm_source == "newsletter"
    assert lead.source.name == "API"
    record = IntakeRecord.objects.get(pk=body["inquiry_id"])
    assert record.channel == "api"
    assert record.submitted_by == users.admin
    assert record.idempotency_key == "k-1"
    assert Consent.objects.filter(person=lead.person, basis="opt_in").count() == 1
    created = LeadEvent.objects.get(lead=lead, kind="created")
    assert created.actor_label == "admin"
    assert "Idempotent-Replayed" not in response.headers


def test_replay_with_same_key_and_body_returns_the_same_answer(client):
    first = client.post("/inquiries", INQUIRY, key="k-2")
    again = client.post("/inquiries", INQUIRY, key="k-2")

    assert again.status_code == first.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert Lead.objects.count() == 1
    assert IntakeRecord.objects.count() == 1


def test_same_key_with_another_body_is_409(client):
    client.post("/inquiries", INQUIRY, key="k-3")
    response = client.post("/inquiries", {**INQUIRY, "message": "something else"}, key="k-3")

    assert response.status_code == 409
    assert "different body" in response.json()["detail"]
    assert Lead.objects.count() == 1


def test_keys_are_per_user(client, users, api_as):
    other = api_as(users.marketer, ["inquiries:write"])
    client.post("/inquiries", INQUIRY, key="shared")
    response = other.post("/inquiries", {**INQUIRY, "email": "x@example.com"}, key="shared")

    assert response.status_code == 201
    assert IntakeRecord.objects.count() == 2


def test_without_key_every_call_is_a_new_submission(client):
    first = client.post("/inquiries", INQUIRY)
    second = client.post("/inquiries", INQUIRY)

    assert first.status_code == second.status_code == 201
    assert second.json()["outcome"] == "attached_to_open_lead"
    assert second.json()["lead_id"] == first.json()["lead_id"]
    assert IntakeRecord.objects.count() == 2


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"email": "not-an-email"}, "email", "not a valid email address"),
        ({"phone": "12"}, "phone", "phone number"),
        ({"first_name": "Nobody"}, "email", "an email address or a phone number is required"),
        ({"email": "a@example.com", "emial": "typo"}, "emial", "did you mean 'email'"),
        ({"email": 12345}, "email", "valid string"),
        ({"email": "a@example.com", "consent": "perhaps"}, "consent", "boolean"),
        ({"email": "a@example.com", "company": "x" * 201}, "company", "at most 200"),
        ({"email": "a@example.com", "received_at": "yesterday"}, "received_at", "ISO 8601"),
        ({"email": "a@example.com", "received_at": 1767225600}, "received_at", "ISO 8601"),
        ({"email": "a@example.com", "received_at": "0001-01-01T00:00+01:00"}, "received_at", "UTC"),
        ({"email": "a@example.com", "source": "Nowhere"}, "source", "existing sources: API"),
    ],
)
def test_invalid_fields_answer_422_with_a_message_per_field(client, body, field, words):
    response = client.post("/inquiries", body)

    assert response.status_code == 422, response.content
    messages = errors_by_field(response)
    assert words in messages[field], messages
    item = next(i for i in response.json()["detail"] if i["loc"][-1] == field)
    assert item["loc"] == ["body", "payload", field]
    assert Lead.objects.count() == 0


def test_rule_rejections_are_stored_and_replayed_as_the_same_422(client):
    first = client.post("/inquiries", {"email": "bad@", "first_name": "X"}, key="k-bad")
    again = client.post("/inquiries", {"email": "bad@", "first_name": "X"}, key="k-bad")

    assert first.status_code == again.status_code == 422
    assert first.json() == again.json()
    record = IntakeRecord.objects.get(pk=first.json()["inquiry_id"])
    assert record.status == "rejected"
    assert Lead.objects.count() == 0


def test_several_errors_are_reported_together(client):
    response = client.post(
        "/inquiries", {"email": "nope", "phone": "x", "title": "t" * 201, "colour": "red"}
    )

    assert response.status_code == 422
    # Schema errors come first (lengths, unknown fields); the intake rules then see valid shapes.
    assert set(errors_by_field(response)) == {"title", "colour"}
    fixed = client.post("/inquiries", {"email": "nope", "phone": "x"})
    assert set(errors_by_field(fixed)) == {"email", "phone"}


def test_source_and_campaign_by_name(client):
    trade_show = Source.objects.create(name="Trade show 2026", channel="trade_show")
    Campaign.objects.create(source=trade_show, name="Hall B")

    response = client.post(
        "/inquiries", {**INQUIRY, "source": "Trade show 2026", "campaign": "Hall B"}
    )
    assert response.status_code == 201
    lead = Lead.objects.get(pk=response.json()["lead_id"])
    assert (lead.source.name, lead.campaign.name) == ("Trade show 2026", "Hall B")

    unknown = client.post("/inquiries", {**INQUIRY, "source": "Trade show 2026", "campaign": "X"})
    assert unknown.status_code == 422
    assert "its campaigns: Hall B" in errors_by_field(unknown)["campaign"]


def test_received_at_is_kept(client):
    response = client.post("/inquiries", {**INQUIRY, "received_at": "2026-01-15T08:30:00+01:00"})

    lead = Lead.objects.get(pk=response.json()["lead_id"])
    assert lead.received_at.isoformat() == "2026-01-15T07:30:00+00:00"


def test_idempotency_key_longer_than_255_is_422(client):
    response = client.post("/inquiries", INQUIRY, key="k" * 256)

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]
    assert IntakeRecord.objects.count() == 0


def test_missing_or_bad_token_is_401(anonymous, api_as, users):
    assert anonymous.post("/inquiries", INQUIRY).status_code == 401
    assert "Bearer" in anonymous.post("/inquiries", INQUIRY).json()["detail"]
    wrong = anonymous.post("/inquiries", INQUIRY, headers={"Authorization": "Bearer lr_nope"})
    assert wrong.status_code == 401
    basic = anonymous.post("/inquiries", INQUIRY, headers={"Authorization": "Basic abc"})
    assert basic.status_code == 401
    assert IntakeRecord.objects.count() == 0


def test_revoked_token_and_inactive_user_are_401(users, token_for, api_as):
    from leadrefinery.accounts.models import ApiToken
    from leadrefinery.accounts.services import token_revoke

    client = api_as(users.rep, ["inquiries:write"])
    assert client.post("/inquiries", INQUIRY).status_code == 201
    token_revoke(token=ApiToken.objects.get(user=users.rep))
    assert client.post("/inquiries", INQUIRY).status_code == 401

    other = api_as(users.rep2, ["inquiries:write"])
    users.rep2.is_active = False
    users.rep2.save()
    assert other.post("/inquiries", INQUIRY).status_code == 401


def test_token_without_the_scope_is_403(users, api_as):
    reader = api_as(users.admin, ["leads:read"])
    response = reader.post("/inquiries", INQUIRY)

    assert response.status_code == 403
    assert "inquiries:write" in response.json()["detail"]
    assert IntakeRecord.objects.count() == 0


def test_malformed_json_is_400_not_500(client):
    response = client.post("/inquiries", '{"email": "a@example.com",')

    assert response.status_code == 400
    assert response.json() == {"detail": "Cannot parse request body"}


@pytest.mark.parametrize(
    "content_type", ["application/x-www-form-urlencoded", "multipart/form-data; boundary=xyz"]
)
def test_a_body_that_is_not_json_is_400_not_500(client, content_type):
    response = client.client.post(
        "/api/v1/inquiries",
        data="email=a%40example.com&first_name=Form",
        content_type=content_type,
        headers=client._headers(None),
    )

    assert response.status_code == 400
    assert response.json() == {"detail": "Cannot parse request body"}
    assert IntakeRecord.objects.count() == 0


def test_oversized_body_is_413_not_500(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    response = client.post("/inquiries", {**INQUIRY, "message": "x" * 20_000})

    assert response.status_code == 413
    assert response.json() == {"detail": "The request body is too large."}
    assert IntakeRecord.objects.count() == 0


@pytest.mark.parametrize("body", ["[]", '"text"', "null", "42", '{"email": {"x": 1}}'])
def test_json_that_is_not_an_inquiry_object_is_422(client, body):
    response = client.post("/inquiries", body)

    assert response.status_code == 422, response.content
    assert isinstance(response.json()["detail"], list)


def test_a_failed_processing_still_stores_the_inquiry_and_answers_202(client):
    # A real fault: the queue new leads go to is missing. The raw inquiry must survive it.
    # (The fallback routing rule points at that queue and protects it, so it goes first.)
    RoutingRule.objects.all().delete()
    Queue.objects.filter(slug="unassigned").delete()

    response = client.post("/inquiries", INQUIRY, key="k-202")

    assert response.status_code == 202
    record = IntakeRecord.objects.get(pk=response.json()["inquiry_id"])
    assert response.json() == {"inquiry_id": record.pk, "status": "received"}
    assert record.status == "received"
    assert Lead.objects.count() == 0

    Queue.objects.create(slug="unassigned", name="Unassigned")
    assert intake_retry_sweep(older_than_seconds=0) == 1
    replay = client.post("/inquiries", INQUIRY, key="k-202")
    assert replay.status_code == 201
    assert replay.json()["inquiry_id"] == record.pk
    assert Lead.objects.count() == 1
