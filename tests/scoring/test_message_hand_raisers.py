"""A hand-raise written in the message ("please send pricing", "we need a demo") makes the
lead hot, through the real intake (API and public form), with the words found shown as the
reason on the lead page; admins edit the words on the scoring rules page."""

from __future__ import annotations

import html

import pytest

from leadrefinery.leads.models import Lead
from leadrefinery.scoring.models import ScoringRule
from tests.api.conftest import ApiClient
from tests.ui.conftest import CONTACT

pytestmark = pytest.mark.django_db


def _inquiry(api: ApiClient, message: str, email: str) -> Lead:
    response = api.post(
        "/inquiries",
        {
            "email": email,
            "first_name": "Ana",
            "last_name": "Lind",
            "company": "Lind AB",
            "message": message,
        },
    )
    assert response.status_code in (200, 201, 202), response.content
    return Lead.objects.get(person__email=email)


def _lead_page(client, lead: Lead) -> str:
    return html.unescape(client.get(f"/leads/{lead.pk}/").content.decode())


def test_pricing_asked_in_an_api_inquiry_makes_a_hot_hand_raiser(
    users, token_for, client_for, frozen_now
):
    api = ApiClient(token_for(users.admin))
    lead = _inquiry(api, "Hi there -- could you please send PRICING?! Thanks.", "ana@lind.example")
    assert lead.temperature == "hot"
    page = _lead_page(client_for(users.admin), lead)
    assert "Hand-raiser" in page
    assert "Asks for pricing in the message: message mentions 'pricing'" in page


def test_a_second_inquiry_asking_for_pricing_makes_the_open_lead_hot(
    users, token_for, client_for, frozen_now
):
    """The hand is raised on the open lead the inquiry joins: hot, with the words as the
    reason, and no second lead."""
    api = ApiClient(token_for(users.admin))
    lead = _inquiry(api, "Just browsing your catalogue.", "ana@lind.example")
    assert lead.temperature != "hot"
    again = _inquiry(api, "OK, we need a demo next week.", "ana@lind.example")
    assert again.pk == lead.pk and Lead.objects.filter(person=lead.person).count() == 1
    assert again.temperature == "hot"
    assert "message mentions 'demo'" in _lead_page(client_for(users.admin), again)


def test_a_demo_asked_in_the_contact_form_makes_a_hot_hand_raiser(
    users, post_form, client_for, frozen_now
):
    message = "We need a Démo, ASAP. (Our team: 40 people.)"
    result = post_form("contact", {**CONTACT, "message": message})
    assert result.response.status_code in (200, 302)
    lead = Lead.objects.get(person__email=CONTACT["email"])
    assert lead.temperature == "hot"
    assert "message mentions 'demo'" in _lead_page(client_for(users.admin), lead)


@pytest.mark.parametrize(
    "message",
    [
        "Our demographics are changing; we want to cut our pricey shipping.",
        "We trialled a competitor last year.",
        "",
    ],
)
def test_words_inside_other_words_do_not_count(users, token_for, message, frozen_now):
    lead = _inquiry(ApiClient(token_for(users.admin)), message, "cold@lind.example")
    assert lead.temperature != "hot"


def test_an_admin_adds_message_words_on_the_rules_page(users, token_for, client_for, frozen_now):
    admin = client_for(users.admin)
    form = admin.get("/scoring/rules/new/").content.decode()
    assert "Message contains any of" in form
    saved = admin.post(
        "/scoring/rules/new/",
        {
            "name": "Asks for a call back",
            "kind": "hand_raiser",
            "points": 0,
            "order": 300,
            "active": "on",
            "message_words": "call me back\nring me, phone me",
            "conditions_json": "[]",
        },
    )
    assert saved.status_code == 302, saved.content.decode()[:2000]
    rule = ScoringRule.objects.get(name="Asks for a call back")
    assert rule.conditions == [
        {"field": "message", "op": "contains_any", "value": ["call me back", "ring me", "phone me"]}
    ]
    # The page shows the words as words when the rule is opened again.
    edit = html.unescape(admin.get(f"/scoring/rules/{rule.pk}/").content.decode())
    assert "call me back\nring me\nphone me" in edit

    lead = _inquiry(
        ApiClient(token_for(users.admin)), "Please CALL me -- back, after 3pm.", "cb@lind.example"
    )
    assert lead.temperature == "hot"
    assert "message mentions 'call me back'" in _lead_page(admin, lead)
