"""The public form at /f/<slug>/: what a visitor and a bot get, and what gets stored."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from leadrefinery.leads.models import IntakeRecord, Lead, WebForm
from tests.ui.conftest import CONTACT, HIDDEN_RE

pytestmark = pytest.mark.django_db


def counts() -> tuple[int, int]:
    return IntakeRecord.objects.count(), Lead.objects.count()


def test_the_form_page_renders_the_declared_fields_and_can_be_framed(db):
    response = Client().get("/f/contact/?utm_source=newsletter&utm_campaign=spring")
    html = response.content.decode()
    assert response.status_code == 200
    for name in ("first_name", "last_name", "email", "company", "message", "consent"):
        assert f'name="{name}"' in html
    assert "Send me occasional useful tips by email. Unsubscribe at any time." in html
    # The honeypot is there but out of sight and out of the tab order.
    assert 'name="website_confirm"' in html and 'tabindex="-1"' in html
    # UTM parameters of the page travel as hidden fields.
    assert 'name="utm_source" value="newsletter"' in html
    assert 'name="utm_campaign" value="spring"' in html
    # Embedded on other sites: no X-Frame-Options refusal.
    assert "X-Frame-Options" not in response.headers


def test_a_human_submission_becomes_a_lead_and_lands_on_the_thank_you_page(post_form):
    result = post_form("contact", {**CONTACT, "consent": "yes"}, query="?utm_source=newsletter")
    assert result.response.status_code == 302
    assert result.response["Location"] == "/f/contact/thanks/"
    record = IntakeRecord.objects.get()
    assert record.status == "processed" and record.channel == "form"
    assert record.ip == "127.0.0.1"
    lead = Lead.objects.select_related("person", "source").get()
    assert lead.person.email == "dana.whitfield@northwind.example"
    assert lead.source.name == "Website" and lead.utm_source == "newsletter"
    assert lead.person.consents.get().wording.startswith("Send me occasional useful tips")
    thanks = Client().get("/f/contact/thanks/")
    assert "We will be in touch shortly" in thanks.content.decode()


def test_the_form_owners_thank_you_url_is_where_people_go(post_form):
    WebForm.objects.filter(slug="contact").update(thank_you_url="https://example.com/thanks")
    result = post_form("contact", CONTACT)
    assert result.response.status_code == 302
    assert result.response["Location"] == "https://example.com/thanks"


def test_a_filled_honeypot_creates_nothing_but_looks_like_success(post_form):
    result = post_form("contact", {**CONTACT, "website_confirm": "http://spam.example"})
    assert result.response.status_code == 302
    assert result.response["Location"] == "/f/contact/thanks/"
    assert counts() == (0, 0)


def test_a_submit_faster_than_the_minimum_fill_time_creates_nothing(post_form):
    result = post_form("contact", CONTACT, wait=1)  # the contact form needs 3 seconds
    assert result.response["Location"] == "/f/contact/thanks/"
    assert counts() == (0, 0)


def test_a_missing_or_forged_time_trap_token_creates_nothing(post_form, frozen_now):
    client = Client()
    assert client.post("/f/contact/", CONTACT).status_code == 302
    forged = {**CONTACT, "refinery_started": "started:AAAA:forgedsignature"}
    assert client.post("/f/contact/", forged).status_code == 302
    assert counts() == (0, 0)


def test_a_token_from_another_form_does_not_count(post_form, frozen_now):
    other = WebForm.objects.get(slug="contact")
    other.pk, other.slug = None, "webinar"
    other.save()
    page = Client().get("/f/webinar/").content.decode()
    token = page.split('name="refinery_started" value="')[1].split('"')[0]
    frozen_now.advance(timedelta(seconds=10))
    response = Client().post("/f/contact/", {**CONTACT, "refinery_started": token})
    assert response.status_code == 302 and counts() == (0, 0)


def test_a_time_trap_token_is_good_for_one_submission(post_form):
    first = post_form("contact", CONTACT)
    assert first.response.status_code == 302
    token = dict(HIDDEN_RE.findall(first.get_response.content.decode()))["refinery_started"]
    replay = {**CONTACT, "email": "other@northwind.example", "refinery_started": token}

    second = Client().post("/f/contact/", {**replay, "website_confirm": ""})

    # Answered as the trap answers an expired token: nothing stored, the form again with the
    # values kept and a fresh token, so a person who meant to send twice can.
    html = second.content.decode()
    assert second.status_code == 400
    assert "This form was already sent from this page" in html
    assert 'value="other@northwind.example"' in html
    fresh = dict(HIDDEN_RE.findall(html))["refinery_started"]
    assert fresh != token
    assert counts() == (1, 1)


def test_a_page_left_open_for_over_a_week_asks_to_send_again(post_form):
    result = post_form("contact", CONTACT, wait=8 * 24 * 3600)
    html = result.response.content.decode()
    assert result.response.status_code == 400
    assert "This page was open for a long time" in html
    assert 'value="Northwind Traders"' in html  # kept, with a fresh token to send it again
    assert counts() == (0, 0)


def test_an_invalid_email_shows_the_error_keeps_the_values_and_stores_a_rejected_record(post_form):
    result = post_form("contact", {**CONTACT, "email": "dana@@northwind"})
    html = result.response.content.decode()
    assert result.response.status_code == 400
    assert "is not a valid email address" in html
    assert 'aria-invalid="true"' in html
    assert 'value="Northwind Traders"' in html  # nothing to type again
    record = IntakeRecord.objects.get()
    assert record.status == "rejected" and record.errors[0]["field"] == "email"
    assert Lead.objects.count() == 0


def test_missing_required_fields_are_asked_for_again(post_form):
    result = post_form("contact", {**CONTACT, "company": "", "last_name": ""})
    html = result.response.content.decode()
    assert result.response.status_code == 400
    assert html.count("Please fill this in.") == 2
    assert counts() == (0, 0)


def test_too_many_submissions_from_one_address_get_429(post_form, submit_inquiry, frozen_now):
    WebForm.objects.filter(slug="contact").update(rate_limit_per_hour=3)
    client = Client()
    for n in range(3):
        reply = post_form(
            "contact", {**CONTACT, "email": f"dana{n}@northwind.example"}, client=client
        )
        assert reply.response.status_code == 302
    blocked = post_form("contact", {**CONTACT, "email": "dana9@northwind.example"}, client=client)
    assert blocked.response.status_code == 429
    assert "Too many submissions" in blocked.response.content.decode()
    # The limit counts per clock hour: try again when the next one starts (09:00:20 now).
    assert blocked.response["Retry-After"] == str(3600 - 20)
    assert IntakeRecord.objects.count() == 3
    # Another address is not affected.
    other = post_form("contact", CONTACT, REMOTE_ADDR="203.0.113.7")
    assert other.response.status_code == 302
    # An hour later, the first address may send again.
    frozen_now.advance(timedelta(hours=1, minutes=1))
    again = post_form("contact", {**CONTACT, "email": "dana10@northwind.example"}, client=client)
    assert again.response.status_code == 302
    assert IntakeRecord.objects.count() == 5


def test_x_forwarded_for_is_not_trusted_for_the_rate_limit(post_form):
    WebForm.objects.filter(slug="contact").update(rate_limit_per_hour=1)
    post_form("contact", CONTACT, HTTP_X_FORWARDED_FOR="198.51.100.1")
    second = post_form(
        "contact", {**CONTACT, "email": "x@northwind.example"}, HTTP_X_FORWARDED_FOR="198.51.100.2"
    )
    assert second.response.status_code == 429
    assert IntakeRecord.objects.get().ip == "127.0.0.1"


def test_behind_a_trusted_proxy_the_address_it_saw_is_used(post_form, settings):
    settings.REFINERY_TRUSTED_PROXY_COUNT = 1
    WebForm.objects.filter(slug="contact").update(rate_limit_per_hour=1)
    # The client forged the first entry; the proxy appended the address it really saw.
    forged = "6.6.6.6, 198.51.100.1"
    first = post_form("contact", CONTACT, HTTP_X_FORWARDED_FOR=forged)
    assert first.response.status_code == 302
    assert IntakeRecord.objects.get().ip == "198.51.100.1"
    other = post_form(
        "contact", {**CONTACT, "email": "x@northwind.example"}, HTTP_X_FORWARDED_FOR="198.51.100.2"
    )
    assert other.response.status_code == 302  # another visitor, not the proxy's one bucket
    again = post_form(
        "contact", {**CONTACT, "email": "y@northwind.example"}, HTTP_X_FORWARDED_FOR=forged
    )
    assert again.response.status_code == 429


def test_unknown_and_inactive_forms_are_404(db):
    assert Client().get("/f/nope/").status_code == 404
    WebForm.objects.filter(slug="contact").update(active=False)
    assert Client().get("/f/contact/").status_code == 404
    assert Client().post("/f/contact/", CONTACT).status_code == 404
    assert Client().get("/f/contact/embed.js").status_code == 404


def test_embedded_mode_hides_the_page_chrome_and_stays_embedded(post_form):
    page = Client().get("/f/contact/?embed=1").content.decode()
    assert "data-embedded" in page and "<h1>Contact us</h1>" not in page
    assert 'action="/f/contact/?embed=1"' in page
    result = post_form("contact", CONTACT, query="?embed=1")
    assert result.response["Location"] == "/f/contact/thanks/?embed=1"


def test_the_embed_script_is_cacheable_javascript_that_frames_the_form(db):
    response = Client().get("/f/contact/embed.js")
    body = response.content.decode()
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert "max-age=300" in response["Cache-Control"]
    assert "document.currentScript" in body
    assert '"/f/contact/"' in body and "refinery-form-contact" in body
    assert "utm_source" in body and 'addEventListener("message"' in body


def test_a_form_post_with_a_nul_becomes_a_lead(post_form):
    result = post_form(
        "contact", {**CONTACT, "company": "North\x00wind", "message": "Hi\x00 there\x07"}
    )
    assert result.response.status_code == 302
    record = IntakeRecord.objects.get()
    assert record.status == "processed"
    assert record.payload["removed_control_characters"] >= 2
    lead = Lead.objects.select_related("person").get()
    assert lead.person.company_name == "Northwind"
    assert lead.message == "Hi there"
