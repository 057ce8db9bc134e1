"""In Chromium: a visitor's form fill reaches the admin's lead list; bots create nothing."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from leadrefinery.leads.models import IntakeRecord, Lead, WebForm

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def fill_contact(frame, *, email: str = "dana.whitfield@northwind.example") -> None:
    frame.get_by_label("First name").fill("Dana")
    frame.get_by_label("Last name").fill("Whitfield")
    frame.get_by_label("Work email").fill(email)
    frame.get_by_label("Company").fill("Northwind Traders")
    frame.get_by_label("How can we help?").fill("We need 40 seats before the end of the quarter.")


def test_a_visitors_inquiry_shows_up_in_the_admins_list_with_its_timeline(
    page, live_server, login, users
):
    WebForm.objects.filter(slug="contact").update(min_fill_seconds=1)
    page.goto(f"{live_server.url}/f/contact/?utm_source=newsletter")
    fill_contact(page)
    page.get_by_label("Send me occasional useful tips").check()
    page.wait_for_timeout(1200)  # a person takes longer than the form's minimum fill time
    page.get_by_role("button", name="Send").click()
    page.wait_for_url(f"{live_server.url}/f/contact/thanks/")
    expect(page.get_by_text("Thank you. We will be in touch shortly.")).to_be_visible()

    login(users.admin)
    row = page.get_by_role("row").filter(has_text="Dana Whitfield")
    expect(row).to_contain_text("Northwind Traders")
    expect(row).to_contain_text("Inquiry")
    expect(row).to_contain_text("Queue: Unassigned")
    expect(row).to_contain_text("Website")
    row.get_by_role("link", name="Dana Whitfield").click()
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("New inquiry via web form (Website)")
    expect(page.locator("body")).to_contain_text("source=newsletter")
    expect(page.locator("body")).to_contain_text("We need 40 seats")


def test_the_honeypot_is_out_of_sight_and_a_bot_filling_it_creates_nothing(page, live_server):
    WebForm.objects.filter(slug="contact").update(min_fill_seconds=1)
    page.goto(f"{live_server.url}/f/contact/")
    honeypot = page.locator("input[name=website_confirm]")
    box = honeypot.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 0  # off screen for people
    fill_contact(page)
    honeypot.evaluate("el => { el.value = 'http://cheap-pills.example' }")  # as a bot does
    page.wait_for_timeout(1200)
    page.get_by_role("button", name="Send").click()
    page.wait_for_url(f"{live_server.url}/f/contact/thanks/")  # looks like success
    assert (IntakeRecord.objects.count(), Lead.objects.count()) == (0, 0)


def test_a_submit_faster_than_the_minimum_fill_time_creates_nothing(page, live_server):
    WebForm.objects.filter(slug="contact").update(min_fill_seconds=60)
    page.goto(f"{live_server.url}/f/contact/")
    fill_contact(page)
    page.get_by_role("button", name="Send").click()
    page.wait_for_url(f"{live_server.url}/f/contact/thanks/")
    assert (IntakeRecord.objects.count(), Lead.objects.count()) == (0, 0)


def test_the_embed_snippet_puts_the_form_on_another_site(page, live_server, partner_site):
    WebForm.objects.filter(slug="contact").update(min_fill_seconds=1)
    site = partner_site(
        f"""<!doctype html><html><body>
        <h1>Partner pricing page</h1>
        <div id="refinery-form-contact"></div>
        <script src="{live_server.url}/f/contact/embed.js" async></script>
        <footer>Footer of the partner site</footer>
        </body></html>"""
    )
    assert not site.startswith(live_server.url)  # another origin
    page.goto(f"{site}/pricing?utm_source=partner&utm_campaign=spring")
    frame_element = page.locator("#refinery-form-contact iframe")
    expect(frame_element).to_have_count(1)
    # The form reports its height and the frame grows to fit it.
    page.wait_for_function(
        "() => { const f = document.querySelector('#refinery-form-contact iframe');"
        " return f && f.style.height !== '640px'; }"
    )
    form = page.frame_locator("#refinery-form-contact iframe")
    expect(form.get_by_role("heading", name="Contact us")).to_have_count(0)  # no site chrome
    fill_contact(form, email="embed.buyer@northwind.example")
    page.wait_for_timeout(1200)
    form.get_by_role("button", name="Send").click()
    expect(form.get_by_text("We will be in touch shortly")).to_be_visible()
    lead = Lead.objects.get(person__email="embed.buyer@northwind.example")
    assert (lead.utm_source, lead.utm_campaign) == ("partner", "spring")
    assert lead.source.name == "Website"
