"""CSV export shows exactly what the user may see, and is safe to open in a spreadsheet."""

import csv
import io
from decimal import Decimal

import pytest
from django.core.management import call_command

from leadrefinery.leads.actors import Actor
from leadrefinery.leads.services import lead_assign, lead_set_amount

pytestmark = pytest.mark.django_db


def _export(tmp_path, *args):
    out = tmp_path / "leads.csv"
    call_command("export_leads", *args, "--output", str(out))
    return list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))


def test_rep_exports_only_own_leads(make_lead, users, tmp_path):
    mine = lead_assign(lead=make_lead(), owner_user=users.rep, actor=Actor.system("t"))
    lead_assign(lead=make_lead(), owner_user=users.other_rep, actor=Actor.system("t"))
    rows = _export(tmp_path, "--user", users.rep.username)
    assert [int(r["lead_id"]) for r in rows] == [mine.pk]
    assert rows[0]["owner"] == "ron" and rows[0]["email"] == mine.person.email
    assert len(_export(tmp_path, "--user", users.admin.username)) == 2


def test_formula_like_cells_are_neutralised(make_lead, users, tmp_path):
    make_lead(company='=HYPERLINK("http://evil")', first_name="+Bob")
    row = _export(tmp_path, "--user", users.admin.username)[0]
    assert row["company"].startswith("'=") and row["first_name"] == "'+Bob"


def test_stage_and_owner_filters(make_lead, users, tmp_path):
    make_lead()
    lead_assign(lead=make_lead(), owner_user=users.rep, actor=Actor.system("t"))
    assert len(_export(tmp_path, "--user", "admin", "--owner", "queue:unassigned")) == 1
    assert len(_export(tmp_path, "--user", "admin", "--stage", "closed")) == 0
    assert len(_export(tmp_path, "--user", "admin", "--stage", "open")) == 2


def test_the_deal_value_is_exported_as_plain_decimals_with_its_currency(make_lead, users, tmp_path):
    lead_set_amount(
        lead=make_lead(email="ann@example.org"),
        opportunity_amount=Decimal("12500"),
        currency="EUR",
        actor=Actor.system("t"),
    )
    make_lead(email="ben@example.org")
    rows = {r["email"]: r for r in _export(tmp_path, "--user", users.admin.username)}
    ann, ben = rows["ann@example.org"], rows["ben@example.org"]
    assert (ann["opportunity_amount"], ann["won_amount"], ann["currency"]) == (
        "12500.00",
        "",
        "EUR",
    )
    assert (ben["opportunity_amount"], ben["currency"]) == ("", "USD")  # the reporting currency
