"""The digest before the meeting goes out once per review and person; the agenda and the
manager's home cost the same queries for 12 leads as for 36."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leadrefinery.leads.actors import Actor
from leadrefinery.leads.services import lead_assign
from leadrefinery.notifications.models import OutboxMessage
from leadrefinery.review import selectors
from leadrefinery.review.services import review_digest_sweep, review_open

pytestmark = pytest.mark.django_db


def test_the_digest_goes_to_each_rep_and_the_manager_once(users, east_leads, frozen_now):
    for user in (users.rep, users.rep2, users.manager):
        user.email = f"{user.username}@example.com"
        user.save()
    review_open(
        team=users.rep.team, actor=users.manager, scheduled_at=frozen_now.at + timedelta(hours=20)
    )
    assert review_digest_sweep() == 3
    assert review_digest_sweep() == 0  # claimed: never twice
    mails = {m.recipient: m for m in OutboxMessage.objects.filter(event="review.digest")}
    assert set(mails) == {"ron@example.com", "rita@example.com", "maria@example.com"}
    ron = mails["ron@example.com"]
    assert "Buyer00 Buyer1" in ron.body and "Buyer01" not in ron.body  # only his own leads
    assert "Next action overdue" in ron.body
    assert (
        "Ron Rep" not in mails["maria@example.com"].body
        or "ron:" in mails["maria@example.com"].body
    )


def _queries(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def test_agenda_and_home_queries_do_not_grow_with_leads(users, east_leads, make_lead, frozen_now):
    review = review_open(team=users.rep.team, actor=users.manager)
    at = frozen_now.at
    small = _queries(lambda: selectors.agenda(review, users.manager))
    home_small = _queries(lambda: selectors.rep_rows(review.team, users.manager, at))
    for i in range(24):
        lead = make_lead(first_name=f"More{i}")
        lead_assign(lead=lead, owner_user=users.rep, actor=Actor.system("test"))
    assert _queries(lambda: selectors.agenda(review, users.manager)) == small
    assert _queries(lambda: selectors.rep_rows(review.team, users.manager, at)) == home_small
