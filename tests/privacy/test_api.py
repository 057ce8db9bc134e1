"""POST /api/v1/privacy/export and /erase: admins with a privacy:admin token only; the person
named in the body; field errors as 422, an unknown person as 404."""

from __future__ import annotations

import pytest

from leadrefinery.leads.models import Lead, Person
from leadrefinery.privacy.models import PrivacyEvent
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def grace(make_lead):
    return make_lead(email="grace.jones@example.com", first_name="Grace", last_name="Jones")


def test_an_admin_exports_every_table_about_the_person_and_it_is_logged(admin_api, grace, users):
    answer = admin_api.post("/privacy/export", {"person": "Grace.Jones@example.com"})
    assert answer.status_code == 200, answer.content
    document = answer.json()
    assert document["person_ids"] == [grace.person_id]
    assert document["lead_ids"] == [grace.pk]
    tables = document["tables"]
    assert tables["leads.Person"][0]["email"] == "grace.jones@example.com"
    assert tables["leads.Lead"][0]["id"] == grace.pk
    # The raw inquiry as it arrived, the timeline, the score: each a table of its own.
    assert tables["leads.IntakeRecord"][0]["payload"]["email"] == "grace.jones@example.com"
    assert {"leads.LeadEvent", "leads.Touch", "scoring.LeadScore"} <= set(tables)
    event = PrivacyEvent.objects.get()
    assert (event.kind, event.actor, event.person_ids) == ("export", users.admin, [grace.person_id])


def test_an_admin_erases_by_id_and_the_answer_says_what_changed(admin_api, grace):
    answer = admin_api.post(
        "/privacy/erase", {"person": str(grace.person_id), "reason": "ticket 4411"}
    )
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["person_ids"] == [grace.person_id] and body["lead_ids"] == [grace.pk]
    assert body["counts"]["leads.Person"] == 1 and body["counts"]["leads.IntakeRecord"] == 1
    person = Person.objects.get(pk=grace.person_id)
    assert (person.email, person.first_name, person.last_name) == ("", "", "")
    assert Lead.objects.get(pk=grace.pk).stage == grace.stage


@pytest.mark.parametrize("who", ["manager", "rep", "marketer"])
def test_other_roles_get_403_even_with_the_scope(who, users, token_for, grace):
    client = ApiClient(token_for(getattr(users, who), ["privacy:admin"]))
    for path, body in (
        ("/privacy/export", {"person": "grace.jones@example.com"}),
        ("/privacy/erase", {"person": "grace.jones@example.com", "reason": "x"}),
    ):
        answer = client.post(path, body)
        assert answer.status_code == 403, (path, answer.content)
        assert "Only admins" in answer.json()["detail"]
    assert Person.objects.get(pk=grace.person_id).email == "grace.jones@example.com"


def test_an_admin_token_without_the_privacy_scope_gets_403(users, token_for, grace):
    client = ApiClient(token_for(users.admin, ["leads:read", "leads:write"]))
    answer = client.post("/privacy/export", {"person": "grace.jones@example.com"})
    assert answer.status_code == 403
    assert "privacy:admin" in answer.json()["detail"]


def test_no_token_is_401(grace):
    assert ApiClient(None).post("/privacy/export", {"person": "1"}).status_code == 401


def test_an_unknown_person_is_404_and_bad_fields_are_422(admin_api, grace):
    assert admin_api.post("/privacy/export", {"person": "nobody@example.com"}).status_code == 404
    assert admin_api.post("/privacy/erase", {"person": "999999", "reason": "x"}).status_code == 404
    missing = admin_api.post("/privacy/erase", {"person": "grace.jones@example.com"})
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["loc"][-1] == "reason"
    blank = admin_api.post("/privacy/erase", {"person": "1", "reason": "   "})
    assert blank.status_code == 422
    neither = admin_api.post("/privacy/export", {"person": "grace jones"})
    assert neither.status_code == 404
    assert Person.objects.get(pk=grace.person_id).email == "grace.jones@example.com"


def test_the_openapi_document_describes_both_operations(client):
    document = client.get("/api/v1/openapi.json").json()
    for path in ("/api/v1/privacy/export", "/api/v1/privacy/erase"):
        operation = document["paths"][path]["post"]
        assert {"200", "401", "403", "404", "422"} <= set(operation["responses"])
    erase = document["components"]["schemas"]["EraseIn"]
    assert set(erase["required"]) == {"person", "reason"}
