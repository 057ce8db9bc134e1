"""In Chromium: every page fits a 390 px phone screen (no sideways scrolling) for each role,
no page asks for something missing (no 404 such as /favicon.ico), the menu folds behind a
"Menu" button on phones, and each role's navigation reaches its pages (cadences, SLA
policies, queues for managers and admins)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from leadrefinery.cadences.models import CadenceTemplate
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.services import lead_assign
from leadrefinery.nurture import services as nurture
from leadrefinery.routing.models import RoutingRule
from leadrefinery.scoring.models import ScoringRule
from leadrefinery.sla.models import SlaPolicy
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}

EVERYONE = ["/leads/", "/leads/{lead}/", "/today/", "/duplicates/", "/routing/team/", "/forms/"]
MARKETING = [
    "/nurture/",
    "/nurture/programs/{program}/",
    "/nurture/pipeline/",
    "/nurture/messages/{message}/preview/",
]
MARKETING_EDIT = [
    "/nurture/programs/new/",
    "/nurture/programs/{program}/edit/",
    "/nurture/messages/new/",
]
MANAGING = [
    "/queues/",
    "/routing/",
    "/routing/{rule}/",
    "/routing/new/",
    "/sla/",
    "/sla/{policy}/",
    "/sla/new/",
]
ADMIN = [
    "/cadences/",
    "/cadences/{cadence}/",
    "/cadences/new/",
    "/scoring/rules/",
    "/scoring/rules/{scoring_rule}/",
    "/scoring/rules/new/",
    "/scoring/settings/",
    "/webhooks/",
    "/routing/team/rita/deactivate/",
]


@pytest.fixture
def world(users, make_lead):
    """Enough data that every page has rows to lay out, with long names and addresses."""
    system = Actor.system("test")
    lead = make_lead(
        first_name="Maximiliane",
        last_name="Oberhausen-Wittgenstein",
        email="maximiliane.oberhausen-wittgenstein@industrieanlagen-nordrhein.example",
        company="Industrieanlagen Nordrhein-Westfalen Beteiligungsgesellschaft mbH",
        title="Leiterin Beschaffung und Lieferantenmanagement",
        need="Replace three spreadsheets and two legacy systems with one shared CRM",
    )
    lead_assign(lead=lead, owner_user=users.rep, actor=system)
    for n in range(3):
        lead_assign(lead=make_lead(company=f"Northwind {n}"), owner_user=users.rep, actor=system)
    message = nurture.message_create(
        name="Tip: answer within the hour", subject="Answer within the hour", body_markdown="Hi"
    )
    program = nurture.program_create(
        name="Operations leaders, every two weeks",
        steps=[nurture.StepSpec(message.pk)],
        entry_rules=["recycled", "lost_no_decision"],
    )
    rule = RoutingRule.objects.filter(is_fallback=True).get()
    return {
        "lead": lead.pk,
        "program": program.pk,
        "message": message.pk,
        "rule": rule.pk,
        "policy": SlaPolicy.objects.first().pk,
        "cadence": CadenceTemplate.objects.first().pk,
        "scoring_rule": ScoringRule.objects.first().pk,
    }


def phone_page(browser, live_server, user):
    context = browser.new_context(viewport=PHONE)
    context.set_default_timeout(15000)
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/leads/**")
    return context, page


@pytest.mark.parametrize(
    "role, paths",
    [
        ("rep", EVERYONE),
        ("marketer", EVERYONE + MARKETING + MARKETING_EDIT),
        ("manager", EVERYONE + MARKETING + MANAGING),
        ("admin", EVERYONE + MARKETING + MARKETING_EDIT + MANAGING + ADMIN),
    ],
)
def test_every_page_fits_a_phone_for_each_role(
    _playwright_browser, live_server, users, world, role, paths
):
    user = getattr(users, role)
    context, page = phone_page(_playwright_browser, live_server, user)
    missing: list[str] = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    problems = []
    for template in paths:
        path = template.format(**world)
        response = page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("load")
        if response is None or response.status != 200:
            problems.append(f"{path}: HTTP {response.status if response else '?'}")
            continue
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            problems.append(f"{path}: {width} px wide")
    context.close()
    assert not problems, problems
    assert not missing, missing


def test_the_login_page_and_the_public_form_fit_a_phone(_playwright_browser, live_server, db):
    context = _playwright_browser.new_context(viewport=PHONE)
    page = context.new_page()
    missing: list[str] = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    for path in ("/login/", "/f/contact/"):
        assert page.goto(f"{live_server.url}{path}").status == 200
        page.wait_for_load_state("load")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], path
    context.close()
    assert not missing, missing


def test_the_phone_menu_folds_and_reaches_every_section(_playwright_browser, live_server, users):
    context, page = phone_page(_playwright_browser, live_server, users.manager)
    log_out = page.get_by_role("button", name="Log out")
    expect(log_out).to_be_hidden()  # folded away: nothing sticks out of the screen
    page.get_by_text("Menu", exact=True).click()
    expect(log_out).to_be_visible()
    box = log_out.bounding_box()
    assert box is not None and box["x"] + box["width"] <= PHONE["width"]
    menu = page.locator("#site-menu")
    expect(menu.get_by_role("link", name="Queues")).to_be_visible()
    menu.get_by_text("Settings").click()
    menu.get_by_role("link", name="SLA policies").click()
    page.wait_for_url(f"{live_server.url}/sla/")
    expect(page.locator("h1")).to_have_text("SLA policies")
    context.close()


@pytest.mark.parametrize("width", [1024, 1280])
def test_the_desktop_navigation_reaches_every_section_by_role(
    _playwright_browser, live_server, users, width
):
    expected = {
        "rep": ({"Leads", "Today", "Team", "Duplicates", "Forms"}, set()),
        "marketer": ({"Nurture"}, set()),
        "manager": ({"Queues", "Nurture"}, {"Routing rules", "SLA policies"}),
        "admin": (
            {"Queues", "Nurture"},
            {"Routing rules", "SLA policies", "Cadences", "Scoring", "Webhooks"},
        ),
    }
    for role, (links, settings) in expected.items():
        context = _playwright_browser.new_context(viewport={"width": width, "height": 800})
        page = context.new_page()
        page.goto(f"{live_server.url}/login/")
        page.fill("input[name=username]", getattr(users, role).username)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/leads/**")
        nav = page.locator("#site-menu")
        for name in links:
            expect(nav.get_by_role("link", name=name, exact=True)).to_be_visible()
        if settings:
            nav.get_by_text("Settings").click()
            for name in settings:
                expect(nav.get_by_role("link", name=name, exact=True)).to_be_visible()
        else:
            expect(nav.get_by_text("Settings")).to_have_count(0)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        expect(page.get_by_role("button", name="Log out")).to_be_in_viewport()
        context.close()
