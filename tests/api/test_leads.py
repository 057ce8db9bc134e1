"""GET /api/v1/leads and /api/v1/leads/{id}: filters, pages, timeline, and who sees what."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import Queue
from leadrefinery.leads.services import (
    lead_assign,
    lead_dispose,
    lead_note_add,
    lead_set_next_action,
    lead_transition,
    touch_log,
)

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system("test")


@pytest.fixture
def reader(users, api_as):
    return api_as(users.admin, ["leads:read"])


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


def test_lists_newest_first_with_owner_and_person(reader, make_lead, users):
    old = make_lead(received_at="2026-01-01T10:00:00Z", company="Old Co")
    new = make_lead(received_at="2026-02-01T10:00:00Z", company="New Co")
    lead_assign(lead=new, owner_user=users.rep, actor=SYSTEM)

    response = reader.get("/leads")

    body = response.json()
    assert body["count"] == 2
    assert body["next_offset"] is None
    assert ids(response) == [new.pk, old.pk]
    first, second = body["items"]
    assert first["owner"] == {
        "type": "user",
        "id": users.rep.pk,
        "name": "Ron Rep",
        "username": "ron",
        "slug": None,
    }
    assert second["owner"]["type"] == "queue"
    assert second["owner"]["slug"] == "unassigned"
    assert first["person"]["company"] == "New Co"
    assert first["stage"] == "inquiry"
    assert first["stage_label"] == "Inquiry"
    assert first["source"] == "API"


def test_pagination_walks_every_lead_once(reader, make_lead):
    made = [make_lead() for _ in range(7)]

    seen: list[int] = []
    offset: int | None = 0
    pages = 0
    while offset is not None:
        body = reader.get("/leads", {"limit": 3, "offset": offset}).json()
        assert body["count"] == 7
        seen += [item["id"] for item in body["items"]]
        offset = body["next_offset"]
        pages += 1

    assert pages == 3
    assert sorted(seen) == sorted(lead.pk for lead in made)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
        ({"offset": -1}, "offset"),
        ({"offset": 10**30}, "offset"),
        ({"limit": "many"}, "limit"),
        ({"stage": "wonn"}, "stage"),
        ({"received_after": "last week"}, "received_after"),
        ({"received_before": "1767225600"}, "received_before"),
        ({"stag": "won"}, "stag"),
    ],
)
def test_bad_query_parameters_are_422(reader, params, field):
    response = reader.get("/leads", params)

    assert response.status_code == 422, response.content
    assert response.json()["detail"][0]["loc"] == ["query", field]


def test_a_misspelt_parameter_is_named_with_a_suggestion(reader, make_lead):
    make_lead()

    response = reader.get("/leads", {"stag": "won", "limit": 5})

    assert response.status_code == 422
    assert response.json()["detail"] == [
        {
            "loc": ["query", "stag"],
            "msg": "unknown parameter 'stag'; did you mean 'stage'?",
            "type": "extra_forbidden",
        }
    ]


def test_filters_that_cannot_match_give_an_empty_page_not_an_error(reader, make_lead):
    make_lead(received_at="2026-01-10T12:00:00Z")

    for params in (
        {"q": "a\x00b"},
        {"owner": "\x00"},
        {"received_before": "0001-01-01T00:00:00+05:00"},
        {"received_after": "9999-12-31T23:59:59-05:00"},
    ):
        response = reader.get("/leads", params)
        assert response.status_code == 200, (params, response.content)
        assert response.json()["count"] == 0
    everything = reader.get("/leads", {"received_after": "0001-01-01T00:00:00+05:00"})
    assert everything.json()["count"] == 1


def test_filter_by_stage_single_repeated_comma_and_open(reader, make_lead, users):
    inquiry = make_lead()
    nurture = lead_transition(lead=make_lead(), to_stage="nurture", actor=SYSTEM)
    lost = make_lead()
    lead_transition(lead=lost, to_stage="disqualified", actor=SYSTEM, reason_code="dq_spam")

    assert ids(reader.get("/leads", {"stage": "nurture"})) == [nurture.pk]
    assert set(ids(reader.get("/leads", {"stage": ["nurture", "inquiry"]}))) == {
        nurture.pk,
        inquiry.pk,
    }
    assert set(ids(reader.get("/leads", {"stage": "nurture,disqualified"}))) == {
        nurture.pk,
        lost.pk,
    }
    assert set(ids(reader.get("/leads", {"stage": "open"}))) == {inquiry.pk, nurture.pk}
    assert ids(reader.get("/leads", {"stage": "closed"})) == [lost.pk]
    unknown = reader.get("/leads", {"stage": "open,wonn"})
    assert "unknown stage 'wonn'" in unknown.json()["detail"][0]["msg"]


def test_filter_by_owner_user_or_queue(reader, make_lead, users):
    rons = lead_assign(lead=make_lead(), owner_user=users.rep, actor=SYSTEM)
    queued = make_lead()
    qualifying = lead_assign(
        lead=make_lead(), owner_queue=Queue.objects.get(slug="qualifying"), actor=SYSTEM
    )

    assert ids(reader.get("/leads", {"owner": "ron"})) == [rons.pk]
    assert ids(reader.get("/leads", {"owner": "queue:unassigned"})) == [queued.pk]
    assert ids(reader.get("/leads", {"owner": "queue:qualifying"})) == [qualifying.pk]
    assert ids(reader.get("/leads", {"owner": "nobody"})) == []


def test_filter_by_source_received_window_and_words(reader, make_lead, submit_inquiry):
    jan = make_lead(received_at="2026-01-10T12:00:00Z", first_name="Ann", last_name="Lee")
    feb = make_lead(received_at="2026-02-10T12:00:00Z", company="Globex Corp")
    record = submit_inquiry(
        source="Webinar", email="w@example.com", received_at="2026-03-10T12:00:00Z"
    )

    assert ids(reader.get("/leads", {"source": "Webinar"})) == [record.lead_id]
    window = {"received_after": "2026-01-10T12:00:00Z", "received_before": "2026-03-01T00:00:00"}
    assert ids(reader.get("/leads", window)) == [feb.pk, jan.pk]
    assert ids(reader.get("/leads", {"q": "globex"})) == [feb.pk]
    assert ids(reader.get("/leads", {"q": "ann lee"})) == [jan.pk]
    assert ids(reader.get("/leads", {"q": "w@example"})) == [record.lead_id]
    assert ids(reader.get("/leads", {"q": "ann globex"})) == []


def test_list_query_count_does_not_grow_with_leads(
    reader, make_lead, users, django_assert_max_num_queries
):
    def queries_for_page() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            response = reader.get("/leads", {"limit": 200})
        assert response.status_code == 200
        return len(ctx.captured_queries)

    for i in range(5):
        lead = make_lead()
        if i % 2:
            lead_assign(lead=lead, owner_user=users.rep, actor=SYSTEM)
    few = queries_for_page()
    for i in range(35):
        lead = make_lead()
        if i % 2:
            lead_assign(lead=lead, owner_user=users.rep2, actor=SYSTEM)

    with django_assert_max_num_queries(few):
        response = reader.get("/leads", {"limit": 200})
    assert response.json()["count"] == 40


def test_detail_has_person_owner_and_timeline(reader, make_lead, users):
    lead = make_lead(
        company="Acme Tools",
        utm_campaign="spring",
        need="faster presses",
        message="Call me",
    )
    lead = lead_assign(lead=lead, owner_user=users.rep, actor=Actor.of(users.manager))
    due = datetime(2030, 1, 2, 9, 0, tzinfo=UTC)
    lead_set_next_action(lead=lead, action="Call back", due_at=due, actor=Actor.of(users.rep))
    touch_log(lead=lead, channel="call", outcome="voicemail", actor=Actor.of(users.rep))
    lead_note_add(lead=lead, note="Left a voicemail", actor=Actor.of(users.rep))

    response = reader.get(f"/leads/{lead.pk}")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == lead.pk
    assert body["person"]["email"] == lead.person.email
    assert body["account"]["name"] == "Acme Tools"
    assert body["owner"]["username"] == "ron"
    assert body["next_action"] == "Call back"
    assert body["next_action_due_at"].startswith("2030-01-02T09:00:00")
    assert body["utm"]["campaign"] == "spring"
    assert body["qualification"]["need"] == "faster presses"
    assert body["message"] == "Call me"
    assert body["disposition"] is None
    kinds = [event["kind"] for event in body["timeline"]]
    assert kinds[0] == "note"
    assert {"created", "assigned", "next_action", "touch", "note"} <= set(kinds)
    assigned_by_manager = [
        e for e in body["timeline"] if e["kind"] == "assigned" and e["actor"] == "maria"
    ]
    assert len(assigned_by_manager) == 1
    channels = [(t["channel"], t["direction"]) for t in body["touches"]]
    assert ("call", "outbound") in channels
    assert ("api", "inbound") in channels


def test_detail_of_a_closed_lead_shows_the_disposition(reader, make_lead):
    lead = make_lead()
    lead_dispose(lead=lead, reason_code="dq_student", actor=SYSTEM, note="a student project")

    body = reader.get(f"/leads/{lead.pk}").json()

    assert body["stage"] == "disqualified"
    assert body["is_open"] is False
    assert body["disposition"]["code"] == "dq_student"
    assert body["disposition"]["note"] == "a student project"
    moved = [e for e in body["timeline"] if e["to_stage"] == "disqualified"]
    assert moved and moved[0]["from_stage"] == "inquiry"
    assert moved[0]["reason"] == "dq_student"


def test_rep_token_sees_only_own_leads(make_lead, users, api_as):
    mine = lead_assign(lead=make_lead(), owner_user=users.rep, actor=SYSTEM)
    walts = lead_assign(lead=make_lead(), owner_user=users.other_rep, actor=SYSTEM)
    make_lead()  # in the unassigned queue, which ron is not a member of
    ron = api_as(users.rep, ["leads:read"])

    assert ids(ron.get("/leads")) == [mine.pk]
    assert ron.get(f"/leads/{mine.pk}").status_code == 200
    hidden = ron.get(f"/leads/{walts.pk}")
    assert hidden.status_code == 404
    assert hidden.json() == {"detail": "Not found."}
    # Filtering by another rep's name reveals nothing either.
    assert ids(ron.get("/leads", {"owner": "walt"})) == []


def test_manager_token_sees_the_team(make_lead, users, api_as):
    rons = lead_assign(lead=make_lead(), owner_user=users.rep, actor=SYSTEM)
    ritas = lead_assign(lead=make_lead(), owner_user=users.rep2, actor=SYSTEM)
    walts = lead_assign(lead=make_lead(), owner_user=users.other_rep, actor=SYSTEM)
    maria = api_as(users.manager, ["leads:read"])

    assert set(ids(maria.get("/leads"))) == {rons.pk, ritas.pk}
    assert maria.get(f"/leads/{walts.pk}").status_code == 404


def test_unknown_and_out_of_range_ids(reader):
    assert reader.get("/leads/999999").status_code == 404
    assert reader.get(f"/leads/{2**63}").status_code == 422
    assert reader.get("/leads/0").status_code == 422
    assert reader.get("/leads/abc").status_code == 422


def test_reading_needs_the_leads_read_scope(users, api_as, anonymous, make_lead):
    lead = make_lead()
    writer = api_as(users.admin, ["inquiries:write"])

    assert writer.get("/leads").status_code == 403
    assert "leads:read" in writer.get(f"/leads/{lead.pk}").json()["detail"]
    assert anonymous.get("/leads").status_code == 401
    assert anonymous.get(f"/leads/{lead.pk}").status_code == 401


def test_times_are_iso_8601_with_offset(reader, make_lead):
    lead = make_lead(received_at="2026-01-10T12:00:00Z")

    item = reader.get("/leads").json()["items"][0]

    assert item["id"] == lead.pk
    parsed = datetime.fromisoformat(item["received_at"].replace("Z", "+00:00"))
    assert parsed == datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
    assert parsed.utcoffset() == timedelta(0)
