"""The lead page's score panel and the admin's rule editor with its live preview."""

from __future__ import annotations

import pytest
from django.http import HttpRequest
from django.test import Client

from leadrefinery.leads.models import Lead
from leadrefinery.scoring import domain
from leadrefinery.scoring.models import ScoringRule
from leadrefinery.scoring.services import events_score
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    # The request is what the login form passes too (login throttling counts per address).
    assert client.login(request=HttpRequest(), username=user.username, password=PASSWORD)
    return client


def test_the_lead_page_shows_grade_engagement_temperature_and_reasons(users, make_lead):
    lead = make_lead(title="Plant Director", company="Acme")
    events_score(items=[(lead.pk, domain.Event(type="webinar", at=lead.received_at))])

    page = client_for(users.admin).get(f"/leads/{lead.pk}/").content.decode()

    assert 'id="score"' in page
    assert "fit <strong>C</strong> (35)" in page  # director 20 + company 15
    assert "Webinar attended" in page and "Senior title: director" in page
    assert "score-history-data" in page and "chart.umd.min.js" in page


def test_only_admins_edit_scoring_rules(users):
    assert client_for(users.rep).get("/scoring/rules/").status_code == 403
    page = client_for(users.admin).get("/scoring/rules/")
    assert page.status_code == 200 and "Hand-raiser" in page.content.decode()


def test_the_preview_counts_the_leads_a_change_would_move(users, make_lead):
    for n in range(3):
        make_lead(title="Plant Director", company=f"Acme {n}")
    make_lead(title="Student", company="")
    rule = ScoringRule.objects.get(name="Senior title: director")
    admin = client_for(users.admin)

    form = {
        "rule_id": rule.pk,
        "name": rule.name,
        "kind": "fit",
        "event_type": "",
        "points": 90,
        "order": rule.order,
        "active": "on",
        "conditions_json": '[{"field": "title", "op": "contains", "value": "director"}]',
    }
    preview = admin.post("/scoring/rules/preview/", form).content.decode()

    assert "would move 3 of 4 open leads" in preview
    assert ScoringRule.objects.get(pk=rule.pk).points == 20  # nothing changed

    saved = admin.post(f"/scoring/rules/{rule.pk}/", form)
    assert saved.status_code == 302
    assert ScoringRule.objects.get(pk=rule.pk).points == 90


def test_a_bad_condition_is_refused_with_a_message(users):
    admin = client_for(users.admin)
    response = admin.post(
        "/scoring/rules/new/",
        {
            "name": "Odd",
            "kind": "fit",
            "points": 5,
            "order": 1,
            "conditions_json": '[{"op": "like"}]',
        },
    )
    assert response.status_code == 400
    assert "unknown op" in response.content.decode()


def test_the_matrix_page_previews_and_saves(users, make_lead):
    make_lead(title="Plant Director", company="Acme")
    admin = client_for(users.admin)
    page = admin.get("/scoring/settings/")
    assert page.status_code == 200
    form = {k: v for k, v in page.context["form"].initial.items()}
    form.update({f"cell_{g}_{b}": "hot" for g in "ABCD" for b in ("low", "none")})
    preview = admin.post("/scoring/rules/preview/", {**form, "settings": "1"}).content.decode()
    assert "would move 1 of 1 open lead</strong> to another temperature (1 to hot" in preview
    assert Lead.objects.get().temperature != "hot"

    assert admin.post("/scoring/settings/", form).status_code == 302
    assert Lead.objects.get().temperature == "hot"
