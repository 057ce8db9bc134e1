"""In Chromium: a manager opens this week's review, goes lead by lead with the keyboard,
records each kind of decision, skips one (it carries over) and signs off with marketing
attending; every decided lead's timeline shows the review, the rep whose leads were all
reached reads 100% coverage, and the lead invariants still hold."""

from __future__ import annotations

import os
import time
from io import StringIO

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from leadrefinery.leads.access import visible_to
from leadrefinery.leads.models import LeadEvent
from leadrefinery.review.models import Review, ReviewDecision

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The decision per lead of the agenda, in its order; "skip" moves on without one.
PLAN = [
    "keep",
    "advance",
    "recycle",
    "close",
    "reassign",
    "skip",
    "keep",
    "advance",
    "keep",
    "close",
    "keep",
    "keep",
]
SHOTS = os.environ.get("REFINERY_SHOTS", "")  # a folder: save the pages as pictures to look at
KEYS = {"keep": "1", "advance": "2", "recycle": "3", "close": "4", "reassign": "5"}


def decide(page, kind: str) -> None:
    page.wait_for_load_state("load")  # meet.js has bound the keys
    page.keyboard.press(KEYS[kind])
    if kind == "keep":
        page.keyboard.press("Enter")  # the next action and due time are filled in
    elif kind in ("recycle", "close", "reassign"):
        page.keyboard.press("ArrowDown")  # the first reason or owner
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")


def test_a_manager_holds_the_weekly_review_with_the_keyboard(
    page, live_server, login, users, east_leads
):
    login(users.manager)
    page.get_by_role("link", name="Review", exact=True).click()
    page.get_by_role("button", name="Open this week's review").click()
    expect(page.locator("h1")).to_contain_text("East lead review")
    expect(page.locator(".review-counts")).to_contain_text("0 of 12 leads decided")
    page.get_by_role("button", name="Start the meeting").click()

    if SHOTS:
        page.screenshot(path=f"{SHOTS}/review-meet.png", full_page=True)
    for position, kind in enumerate(PLAN):
        expect(page.locator(".meet-nav")).to_contain_text(f"Lead {position + 1} of 12")
        if kind == "skip":
            page.wait_for_load_state("load")
            page.keyboard.press("j")
            continue
        decide(page, kind)
        expect(page.locator(".flash-success, [role=status]").first).to_be_visible()

    review = Review.objects.get()
    # The flash seen after the last decision may still be the one before it, shown while
    # that decision's form is sent: wait (up to 10 s) for the server to have stored it.
    deadline = time.monotonic() + 10
    while ReviewDecision.objects.filter(review=review).count() < 11:
        assert time.monotonic() < deadline, "the last decision was never stored"
        time.sleep(0.05)
    decisions = list(ReviewDecision.objects.filter(review=review))
    assert {d.kind for d in decisions} == {"keep", "advance", "recycle", "close", "reassign"}
    assert len(decisions) == 11

    page.goto(f"{live_server.url}/review/{review.pk}/")
    expect(page.locator(".review-counts")).to_contain_text("11 of")
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/review-agenda.png", full_page=True)
    page.get_by_label("Mark Eter (marketer)").check()  # marketing sat in
    page.get_by_role("button", name="Sign the review off").click()
    expect(page.locator("hgroup")).to_contain_text("Signed off")
    review.refresh_from_db()
    assert review.status == "signed_off" and review.summary["carried_over"] == 1
    assert {u.username for u in review.attendees.all()} == {"maria", "mark"}

    # Every decided lead's timeline has the review's decision; the manager still sees those
    # that stayed in the team (a recycled lead now belongs to marketing).
    for decision in decisions:
        event = LeadEvent.objects.get(lead_id=decision.lead_id, kind="reviewed")
        assert event.data["decision"] == decision.kind and event.actor == users.manager
    seen = visible_to(users.manager).filter(pk__in=[d.lead_id for d in decisions])
    assert seen.count() >= 8
    for lead in seen:
        page.goto(f"{live_server.url}/leads/{lead.pk}/")
        expect(page.locator("#timeline")).to_contain_text("Reviewed")

    page.get_by_role("link", name="Review", exact=True).click()
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/review-home.png", full_page=True)
    ron_row = page.locator("tr", has_text="Ron Rep")
    expect(ron_row.locator("td").nth(6)).to_have_text("100%")

    out = StringIO()
    call_command("checkleads", stdout=out)
    assert "All lead invariants hold." in out.getvalue()
