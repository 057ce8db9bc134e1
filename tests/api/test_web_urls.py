"""Only http(s) web addresses are kept: a `javascript:` website is a field error through the
API and the forms, dropped with a warning by an import, and never rendered as a link, even
when it was stored before this check."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from leadrefinery.intake.importing import import_csv
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import Person, WebForm

pytestmark = pytest.mark.django_db
BAD = [
    "javascript:alert(document.cookie)",
    "JaVa\tScript:alert(1)",
    "data:text/html,<b>x",
    "ftp://x",
]


@pytest.mark.parametrize("website", BAD)
def test_the_api_refuses_a_website_that_is_not_http(users, api_as, website):
    client = api_as(users.admin, ["inquiries:write"])
    response = client.post("/inquiries", {"email": "ann@example.com", "website": website})
    assert response.status_code == 422, response.content
    item = next(i for i in response.json()["detail"] if i["loc"][-1] == "website")
    assert "http:// or https://" in item["msg"]
    assert not Person.objects.exists()


def test_the_api_keeps_http_addresses_and_completes_bare_ones(users, api_as):
    client = api_as(users.admin, ["inquiries:write"])
    assert (
        client.post("/inquiries", {"email": "a@x.com", "website": "www.x.com"}).status_code == 201
    )
    assert Person.objects.get().website == "https://www.x.com"


def test_an_import_drops_a_bad_website_with_a_warning_and_keeps_the_row(tmp_path):
    path = tmp_path / "list.csv"
    path.write_text(
        "Email,Website\nann@example.com,javascript:alert(1)\nbob@example.com,bob.example\n",
        encoding="utf-8",
    )
    report = import_csv(path, source_name="Expo", actor=Actor.system("import"))
    assert report.imported == 2 and report.rejected == 0
    assert [(w.row, w.column) for w in report.warnings] == [(2, "Website")]
    assert "website dropped" in report.warnings[0].message
    assert Person.objects.get(email="ann@example.com").website == ""
    assert Person.objects.get(email="bob@example.com").website == "https://bob.example"


def test_a_stored_javascript_website_is_shown_as_text_not_a_link(users, make_lead):
    lead = make_lead(email="eve@example.com", website="https://eve.example")
    client = Client()
    client.force_login(users.admin)
    page = client.get(f"/leads/{lead.pk}/").content.decode()
    assert '<a href="https://eve.example"' in page
    Person.objects.filter(pk=lead.person_id).update(website="javascript:alert(1)")  # old data
    page = client.get(f"/leads/{lead.pk}/").content.decode()
    assert "javascript:alert(1)" in page  # shown, as text
    assert 'href="javascript:' not in page


def test_a_form_thank_you_page_must_be_http(users):
    client = Client()
    client.force_login(users.admin)
    form = WebForm.objects.get(slug="contact")
    url = f"/admin/leads/webform/{form.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    data = {
        key: value
        for key, value in page.context["adminform"].form.initial.items()
        if value is not None and not isinstance(value, list | dict)
    }
    data.update(
        name=form.name,
        slug=form.slug,
        source=form.source_id,
        fields=json.dumps(form.fields or []),
        thank_you_url="javascript:alert(1)",
    )
    response = client.post(url, data)
    assert response.status_code == 200  # the form again, with the error
    assert "The thank-you page must be an http:// or https:// address" in response.content.decode()
    form.refresh_from_db()
    assert form.thank_you_url == ""
