"""/leads/: who sees what, the filters, and a query count that does not grow with the list."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import Queue, Source
from leadrefinery.leads.services import lead_assign, lead_dispose, lead_set_next_action

pytestmark = pytest.mark.django_db


def names(response) -> set[str]:
    html = response.content.decode()
    return {n for n in ("Eastman", "Ishikawa", "Westfall", "Quist") if n in html}


def test_anonymous_visitors_are_sent_to_the_login_page(db):
    response = Client().get("/leads/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/leads/"


def test_a_rep_sees_only_their_own_leads(owned, users, client_for):
    assert names(client_for(users.rep).get("/leads/")) == {"Eastman"}


def test_a_manager_sees_the_team_and_an_admin_sees_everyone(owned, users, client_for):
    assert names(client_for(users.manager).get("/leads/")) == {"Eastman", "Ishikawa"}
    assert names(client_for(users.admin).get("/leads/")) == {
        "Eastman",
        "Ishikawa",
        "Westfall",
        "Quist",
    }


def test_the_list_shows_owner_stage_next_action_and_source(owned, users, client_for):
    html = client_for(users.admin).get("/leads/").content.decode()
    assert "Ron Rep" in html and "Queue: Unassigned" in html
    assert "Acme Tools" in html and "Inquiry" in html and "Qualify the inquiry" in html
    # The stage's written definition is one hover away.
    assert "An inbound response that nobody has qualified yet." in html


def test_filters_by_owner_stage_source_and_text(owned, users, client_for, make_lead):
    client = client_for(users.admin)
    assert names(client.get("/leads/", {"owner": f"u{users.rep2.pk}"})) == {"Ishikawa"}
    unassigned = Queue.objects.get(slug="unassigned")
    assert names(client.get("/leads/", {"owner": f"q{unassigned.pk}"})) == {"Quist"}
    assert names(client.get("/leads/", {"q": "birch"})) == {"Ishikawa"}
    assert names(client.get("/leads/", {"q": "wendy westfall"})) == {"Westfall"}
    assert names(client.get("/leads/", {"q": "wendy acme"})) == set()

    lead_dispose(lead=owned.walt, reason_code="dq_spam", actor=Actor.system("test"))
    assert "Westfall" not in names(client.get("/leads/"))  # open leads by default
    assert names(client.get("/leads/", {"stage": "disqualified"})) == {"Westfall"}
    assert "Westfall" in names(client.get("/leads/", {"stage": "all"}))

    fair = Source.objects.create(name="Trade show Berlin", channel="trade_show")
    lead = make_lead(first_name="Quist", last_name="Second")
    type(lead).objects.filter(pk=lead.pk).update(source=fair)
    html = client.get("/leads/", {"source": fair.pk}).content.decode()
    assert "Second" in html and "Eastman" not in html


def test_me_means_the_logged_in_user(owned, users, client_for):
    Queue.objects.get(slug="unassigned").members.add(users.rep)
    client = client_for(users.rep)
    assert names(client.get("/leads/")) == {"Eastman", "Quist"}  # own leads and own queues
    assert names(client.get("/leads/", {"owner": "me"})) == {"Eastman"}


def test_overdue_next_actions_are_marked(owned, users, client_for, frozen_now):
    from datetime import timedelta

    lead_set_next_action(
        lead=owned.ron,
        action="Call back about pricing",
        due_at=frozen_now.at - timedelta(hours=2),
        actor=Actor.of(users.rep),
    )
    html = client_for(users.rep).get("/leads/").content.decode()
    assert '<span class="badge-overdue-flag">Overdue</span>' in html
    assert "was due" in html and 'class="overdue"' in html


def test_htmx_filter_requests_get_only_the_table(owned, users, client_for):
    client = client_for(users.admin)
    response = client.get(
        "/leads/", {"q": "acme"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="lead-table"
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="lead-table">')
    assert "<nav" not in html.split('<nav class="pager"')[0]  # no site header
    assert "Eastman" in html and "Westfall" not in html


def test_pages_of_fifty_newest_first(make_lead, users, client_for):
    for n in range(55):
        make_lead(first_name="Lead", last_name=f"Number{n:02d}")
    client = client_for(users.admin)
    first = client.get("/leads/").content.decode()
    assert "1\N{EN DASH}50 of 55 leads" in first and "Number54" in first and "Number04" not in first
    second = client.get("/leads/", {"page": 2}).content.decode()
    assert (
        "51\N{EN DASH}55 of 55 leads" in second
        and "Number04" in second
        and "Number54" not in second
    )


def _list_queries(client, **params) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/leads/", params)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("who", ["admin", "manager", "rep"])
def test_the_list_takes_the_same_number_of_queries_for_10_and_60_leads(
    make_lead, users, client_for, who, django_assert_max_num_queries
):
    user = getattr(users, who)
    owners = [users.rep, users.rep2, None]

    def add(count: int) -> None:
        for n in range(count):
            lead = make_lead(company=f"Company {n}")
            owner = owners[n % 3]
            if owner is not None:
                lead_assign(lead=lead, owner_user=owner, actor=Actor.system("test"))

    client = client_for(user)
    add(10)
    with_10 = _list_queries(client)
    add(50)
    with_60 = _list_queries(client)
    assert with_10 == with_60
    filtered = _list_queries(client, owner="me", q="company", stage="all")
    with django_assert_max_num_queries(with_10):
        client.get("/leads/", {"owner": "me", "q": "company", "stage": "all"})
    assert filtered <= with_10
