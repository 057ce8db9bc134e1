"""In Chromium: every main page, its htmx partials, the public form (hosted and framed by a
customer's page through the embed script) run under the Content-Security-Policy without a
single violation (a blocked script or style would be a feature that silently stops working)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from leadrefinery.leads.models import WebForm
from leadrefinery.review import services as review_services
from tests.conftest import PASSWORD
from tests.ui.test_browser_navigation import (  # noqa: F401  (world: the pages' data)
    ADMIN,
    EVERYONE,
    MANAGING,
    MARKETING,
    MARKETING_EDIT,
    world,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Reported by the page itself too, in case a message does not reach the console.
WATCH = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error("CSP violation: " + e.violatedDirective + " blocked " + e.blockedURI +
                " on " + document.location.href);
});
"""
MORE = [
    "/dashboard",
    "/reports/",
    "/reports/costs",
    "/review/",
    "/admin/",
    "/admin/leads/importbatch/",
    "/import/",
    "/admin/leads/lead/",
    "/api/v1/docs",
]


def _watched(context) -> list[str]:
    context.add_init_script(WATCH)
    found: list[str] = []

    def console(message) -> None:
        text = message.text
        if "Content Security Policy" in text or "CSP violation" in text:
            found.append(text)

    context.on("console", console)
    context.on("weberror", lambda error: found.append(f"page error: {error.error}"))
    return found


def test_no_page_breaks_the_content_security_policy(
    _playwright_browser,
    live_server,
    users,
    world,  # noqa: F811
):
    context = _playwright_browser.new_context(viewport={"width": 1280, "height": 900})
    violations = _watched(context)
    page = context.new_page()
    base = live_server.url
    first = page.goto(f"{base}/login/")
    assert first is not None
    policy = first.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    page.fill("input[name=username]", users.admin.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/leads/**")

    review = review_services.review_open(team=users.manager.team, actor=users.manager)
    paths = [p.format(**world) for p in EVERYONE + MARKETING + MARKETING_EDIT + MANAGING + ADMIN]
    paths += [*MORE, f"/review/{review.pk}/", f"/review/{review.pk}/?print=1"]
    page.goto(f"{base}/reports/")
    paths += sorted(
        {
            href
            for href in page.eval_on_selector_all(
                "main a[href^='/reports/']", "els => els.map(e => e.getAttribute('href'))"
            )
            if not href.endswith((".csv", ".json"))
        }
    )
    visited = []
    for path in dict.fromkeys(paths):
        response = page.goto(f"{base}{path}")
        assert response is not None and response.status == 200, path
        page.wait_for_load_state("load")
        visited.append(path)
    assert len(visited) > 40

    # htmx partials: the lead list filters as one types, a lead action swaps the lead page.
    page.goto(f"{base}/leads/")
    with page.expect_response(re.compile(r"/leads/\?")):
        page.fill("#id_q", "Northwind")
    expect(page.locator("#lead-table")).to_contain_text("Northwind")
    page.goto(f"{base}/leads/{world['lead']}/")
    with page.expect_response(re.compile(r"/actions/|/action/|/touch")):
        page.locator("#action-touch button[type=submit]").click()
    page.wait_for_timeout(300)
    context.close()
    assert not violations, violations


def test_the_public_form_and_its_embed_run_under_both_sites_policies(
    _playwright_browser, live_server, partner_site, db
):
    WebForm.objects.filter(slug="contact").update(min_fill_seconds=0)
    context = _playwright_browser.new_context()
    violations = _watched(context)
    page = context.new_page()
    hosted = page.goto(f"{live_server.url}/f/contact/")
    assert hosted is not None
    assert "frame-ancestors *" in hosted.headers["content-security-policy"]
    page.goto(f"{live_server.url}/forms/")  # redirects to the login page: a page of the app
    # A customer whose own page has a strict policy: the embed needs no inline script.
    site = partner_site(
        f"""<!doctype html><html><head>
        <meta http-equiv="Content-Security-Policy"
              content="default-src 'self'; script-src {live_server.url}; frame-src {live_server.url}">
        </head><body>
        <h1>Partner pricing page</h1>
        <div id="refinery-form-contact"></div>
        <script src="{live_server.url}/f/contact/embed.js" async></script>
        </body></html>"""
    )
    page.goto(f"{site}/pricing")
    page.wait_for_function(
        "() => { const f = document.querySelector('#refinery-form-contact iframe');"
        " return f && f.style.height !== '640px'; }"
    )
    form = page.frame_locator("#refinery-form-contact iframe")
    expect(form.get_by_role("button", name="Send")).to_be_visible()
    context.close()
    assert not violations, violations
