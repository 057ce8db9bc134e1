"""The review queue page: side by side, differences marked, reasons shown; merge or keep
separate in one click (in Chromium), and the lead page points at possible duplicates."""

from __future__ import annotations

import pytest
from django.http import HttpRequest
from django.test import Client

from leadrefinery.dedupe.models import DuplicatePair
from leadrefinery.leads.models import Lead, Person
from tests.conftest import PASSWORD

BOB = dict(email="bob@acme.example", first_name="Bob", last_name="Smith", company="Acme, Inc.")
ROBERT = dict(
    email="robert.smith@acme.example",
    first_name="Robert",
    last_name="Smith",
    company="ACME Incorporated",
    title="Buyer",
)


def _logged_in(user) -> Client:
    client = Client()
    # The request is what the login form passes too (login throttling counts per address).
    assert client.login(request=HttpRequest(), username=user.username, password=PASSWORD)
    return client


@pytest.mark.django_db
def test_the_queue_shows_the_pair_side_by_side_and_the_lead_page_links_to_it(make_lead, users):
    bob = make_lead(**BOB)
    make_lead(**ROBERT)
    html = _logged_in(users.admin).get("/duplicates/").content.decode()
    assert "1 pair to review" in html
    assert "<mark>Bob</mark>" in html and "<mark>Robert</mark>" in html, "differences marked"
    assert "+4 first names agree" in html
    assert 'href="/duplicates/"' in html  # the nav link
    lead_page = _logged_in(users.admin).get(f"/leads/{bob.pk}/").content.decode()
    assert "Possible duplicates" in lead_page and "Robert Smith" in lead_page
    # A rep who sees neither lead sees no pair.
    assert "Nothing to review" in _logged_in(users.rep).get("/duplicates/").content.decode()


@pytest.mark.django_db
def test_keep_separate_without_javascript(make_lead, users):
    make_lead(**BOB)
    make_lead(**ROBERT)
    pair = DuplicatePair.objects.get()
    response = _logged_in(users.manager).post(f"/duplicates/{pair.pk}/dismiss/", follow=True)
    assert response.status_code == 404, "the manager sees neither unassigned lead"
    response = _logged_in(users.admin).post(f"/duplicates/{pair.pk}/dismiss/", follow=True)
    assert "will not be proposed again" in response.content.decode()
    pair.refresh_from_db()
    assert pair.status == "dismissed" and pair.decided_by == users.admin


@pytest.mark.django_db
def test_a_manager_sees_the_pairs_of_their_team_and_a_rep_with_one_side_may_not_decide(
    make_lead, users
):
    from leadrefinery.leads.actors import Actor
    from leadrefinery.leads.services import lead_assign

    bob = make_lead(**BOB)
    make_lead(**ROBERT)  # stays in the unassigned queue
    pair = DuplicatePair.objects.get()
    lead_assign(lead=bob, owner_user=users.rep, actor=Actor.system("t"))
    manager_page = _logged_in(users.manager).get("/duplicates/").content.decode()
    assert "1 pair to review" in manager_page, "the pair touches the manager's team"
    assert "Bob Smith and Robert Smith" in manager_page
    rep = _logged_in(users.rep)
    rep_page = rep.get("/duplicates/").content.decode()
    assert "1 pair to review" in rep_page and 'data-test="cannot-act"' in rep_page
    assert ">Merge<" not in rep_page
    assert rep.post(f"/duplicates/{pair.pk}/merge/", {"survivor": "a"}).status_code == 404
    assert Person.objects.count() == 2, "nothing merged"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_reviewer_merges_in_one_click_choosing_a_value(
    page, live_server, login, users, make_lead
):
    from playwright.sync_api import expect

    bob_lead = make_lead(**BOB)
    make_lead(**ROBERT)
    login(users.admin)
    page.get_by_role("link", name="Duplicates").click()
    card = page.locator("article.duplicate-pair")
    expect(card).to_contain_text("Bob Smith and Robert Smith")
    page.wait_for_load_state("load")  # the new page's htmx (deferred) has bound the forms
    expect(card.locator("tr.differs[data-field=first_name] mark")).to_have_count(2)
    card.get_by_label("Keep B's email").check()
    card.get_by_role("button", name="Merge", exact=True).click()
    expect(page.locator("article.duplicate-pair")).to_contain_text("Merged Robert Smith")
    bob = Person.objects.get(pk=bob_lead.person_id)
    assert bob.email == "robert.smith@acme.example" and bob.title == "Buyer"
    assert Person.objects.get(first_name="Robert").status == "merged"
    assert Lead.objects.filter(person=bob).count() == 2
    page.goto(f"{live_server.url}/duplicates/")
    expect(page.locator("main")).to_contain_text("Nothing to review")


@pytest.mark.django_db
def test_the_queue_says_which_match_weights_score_the_pairs(make_lead, users):
    from datetime import UTC, datetime

    from django.utils.timezone import localtime

    from leadrefinery.dedupe.models import MatchModel
    from leadrefinery.dedupe.weights import default

    make_lead(**BOB)
    make_lead(**ROBERT)
    client = _logged_in(users.admin)
    assert "Scores use the hand-set match weights" in client.get("/duplicates/").content.decode()
    hand = default()
    model = MatchModel.objects.create(
        created_at=datetime(2026, 12, 6, 18, 5, tzinfo=UTC), created_by="dedupe-train",
        prior=hand.prior, weights=hand.stored(), details={}, people=12345, blocked_pairs=400,
        random_pairs=50000, matches=120.0, iterations=12, converged=True,
    )  # fmt: skip
    html = client.get("/duplicates/").content.decode()
    assert (
        f"Scores use match weights learnt from 12,345 of your people on 6 Dec 2026, "
        f"{localtime(model.created_at).strftime('%H:%M')} (match model {model.pk})"
    ) in html
