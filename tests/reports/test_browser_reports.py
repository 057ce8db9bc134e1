"""In Chromium: a manager opens the dashboard from the menu, follows a card into a report,
switches report, and each chart is drawn on its canvas; a period without leads says "No data
for these filters" instead of an empty frame; no page logs a console error."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect

from leadrefinery.reports.catalog import REPORTS
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = os.environ.get("REFINERY_SHOTS", "")  # a folder: save the pages as pictures to look at

# Pixels of the canvas that are not transparent: Chart.js has drawn axes, bars and lines.
DRAWN_PIXELS = """(canvas) => {
  const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let inked = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] > 0) inked++;
  return inked;
}"""


def watch_console(page) -> list[str]:
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return problems


def expect_chart_drawn(page) -> None:
    canvas = page.locator("#report-canvas")
    expect(canvas).to_have_attribute("data-drawn", "true")
    assert canvas.bounding_box()["height"] > 200
    assert canvas.evaluate(DRAWN_PIXELS) > 1000
    expect(page.locator(".chart-empty")).to_be_hidden()


def test_a_manager_reads_the_dashboard_and_two_reports(page, live_server, login, users, world):
    problems = watch_console(page)
    login(users.manager)
    page.locator("#site-menu").get_by_role("link", name="Reports", exact=True).click()
    page.wait_for_url(f"{live_server.url}/dashboard")

    expect(page.locator("h1")).to_have_text("Dashboard")
    expect(page.locator(".report-card")).to_have_count(len(REPORTS))
    funnel_card = page.locator(".report-card", has_text="Funnel").first
    expect(funnel_card).to_contain_text("Leads")
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/dashboard.png", full_page=True)

    funnel_card.get_by_role("link", name="Open the report").click()
    page.wait_for_url(f"{live_server.url}/reports/funnel")
    expect(page.locator("h1")).to_have_text("Funnel")
    expect_chart_drawn(page)
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/funnel.png", full_page=True)

    page.locator(".report-tabs").get_by_role("link", name="Follow-up rate").click()
    page.wait_for_url(f"{live_server.url}/reports/follow-up")
    expect_chart_drawn(page)
    expect(page.locator(".report-table tbody tr")).to_have_count(2)  # Ron and Rita, East
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/follow-up.png", full_page=True)

    # A period without leads: the chart box says so, and nothing breaks.
    page.fill("#filter-from", "2025-01")
    page.fill("#filter-to", "2025-02")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**/reports/follow-up?from=2025-01&to=2025-02**")
    expect(page.locator(".chart-empty")).to_have_text("No data for these filters")
    expect(page.locator(".chart-empty")).to_be_visible()
    expect(page.locator("#report-canvas")).to_have_count(0)

    assert problems == []


def test_the_report_pages_fit_a_phone(_playwright_browser, live_server, users, world):
    context = _playwright_browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    problems = watch_console(page)
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", users.marketer.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/leads/**")
    too_wide = []
    for path in ("/dashboard", "/reports/", "/reports/source-roi", "/reports/dispositions",
                 "/reports/costs"):  # fmt: skip
        assert page.goto(f"{live_server.url}{path}").status == 200
        page.wait_for_load_state("load")
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 390:
            too_wide.append(f"{path}: {width} px")
    context.close()
    assert too_wide == []
    assert problems == []
