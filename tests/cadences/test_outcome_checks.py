"""The Rule of 45: twelve months after a lead is lost for no decision, closed as no response
or recycled, marketing gets a task to ask whether they bought, and from whom."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from leadrefinery.cadences.models import OutcomeCheck
from leadrefinery.cadences.services import lead_accept
from leadrefinery.cadences.sweep import cadence_sweep
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import Queue
from leadrefinery.leads.services import lead_dispose
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def lost_no_decision(sales_ready, ron):
    lead = lead_accept(lead=sales_ready, actor=Actor.of(ron))
    return lead_dispose(lead=lead, reason_code="lost_no_decision", actor=Actor.of(ron))


def test_the_check_appears_for_marketing_twelve_months_later(
    lost_no_decision, users, token_for, frozen_now
):
    check = OutcomeCheck.objects.get(lead=lost_no_decision)
    assert check.scheduled_for == datetime(2027, 3, 2, 9, 0, tzinfo=UTC)
    marketer = ApiClient(token_for(users.marketer))
    assert marketer.get("/outcome-checks").json() == []

    frozen_now.set(check.scheduled_for - timedelta(minutes=1))
    assert cadence_sweep() == 0
    frozen_now.set(check.scheduled_for)
    assert cadence_sweep() == 1
    assert cadence_sweep() == 0  # opened once
    (item,) = marketer.get("/outcome-checks").json()
    assert item["lead_id"] == lost_no_decision.pk and item["status"] == "open"
    assert ApiClient(token_for(users.rep)).get("/outcome-checks").json() == []
    assert lost_no_decision.events.filter(kind="outcome_check").count() == 2  # scheduled, due


def test_marketing_queue_members_are_told_and_record_the_answer(
    lost_no_decision, users, token_for, frozen_now
):
    users.marketer.email = "mark@refinery.example"
    users.marketer.save()
    Queue.objects.get(slug="marketing").members.add(users.marketer)
    check = OutcomeCheck.objects.get(lead=lost_no_decision)
    frozen_now.set(check.scheduled_for)
    cadence_sweep()
    from leadrefinery.notifications.models import OutboxMessage

    assert OutboxMessage.objects.get(event="outcome_check.due").recipient == users.marketer.email
    marketer = ApiClient(token_for(users.marketer))
    missing = marketer.post(f"/outcome-checks/{check.pk}/answer", {"answer": "competitor"})
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["loc"] == ["body", "payload", "competitor"]
    answered = marketer.post(
        f"/outcome-checks/{check.pk}/answer", {"answer": "competitor", "competitor": "Initech"}
    )
    assert answered.status_code == 200, answered.content
    assert (answered.json()["answer"], answered.json()["competitor"]) == ("competitor", "Initech")
    assert marketer.get("/outcome-checks").json() == []
    event = lost_no_decision.events.filter(kind="outcome_check").order_by("-id").first()
    assert event.note == "Outcome check answered: Bought from a competitor: Initech"
    again = marketer.post(f"/outcome-checks/{check.pk}/answer", {"answer": "us"})
    assert again.status_code == 422
    rep = ApiClient(token_for(users.rep))
    assert rep.post(f"/outcome-checks/{check.pk}/answer", {"answer": "us"}).status_code == 404


def test_recycles_schedule_a_check_and_other_losses_do_not(sales_ready, ron, handed_to):
    lead = lead_accept(lead=sales_ready, actor=Actor.of(ron))
    from leadrefinery.leads.services import lead_recycle

    lead_recycle(lead=lead, reason_code="recycle_timing", actor=Actor.of(ron))
    assert OutcomeCheck.objects.get(lead=lead).reason == "recycle_timing"
    other = lead_accept(lead=handed_to(ron), actor=Actor.of(ron))
    lead_dispose(lead=other, reason_code="lost_price", actor=Actor.of(ron))
    assert not OutcomeCheck.objects.filter(lead=other).exists()
