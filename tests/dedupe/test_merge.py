"""Merging two people through the API: the survivor keeps everything, the strictest consent
wins, the loser stays as provenance, the timeline says who and why; a merge is never undone
or repeated; a dismissed pair never comes back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command

from leadrefinery.common.clock import now
from leadrefinery.common.errors import ServiceError
from leadrefinery.dedupe.merging import person_merge, person_unmerge
from leadrefinery.dedupe.models import DuplicatePair
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import Consent, Lead, LeadEvent, Person, Touch

pytestmark = pytest.mark.django_db

BOB = {
    "email": "bob@acme.example",
    "first_name": "Bob",
    "last_name": "Smith",
    "company": "Acme, Inc.",
    "product_interest": "Presses",
    "consent": True,
}
ROBERT = {
    "email": "robert.smith@acme.example",
    "first_name": "Robert",
    "last_name": "Smith",
    "company": "ACME Incorporated",
    "title": "Head of Purchasing",
    "product_interest": "Presses",
}


@pytest.fixture
def pair(inquire):
    bob = inquire(**BOB)
    robert = inquire(**ROBERT)
    inquire(**{**ROBERT, "product_interest": "Lathes"})  # a second product line
    return DuplicatePair.objects.get(person_a_id=bob["person_id"], person_b_id=robert["person_id"])


@pytest.fixture
def admin_api(users, api_as):
    return api_as(users.admin, ["leads:read", "leads:write"])


def test_merge_keeps_every_lead_touch_and_event_and_records_who_and_why(pair, admin_api, users):
    bob, robert = pair.person_a, pair.person_b
    bob_lead = Lead.objects.get(person=bob)
    robert_presses = Lead.objects.get(person=robert, product_interest="Presses")
    robert_lathes = Lead.objects.get(person=robert, product_interest="Lathes")
    robert_events = set(LeadEvent.objects.filter(lead__person=robert).values_list("pk", flat=True))

    response = admin_api.post(
        f"/duplicates/{pair.pk}/merge",
        {"take_from_loser": ["email"], "reason": "same buyer, new address"},
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["survivor_id"], body["merged_id"]) == (bob.pk, robert.pk)
    assert (body["leads_merged"], body["leads_moved"]) == (1, 1)
    assert body["pair"]["status"] == "merged"
    bob.refresh_from_db()
    robert.refresh_from_db()
    # Values: the chosen email from Robert's record; blanks filled (title); the rest Bob's.
    assert (bob.email, bob.first_name, bob.title) == (
        "robert.smith@acme.example",
        "Bob",
        "Head of Purchasing",
    )
    # The loser is kept, pointing at the survivor, with who, when and why.
    assert (robert.status, robert.merged_into_id, robert.merged_by) == (
        "merged",
        bob.pk,
        users.admin,
    )
    assert robert.merge_reason == "same buyer, new address"
    assert robert.email == "robert.smith@acme.example", "its own record is its provenance"
    # Same product line: Robert's lead is merged into Bob's; the other line moves over, open.
    robert_presses.refresh_from_db()
    robert_lathes.refresh_from_db()
    assert (robert_presses.stage, robert_presses.merged_into_id) == ("merged", bob_lead.pk)
    assert (robert_lathes.stage, robert_lathes.person_id) == ("inquiry", bob.pk)
    assert not Lead.objects.filter(person=robert).exists()
    assert not Touch.objects.filter(person=robert).exists()
    assert Touch.objects.filter(person=bob).count() == 3
    kept = set(LeadEvent.objects.filter(lead__person=bob).values_list("pk", flat=True))
    assert robert_events <= kept
    # The timeline of both sides says who merged what and why.
    for lead in (bob_lead, robert_presses, robert_lathes):
        event = lead.events.filter(kind="merged").get()
        assert "merged into Bob Smith" in event.note and "by admin" in event.note
        assert "same buyer, new address" in event.note
    assert robert_presses.events.get(kind="merged").to_stage == "merged"
    call_command("checkleads")  # every invariant still holds


def test_the_stricter_consent_survives_a_merge(pair, admin_api):
    bob, robert = pair.person_a, pair.person_b
    opt_in = bob.consents.get()
    assert opt_in.basis == "opt_in"
    # Robert unsubscribed even before Bob opted in: the withdrawal still wins.
    Consent.objects.create(
        person=robert,
        channel="email",
        basis="withdrawn",
        source="unsubscribe",
        recorded_at=opt_in.recorded_at - timedelta(days=1),
    )
    response = admin_api.post(f"/duplicates/{pair.pk}/merge", {"survivor_id": bob.pk})
    assert response.json()["consent_withdrawn"] is True
    latest = Consent.objects.filter(person=bob).order_by("-recorded_at", "-pk").first()
    assert latest.basis == "withdrawn", "an unsubscribed person stays unsubscribed"
    assert Consent.objects.filter(person=bob).count() == 3, (
        "both histories kept, and the merge says so"
    )
    assert "merge of person" in latest.source


def test_a_merge_is_neither_repeated_nor_undone(pair, admin_api, users):
    assert admin_api.post(f"/duplicates/{pair.pk}/merge", {}).status_code == 200
    again = admin_api.post(f"/duplicates/{pair.pk}/merge", {})
    assert again.status_code == 409
    assert "merged already" in again.json()["detail"]
    undo = admin_api.post(f"/duplicates/{pair.pk}/dismiss", {})
    assert undo.status_code == 409
    assert "a merge cannot be undone" in undo.json()["detail"]
    robert = Person.objects.get(pk=pair.person_b_id)
    with pytest.raises(ServiceError, match="cannot be undone"):
        person_unmerge(person=robert, actor=Actor.of(users.admin))
    other = Person.objects.create(email="x@y.example", created_at=now(), updated_at=now())
    with pytest.raises(ServiceError, match="already merged into person"):
        person_merge(survivor=other, loser=robert, actor=Actor.of(users.admin))


def test_an_inquiry_with_the_merged_persons_email_reaches_the_survivor(pair, admin_api, inquire):
    admin_api.post(f"/duplicates/{pair.pk}/merge", {})
    again = inquire(email="Robert.Smith@acme.example", product_interest="Presses")
    assert again["person_id"] == pair.person_a_id
    assert again["outcome"] == "attached_to_open_lead"


def test_a_dismissed_pair_never_comes_back(pair, admin_api, inquire):
    response = admin_api.post(f"/duplicates/{pair.pk}/dismiss", {"note": "two brothers"})
    assert response.status_code == 200
    assert response.json()["status"] == "dismissed"
    notes = LeadEvent.objects.filter(kind="duplicate", note__startswith="Not a duplicate")
    assert notes.count() == 3, "said on every open lead of both"
    # Robert writes again: he is matched (his email), and the pair is not proposed again...
    inquire(**{**ROBERT, "message": "still interested"})
    # ...and neither does a scan propose it.
    call_command("dedupe_scan", "--no-progress")
    assert list(DuplicatePair.objects.values_list("status", flat=True)) == ["dismissed"]
    assert admin_api.get("/duplicates").json()["count"] == 0
