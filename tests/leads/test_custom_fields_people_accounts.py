"""Custom fields on people and accounts: one value shared by every lead of the person or the
company, set through the lead page, the API and the import, and seen by the lead list, the
API, routing and the export like a lead's own field."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.management import call_command

from leadrefinery.leads.actors import Actor
from leadrefinery.leads.custom_field_services import custom_field_create, lead_custom_set
from leadrefinery.leads.models import Account, Lead, Person
from leadrefinery.leads.services import ServiceError
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def fields():
    custom_field_create(name="fleet_size", label="Fleet size", kind="number", applies_to="account")
    custom_field_create(
        name="decision_role", label="Decision role", kind="choice",
        choices=["Buyer", "Influencer"], applies_to="person",
    )  # fmt: skip
    custom_field_create(name="trial_plan", label="Trial plan", kind="text")


def test_a_person_field_is_shared_by_the_persons_leads(fields, make_lead, users, token_for):
    first = make_lead(email="ann@haulers.example", company="Haulers", product_interest="Routes")
    second = make_lead(email="ann@haulers.example", company="Haulers", product_interest="Fleet")
    assert first.person_id == second.person_id and first.pk != second.pk
    lead_custom_set(
        lead=first, changes={"decision_role": "buyer", "trial_plan": "Pro"}, actor=Actor.system("t")
    )
    assert Person.objects.get(pk=first.person_id).custom == {"decision_role": "Buyer"}
    assert Lead.objects.get(pk=first.pk).custom == {"trial_plan": "Pro"}

    api = ApiClient(token_for(users.admin, ["leads:read", "leads:write"]))
    detail = api.get(f"/leads/{second.pk}").json()
    assert detail["custom"] == {"decision_role": "Buyer"}, "the other lead sees the person's"
    found = api.get("/leads", {"custom": "decision_role:Buyer"}).json()
    assert sorted(item["id"] for item in found["items"]) == sorted([first.pk, second.pk])
    assert api.get("/leads", {"custom": "decision_role:Influencer"}).json()["count"] == 0
    assert api.get("/leads", {"custom": "decision_role:"}).json()["count"] == 0

    changed = api.client.patch(
        f"/api/v1/leads/{second.pk}/custom",
        json.dumps({"values": {"decision_role": "Influencer"}}),
        content_type="application/json",
        headers=api._headers(None),
    )
    assert changed.status_code == 200, changed.content
    assert api.get(f"/leads/{first.pk}").json()["custom"] == {
        "decision_role": "Influencer",
        "trial_plan": "Pro",
    }


def test_an_account_field_needs_an_account_and_is_shared_by_the_company(
    fields, make_lead, users, client
):
    ann = make_lead(email="ann@haulers.example", company="Haulers", website="haulers.example")
    bo = make_lead(email="bo@haulers.example", company="Haulers", website="haulers.example")
    assert ann.account_id and ann.account_id == bo.account_id
    lead_custom_set(lead=ann, changes={"fleet_size": "1,250"}, actor=Actor.system("t"))
    assert Account.objects.get(pk=ann.account_id).custom == {"fleet_size": 1250}

    client.force_login(users.admin)
    page = client.get(f"/leads/{bo.pk}/").content.decode()
    assert "Fleet size" in page and "1250" in page
    body = b"".join(client.get("/leads/export.csv").streaming_content).decode()
    rows = {row["email"]: row for row in csv.DictReader(io.StringIO(body))}
    assert rows["bo@haulers.example"]["fleet_size"] == "1250"

    loner = make_lead(email="cy@gmail.com")
    if loner.account_id is None:
        with pytest.raises(ServiceError, match="field of the account, and this lead has none"):
            lead_custom_set(lead=loner, changes={"fleet_size": 3}, actor=Actor.system("t"))


def test_an_account_field_routes_a_colleagues_inquiry(fields, users, token_for, submit_inquiry):
    admin = ApiClient(token_for(users.admin, ["leads:read", "routing:admin"]))
    rule = {
        "name": "Big fleets",
        "order": 10,
        "conditions": [{"field": "fleet_size", "op": "range", "value": [100, None]}],
        "target_kind": "team",
        "target_id": users.rep.team_id,
        "method": "round_robin",
    }
    assert admin.post("/routing-rules", rule).status_code == 201
    first = submit_inquiry(
        email="ann@haulers.example", company="Haulers", website="haulers.example",
        custom={"fleet_size": "250"},
    )  # fmt: skip
    lead = Lead.objects.get(pk=first.lead_id)
    assert lead.custom == {} and lead.account.custom == {"fleet_size": 250}
    assert lead.owner_user is not None and lead.owner_user.team_id == users.rep.team_id
    # A colleague's inquiry does not say the fleet size; the company's stored one routes it.
    second = submit_inquiry(
        email="bo@haulers.example", company="Haulers", website="haulers.example"
    )
    colleague = Lead.objects.get(pk=second.lead_id)
    assert colleague.account_id == lead.account_id
    assert colleague.owner_user is not None and colleague.owner_user.team_id == users.rep.team_id
    preview = admin.post("/routing-rules/preview", {"lead_id": colleague.pk}).json()
    assert preview["rule_name"] == "Big fleets"


def test_an_import_fills_the_person_and_account_fields(fields, tmp_path, capsys):
    path = tmp_path / "list.csv"
    path.write_text(
        "Email,Company,Website,Fleet size,Decision role,Trial plan\n"
        "ann@haulers.example,Haulers,haulers.example,40,Buyer,Pro\n"
        "bo@haulers.example,Haulers,haulers.example,,Influencer,\n"
        "ann@haulers.example,Haulers,haulers.example,55,Influencer,Basic\n"
    )
    call_command("import_leads", str(path), "--source", "Expo", "--no-progress")
    assert "Imported 3 of 3 rows" in capsys.readouterr().out
    ann = Person.objects.get(email="ann@haulers.example")
    bo = Person.objects.get(email="bo@haulers.example")
    # What is known is filled in, never overwritten by a later row.
    assert ann.custom == {"decision_role": "Buyer"}
    assert bo.custom == {"decision_role": "Influencer"}
    assert ann.account_id == bo.account_id
    assert Account.objects.get(pk=ann.account_id).custom == {"fleet_size": 40}
    assert Lead.objects.get(person=ann).custom == {"trial_plan": "Pro"}


def test_the_filter_on_a_person_field_reads_its_index(fields, make_lead):
    from django.db import connection

    from leadrefinery.leads.models import CustomField
    from leadrefinery.leads.selectors import leads_filtered

    lead = make_lead(company="Haulers")
    lead_custom_set(lead=lead, changes={"decision_role": "Buyer"}, actor=Actor.system("t"))
    make_lead(company="Other")
    qs = leads_filtered(Lead.objects.all(), custom=("decision_role", "buyer"))
    assert list(qs.values_list("pk", flat=True)) == [lead.pk]
    # The people holding the value are read through the field's index (the subquery the
    # filter runs; the join around it is the planner's choice on a table this small).
    from leadrefinery.leads import queries

    sql = queries.holders_sql("decision_role", "person")
    params = [queries.value_param("Buyer")]
    index = f"lead_custom_{CustomField.objects.get(name='decision_role').pk}"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN {sql}", params)
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = " ".join(str(row) for row in cursor.fetchall())
    assert index in plan, plan
