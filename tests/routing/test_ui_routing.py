"""The routing pages, the team page, and "why this owner" with the SLA countdown on leads."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from leadrefinery.leads.models import Lead
from leadrefinery.routing.models import RoutingCounter, RoutingRule
from tests.ui.conftest import CSRF_RE

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def login_as(db):
    """login_as(user) -> a test client with that user's session."""

    def make(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


def csrf(client, url: str) -> str:
    match = CSRF_RE.search(client.get(url).content.decode())
    assert match
    return match[1]


def east_rule(users, **kw) -> RoutingRule:
    return RoutingRule.objects.create(
        name=kw.pop("name", "North America"),
        order=10,
        conditions=[{"field": "country", "op": "in", "value": ["US", "CA"]}],
        target_kind="team",
        target_team=users.rep.team,
        created_at=T0,
        updated_at=T0,
        **kw,
    )


def test_rules_are_listed_in_words_and_reps_may_not_see_them(users, login_as):
    east_rule(users)
    page = login_as(users.manager).get("/routing/").content.decode()
    assert "country is one of US, CA" in page
    assert "team East by round robin" in page
    assert page.index("North America") < page.index("(fallback)")
    assert login_as(users.rep).get("/routing/").status_code == 403


def test_a_rule_is_created_with_condition_rows_and_errors_are_shown(users, login_as):
    admin = login_as(users.admin)
    token = csrf(admin, "/routing/new/")
    base = {
        "csrfmiddlewaretoken": token,
        "name": "Big German accounts",
        "order": "20",
        "active": "on",
        "target_kind": "user",
        "target_user": str(users.other_rep.pk),
        "method": "round_robin",
        "cond-0-field": "country",
        "cond-0-op": "equals",
        "cond-0-value": "DE",
        "cond-1-field": "employees",
        "cond-1-op": "range",
        "cond-1-value": "500..",
    }
    refused = admin.post("/routing/new/", {**base, "cond-2-field": "region", "cond-2-op": "in"})
    assert refused.status_code == 400
    assert (
        "condition 3: &#x27;in&#x27; needs a non-empty list of values" in refused.content.decode()
    )
    no_target = admin.post("/routing/new/", {**base, "target_user": ""})
    assert "choose the user this rule sends leads to" in no_target.content.decode()
    assert admin.post("/routing/new/", base).status_code == 302
    rule = RoutingRule.objects.get(name="Big German accounts")
    assert rule.conditions == [
        {"field": "country", "op": "equals", "value": "DE"},
        {"field": "employees", "op": "range", "value": [500, None]},
    ]
    assert rule.target_user == users.other_rep
    listed = admin.get("/routing/").content.decode()
    assert "employees at least 500" in listed and "rep walt" in listed


def test_test_a_lead_shows_the_trace_without_assigning(users, login_as, frozen_now):
    east_rule(users)
    users.rep2.away_until = datetime(2026, 3, 5, tzinfo=UTC)
    users.rep2.save()
    page = login_as(users.manager).get("/routing/", {"test": "1", "country": "CA"})
    html = page.content.decode()
    assert "Owner: ron" in html
    assert "rule &#x27;North America&#x27;: match" in html
    assert "<strong>rita</strong>: away until 2026-03-05 00:00 UTC" in html
    assert not RoutingCounter.objects.exists() and not Lead.objects.exists()


def test_the_fallback_rule_cannot_be_switched_off_from_the_page(users, login_as):
    admin = login_as(users.admin)
    fallback = RoutingRule.objects.get(is_fallback=True)
    token = csrf(admin, "/routing/")
    admin.post(f"/routing/{fallback.pk}/deactivate/", {"csrfmiddlewaretoken": token})
    fallback.refresh_from_db()
    assert fallback.active


def test_team_page_shows_availability_and_a_rep_marks_themselves_away(users, login_as, frozen_now):
    users.rep2.max_open_leads = 0
    users.rep2.save()
    ron = login_as(users.rep)
    page = ron.get("/routing/team/").content.decode()
    assert "Unavailable: at open-lead cap (0/0)" in page
    assert "Set my availability" in page
    assert f'name="u{users.rep.pk}-max_open_leads"' not in page  # caps are the manager's
    assert "walt" not in page  # a rep sees their own team only
    token = csrf(ron, "/routing/team/")
    response = ron.post(
        f"/routing/team/{users.rep.username}/availability/",
        {
            "csrfmiddlewaretoken": token,
            f"u{users.rep.pk}-away_until": "2026-03-09T08:00",
            f"u{users.rep.pk}-time_zone": "UTC",
        },
    )
    assert response.status_code == 302
    users.rep.refresh_from_db()
    assert users.rep.away_until == datetime(2026, 3, 9, 8, tzinfo=UTC)
    # Someone else's settings: not offered, and refused when posted.
    other = ron.post(
        f"/routing/team/{users.rep2.username}/availability/",
        {"csrfmiddlewaretoken": token, f"u{users.rep2.pk}-away_until": ""},
    )
    assert other.status_code == 404


def test_a_rep_sets_working_hours_in_words_and_routing_skips_them_outside(users, login_as):
    from leadrefinery.common.clock import frozen
    from leadrefinery.routing.services import routing_preview

    ron = login_as(users.rep)
    token = csrf(ron, "/routing/team/")
    url = f"/routing/team/{users.rep.username}/availability/"
    field = f"u{users.rep.pk}-working_hours"
    bad = ron.post(url, {"csrfmiddlewaretoken": token, field: "Funday 9-5\nMon 17:00-09:00"})
    page = bad.content.decode()
    assert "line 1: start with a day such as Mon" in page
    assert "line 2: 17:00-09:00 ends before it starts" in page
    users.rep.refresh_from_db()
    assert users.rep.working_hours == {}
    ron.post(url, {"csrfmiddlewaretoken": token, field: "Mon-Thu 08:00-12:00, 13:00-16:00"})
    users.rep.refresh_from_db()
    assert users.rep.working_hours["0"] == [["08:00", "12:00"], ["13:00", "16:00"]]
    assert "4" not in users.rep.working_hours  # Friday off
    assert "Mon 08:00-12:00, 13:00-16:00" in ron.get("/routing/team/").content.decode()
    east_rule(users)
    friday_10am = datetime(2026, 3, 6, 10, tzinfo=UTC)
    with frozen(friday_10am):
        decision = routing_preview(fields={"country": "US"})
    skipped = {s["name"]: s["why"] for s in decision.as_trace()["skipped"]}
    assert "working hours" in skipped["ron"]
    assert "rita" not in skipped  # default hours: Friday 10:00 is a working time


def test_a_manager_sets_weight_and_caps_of_their_team(users, login_as):
    maria = login_as(users.manager)
    token = csrf(maria, "/routing/team/")
    prefix = f"u{users.rep2.pk}"
    maria.post(
        "/routing/team/rita/availability/",
        {
            "csrfmiddlewaretoken": token,
            f"{prefix}-routing_weight": "3",
            f"{prefix}-max_leads_per_day": "12",
            f"{prefix}-time_zone": "Europe/Berlin",
        },
    )
    users.rep2.refresh_from_db()
    assert (users.rep2.routing_weight, users.rep2.max_leads_per_day) == (3, 12)
    assert users.rep2.time_zone == "Europe/Berlin"


def test_an_admin_deactivates_a_rep_from_the_team_page(users, login_as, make_lead):
    from leadrefinery.leads.actors import Actor
    from leadrefinery.leads.services import lead_assign

    lead = lead_assign(lead=make_lead(), owner_user=users.rep, actor=Actor.system("test"))
    admin = login_as(users.admin)
    page = admin.get("/routing/team/").content.decode()
    assert "Deactivate ron" in page
    confirm = admin.get("/routing/team/ron/deactivate/").content.decode()
    assert "1 open lead will move" in confirm
    users.rep.refresh_from_db()
    assert users.rep.is_active  # asking changes nothing
    token = csrf(admin, "/routing/team/")
    response = admin.post(
        "/routing/team/ron/deactivate/",
        {"csrfmiddlewaretoken": token, "reason": "moved on"},
        follow=True,
    )
    assert "ron is deactivated; 1 open lead reassigned" in response.content.decode()
    lead.refresh_from_db()
    assert lead.owner_user_id != users.rep.pk
    maria = login_as(users.manager)
    assert (
        maria.post("/routing/team/rita/deactivate/", {"csrfmiddlewaretoken": token}).status_code
        == 403
    )


def test_the_lead_shows_why_this_owner_and_the_first_contact_countdown(
    users, login_as, submit_inquiry, frozen_now
):
    east_rule(users)
    users.rep2.away_until = datetime(2026, 3, 5, tzinfo=UTC)
    users.rep2.save()
    lead = Lead.objects.get(pk=submit_inquiry(email="b@example.com", country="US").lead_id)
    assert lead.owner_user == users.rep and lead.sla_due_at is not None
    frozen_now.advance(timedelta(minutes=37))
    ron = login_as(users.rep)
    detail = ron.get(f"/leads/{lead.pk}/").content.decode()
    assert "Why this owner" in detail
    assert "<strong>rita</strong>: away until 2026-03-05 00:00 UTC" in detail
    assert "First contact due in 23 min" in detail  # one working hour allowed
    listing = ron.get("/leads/").content.decode()
    assert "First contact due in 23 min" in listing
    frozen_now.advance(timedelta(minutes=28))
    detail = ron.get(f"/leads/{lead.pk}/").content.decode()
    assert re.search(r'class="sla-countdown overdue"[^>]*>First contact overdue by 5 min', detail)
