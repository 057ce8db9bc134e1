"""/leads/ for a sales team: sortable columns, temperature and overdue columns, the overdue
filter, CSV export of exactly the filtered list, and bulk actions for managers that go lead by
lead through the single actions' services."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import Lead
from leadrefinery.leads.services import lead_assign, lead_set_next_action, lead_transition

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("test")


def order_of(html: str, *names: str) -> list[str]:
    """``names`` in the order the list shows them."""
    return sorted(names, key=lambda n: html.index(n))


@pytest.fixture
def team(make_lead, users, frozen_now):
    """Four open leads of the East team, with temperatures and due times that differ."""
    specs = [
        ("Alvarez", users.rep, "cold", 3 * 24),
        ("Brooks", users.rep2, "hot", -5),  # overdue by 5 hours
        ("Chen", users.rep, "warm", -48),  # overdue by 2 days
        ("Dietrich", users.rep2, "", 2),
    ]
    leads = {}
    for name, owner, temperature, due_hours in specs:
        frozen_now.advance(timedelta(minutes=1))  # received in this order
        lead = lead_assign(lead=make_lead(last_name=name), owner_user=owner, actor=SYSTEM)
        Lead.objects.filter(pk=lead.pk).update(temperature=temperature)
        lead_set_next_action(
            lead=lead,
            action=f"Call {name}",
            due_at=frozen_now.at + timedelta(hours=due_hours),
            actor=SYSTEM,
        )
        leads[name] = lead
    return leads


def test_columns_sort_by_temperature_due_owner_stage_and_received(team, users, client_for):
    client = client_for(users.manager)
    names = ("Alvarez", "Brooks", "Chen", "Dietrich")

    def listed(sort: str) -> list[str]:
        html = client.get("/leads/", {"sort": sort}).content.decode()
        return order_of(html, *names)

    assert listed("-received") == ["Dietrich", "Chen", "Brooks", "Alvarez"]
    assert listed("received") == ["Alvarez", "Brooks", "Chen", "Dietrich"]
    assert listed("temperature") == ["Brooks", "Chen", "Alvarez", "Dietrich"]  # unscored last
    assert listed("due") == ["Chen", "Brooks", "Dietrich", "Alvarez"]
    assert listed("-due") == ["Alvarez", "Dietrich", "Brooks", "Chen"]
    # By the owner's name (Rita before Ron), newest first within one owner.
    assert listed("owner") == ["Dietrich", "Brooks", "Chen", "Alvarez"]
    lead_transition(lead=team["Chen"], to_stage="qualifying", actor=SYSTEM)
    # In lifecycle order (inquiry before qualifying), not alphabetically.
    assert listed("stage")[-1] == "Chen" and listed("-stage")[0] == "Chen"
    html = client.get("/leads/", {"sort": "due"}).content.decode()
    # The header of the sorted column shows the order and a click reverses it.
    assert re.search(r'href="\?sort=-due"[^>]*>Next action due <span aria-hidden="true">↑', html)


def test_the_overdue_filter_and_the_temperature_and_overdue_columns(team, users, client_for):
    html = client_for(users.manager).get("/leads/", {"overdue": "on"}).content.decode()
    assert "Brooks" in html and "Chen" in html
    assert "Alvarez" not in html and "Dietrich" not in html
    assert html.count('<span class="badge-overdue-flag">Overdue</span>') == 2
    assert '<span class="temperature temperature-hot">Hot</span>' in html
    hot = client_for(users.manager).get("/leads/", {"temperature": "hot"}).content.decode()
    assert "Brooks" in hot and "Chen" not in hot


def _csv(response) -> list[dict[str, str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def test_export_csv_is_exactly_the_filtered_list_the_user_may_see(
    team, users, client_for, make_lead
):
    make_lead(last_name="Unassigned")  # only admins and managers see the unassigned queue
    manager = client_for(users.manager)
    page = manager.get("/leads/", {"overdue": "on", "sort": "due"}).content.decode()
    link = re.search(r'href="(/leads/export\.csv[^"]*)"', page)
    assert link, "the list offers Export CSV"
    rows = _csv(manager.get(link[1].replace("&amp;", "&")))
    assert sorted(r["last_name"] for r in rows) == ["Brooks", "Chen"]

    rep_rows = _csv(client_for(users.rep).get("/leads/export.csv"))
    assert sorted(r["last_name"] for r in rep_rows) == ["Alvarez", "Chen"]  # Ron's own leads


def test_a_manager_acts_on_many_leads_and_sees_each_result(team, users, client_for):
    client = client_for(users.manager)
    walts = lead_assign(lead=team["Alvarez"], owner_user=users.other_rep, actor=SYSTEM)
    ids = [team["Brooks"].pk, team["Chen"].pk, walts.pk]
    response = client.post(
        "/leads/bulk/",
        {"action": "reassign", "owner": f"u{users.rep.pk}", "lead": ids, "back": "?stage=open"},
    )
    assert response.status_code == 302 and response["Location"] == "/leads/?stage=open"
    html = client.get(response["Location"]).content.decode()
    assert "Reassign to: 2 of 3 leads changed, 1 refused." in html
    assert "Assigned to Ron Rep" in html
    assert "refused</strong>: not found among your leads" in html  # Walt's lead (team West)
    assert Lead.objects.get(pk=team["Brooks"].pk).owner_user == users.rep

    # 'No response' is refused lead by lead until the persistence rule is met.
    client.post(
        "/leads/bulk/",
        {"action": "close", "reason": "lost_no_response", "lead": ids[:2], "back": "?"},
    )
    html = client.get("/leads/").content.decode()
    assert "Close with a reason: 0 of 2 leads changed, 2 refused." in html
    assert "needs at least 6 sales touches" in html

    client.post("/leads/bulk/", {"action": "recycle", "reason": "recycle_timing", "lead": ids[:1]})
    brooks = Lead.objects.select_related("owner_queue").get(pk=ids[0])
    assert (brooks.stage, brooks.owner_queue.slug) == ("nurture", "marketing")


def test_bulk_actions_are_for_managers_and_admins(team, users, client_for):
    rep = client_for(users.rep)
    assert 'id="bulk-form"' not in rep.get("/leads/").content.decode()
    refused = rep.post("/leads/bulk/", {"action": "recycle", "lead": [team["Chen"].pk]})
    assert refused.status_code == 403
    missing = client_for(users.admin).post(
        "/leads/bulk/", {"action": "reassign", "lead": [team["Chen"].pk]}
    )
    assert missing.status_code == 302
    assert Lead.objects.get(pk=team["Chen"].pk).owner_user == users.rep  # nothing changed


@pytest.mark.parametrize(
    "params",
    [
        {"sort": "owner", "overdue": "on"},
        {"sort": "-temperature", "temperature": "warm", "stage": "all"},
        {"sort": "stage", "q": "company"},
        {"sort": "due"},
    ],
)
def test_sorting_and_filters_keep_the_query_count_fixed(
    make_lead, users, client_for, frozen_now, params
):
    owners = [users.rep, users.rep2, None]

    def add(count: int) -> None:
        for n in range(count):
            lead = make_lead(company=f"Company {n}")
            if owners[n % 3] is not None:
                lead = lead_assign(lead=lead, owner_user=owners[n % 3], actor=SYSTEM)
            Lead.objects.filter(pk=lead.pk).update(
                temperature=["hot", "warm", "cold"][n % 3],
                next_action_due_at=frozen_now.at - timedelta(days=n % 4),
            )

    def queries(client) -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get("/leads/", params)
        assert response.status_code == 200
        return len(ctx.captured_queries)

    client = client_for(users.manager)
    add(6)
    with_6 = queries(client)
    add(40)
    assert queries(client) == with_6
