"""GET /api/v1/duplicates and the merge / dismiss endpoints: shapes, errors, visibility."""

from __future__ import annotations

import pytest

from leadrefinery.dedupe.models import DuplicatePair
from leadrefinery.leads.models import Lead, Person

pytestmark = pytest.mark.django_db


def _grey_pair(inquire, n: int = 0) -> DuplicatePair:
    a = inquire(
        email=f"bob{n}@acme{n}.example",
        first_name="Bob",
        last_name=f"Smith{n}",
        company=f"Acme {n} Inc",
    )
    b = inquire(
        email=f"robert{n}@acme{n}.example",
        first_name="Robert",
        last_name=f"Smith{n}",
        company=f"ACME {n} Incorporated",
    )
    return DuplicatePair.objects.get(person_a_id=a["person_id"], person_b_id=b["person_id"])


def test_the_list_shows_both_people_the_reasons_and_the_differing_fields(
    inquire, users, api_as, django_assert_max_num_queries
):
    for n in range(3):
        _grey_pair(inquire, n)
    client = api_as(users.admin, ["leads:read"])
    with django_assert_max_num_queries(8):
        response = client.get("/duplicates")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3 and len(body["items"]) == 3
    item = body["items"][0]
    assert item["status"] == "open" and item["found_by"] == "intake"
    assert item["a"]["name"] == "Bob Smith0" or item["a"]["name"].startswith("Bob")
    assert any(r.startswith("+4 first names agree") for r in item["reasons"])
    fields = {f["field"]: f for f in item["fields"]}
    assert fields["first_name"]["differs"] and not fields["last_name"]["differs"]
    page = client.get("/duplicates", {"limit": 1, "offset": 1}).json()
    assert page["count"] == 3 and len(page["items"]) == 1


def test_errors_404_409_and_422(inquire, users, api_as):
    pair = _grey_pair(inquire)
    client = api_as(users.admin, ["leads:read", "leads:write"])
    assert client.post("/duplicates/999999/merge", {}).status_code == 404
    assert client.post("/duplicates/0/merge", {}).status_code == 422
    bad_field = client.post(f"/duplicates/{pair.pk}/merge", {"take_from_loser": ["password"]})
    assert bad_field.status_code == 422
    assert "take_from_loser" in bad_field.json()["detail"][0]["loc"]
    outsider = Person.objects.exclude(pk__in=[pair.person_a_id, pair.person_b_id]).first()
    assert outsider is None
    bad_survivor = client.post(f"/duplicates/{pair.pk}/merge", {"survivor_id": 123456})
    assert bad_survivor.status_code == 422
    assert "survivor must be person" in bad_survivor.json()["detail"][0]["msg"]
    unknown_key = client.post(f"/duplicates/{pair.pk}/dismiss", {"why": "x"})
    assert unknown_key.status_code == 422
    assert client.post(f"/duplicates/{pair.pk}/dismiss", {}).status_code == 200
    assert client.post(f"/duplicates/{pair.pk}/merge", {}).status_code == 409
    read_only = api_as(users.admin, ["leads:read"])
    assert read_only.post(f"/duplicates/{pair.pk}/dismiss", {}).status_code == 403
    assert api_as(users.admin, ["leads:read"]).get("/duplicates", {"limit": 0}).status_code == 422


def test_a_rep_sees_pairs_that_touch_their_leads_and_decides_only_when_they_own_both(
    inquire, users, api_as
):
    pair = _grey_pair(inquire)
    rep = api_as(users.rep, ["leads:read", "leads:write"])
    assert rep.get("/duplicates").json()["count"] == 0
    assert rep.post(f"/duplicates/{pair.pk}/merge", {}).status_code == 404
    # Ron gets one of the two leads: he sees the pair, but may not decide it alone.
    Lead.objects.filter(person_id=pair.person_a_id).update(owner_queue=None, owner_user=users.rep)
    assert rep.get("/duplicates").json()["count"] == 1
    refused = rep.post(f"/duplicates/{pair.pk}/merge", {})
    assert refused.status_code == 403 and "leads they own" in refused.json()["detail"]
    Lead.objects.filter(person_id=pair.person_b_id).update(owner_queue=None, owner_user=users.rep)
    assert rep.get("/duplicates").json()["count"] == 1
    assert api_as(users.other_rep, ["leads:read"]).get("/duplicates").json()["count"] == 0
    assert api_as(users.manager, ["leads:read"]).get("/duplicates").json()["count"] == 1
    assert rep.post(f"/duplicates/{pair.pk}/merge", {}).status_code == 200
