"""The lead page's privacy panel: an admin downloads the person's data and erases it after a
confirmation with a reason; nobody else sees the panel, and their requests get 404."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import expect

from leadrefinery.leads.models import Person
from leadrefinery.privacy.models import PrivacyEvent


@pytest.fixture
def grace(make_lead):
    return make_lead(
        email="grace.jones@example.com", first_name="Grace", last_name="Jones", message="Call me"
    )


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_an_admin_erases_a_person_from_the_lead_page(page, live_server, login, users, grace):
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    login(users.admin)
    page.goto(f"{live_server.url}/leads/{grace.pk}/")
    panel = page.locator("#privacy")
    expect(panel).to_contain_text("Download their data (JSON)")
    with page.expect_download() as download:
        panel.get_by_role("link", name="Download their data (JSON)").click()
    document = json.loads(Path(download.value.path()).read_text())
    assert document["tables"]["leads.Person"][0]["email"] == "grace.jones@example.com"

    panel.get_by_role("button", name="Erase this person's data…").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Erase Grace Jones's data")
    page.get_by_role("button", name="Erase for good").click()
    # Nothing happens without a reason and the confirmation box.
    expect(page.locator("#privacy-erase-form")).to_be_visible()
    assert Person.objects.get(pk=grace.person_id).email == "grace.jones@example.com"

    page.get_by_label("Why").fill("GDPR request, ticket 4411")
    page.get_by_label("I understand this cannot be undone.").check()
    page.get_by_role("button", name="Erase for good").click()
    page.wait_for_url(f"{live_server.url}/leads/{grace.pk}/")
    expect(page.locator("#lead-main")).to_contain_text("Personal data erased")
    expect(page.locator("h1")).to_have_text(f"Person {grace.person_id}")
    expect(page.locator("#lead-main")).not_to_contain_text("grace.jones@example.com")
    assert PrivacyEvent.objects.get(kind="erase").actor == users.admin
    assert errors == []


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["manager", "rep", "marketer"])
def test_others_do_not_see_the_panel_and_get_404(who, users, client_for, grace):
    from leadrefinery.leads.actors import Actor
    from leadrefinery.leads.services import lead_assign

    lead_assign(lead=grace, owner_user=users.rep, actor=Actor.system("test"))
    client = client_for(getattr(users, who))
    page = client.get(f"/leads/{grace.pk}/")
    if page.status_code == 200:
        assert "Erase this person" not in page.content.decode()
        assert "Download their data" not in page.content.decode()
    erase = f"/privacy/people/{grace.person_id}/erase/"
    assert client.get(erase).status_code == 404
    assert client.post(erase, {"reason": "x", "confirm": "on"}).status_code == 404
    assert client.get(f"/privacy/people/{grace.person_id}/export.json").status_code == 404
    assert Person.objects.get(pk=grace.person_id).email == "grace.jones@example.com"
    assert not PrivacyEvent.objects.exists()
