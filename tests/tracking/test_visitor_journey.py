"""An anonymous visitor browses five pages carrying the snippet, then fills in a form: the
person gets all six touches (five page visits, one form fill) and the visits count for the
lead's engagement score."""

from __future__ import annotations

import time

import pytest

from leadrefinery.leads.models import Lead, Touch, WebForm
from leadrefinery.scoring.models import ScoreLog
from leadrefinery.tracking.models import Visit, Visitor


def wait_for(check, what: str, budget: float = 15.0) -> None:
    deadline = time.monotonic() + budget
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


@pytest.fixture
def site(settings, live_server):
    settings.ROOT_URLCONF = "tests.tracking.urls"
    WebForm.objects.filter(slug="contact").update(min_fill_seconds=0)
    return live_server.url


def test_anonymous_visits_merge_into_the_person_at_the_form_fill(page, site):
    for n in range(1, 6):
        page.goto(f"{site}/shop/{n}/")
        wait_for(lambda n=n: Visit.objects.count() == n, f"visit {n} to be recorded")
    visitor = Visitor.objects.get()
    assert visitor.person is None and page.evaluate("window.refinery.visitorId()") == visitor.key

    page.goto(f"{site}/f/contact/")
    page.fill("input[name=first_name]", "Vera")
    page.fill("input[name=last_name]", "Visitor")
    page.fill("input[name=email]", "vera@example.com")
    page.fill("input[name=company]", "Acme Presses")
    page.click("button[type=submit]")
    page.wait_for_url("**/thanks/**")

    lead = Lead.objects.get(person__email="vera@example.com")
    touches = Touch.objects.filter(person=lead.person).order_by("occurred_at")
    assert [t.channel for t in touches] == [Touch.Channel.VISIT] * 5 + [Touch.Channel.FORM]
    assert all(t.lead_id == lead.pk for t in touches)
    assert [t.note for t in touches[:5]] == [f"Press {n} {site}/shop/{n}/" for n in range(1, 6)]
    visitor.refresh_from_db()
    assert visitor.person_id == lead.person_id
    # The form fill (15) and the visits count, all together within the anonymous daily cap
    # (20 by default: REFINERY_ANONYMOUS_DAILY_POINTS).
    engagement = ScoreLog.objects.filter(lead=lead, axis="engagement")
    assert sorted(engagement.values_list("event_type", "delta")) == [
        ("form_fill", 15),
        ("page_visit", 2),
        ("page_visit", 3),
    ]


def test_do_not_track_is_respected(page, site, _playwright_browser):
    context = _playwright_browser.new_context(extra_http_headers={"DNT": "1"})
    other = context.new_page()
    other.goto(f"{site}/shop/1/")
    other.wait_for_load_state("networkidle")
    context.close()
    assert Visit.objects.count() == 0
