"""Custom fields: a company's own columns, from an import's dry run to the lead page, the
lead list and its API, routing, the readiness model and the export."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.management import call_command

from leadrefinery.leads import custom_fields
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.custom_field_services import custom_field_create, lead_custom_set
from leadrefinery.leads.models import CustomField, Lead, LeadEvent
from leadrefinery.leads.services import ServiceError
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db

LIST = (
    "Email,First Name,Last Name,Company,Country,Fleet size,Installed product,Renewal date\n"
    'ann@haulers.example,Ann,Lee,Haulers,US,"1,250",Route Planner,2027-03-31\n'
    "bo@smallvan.example,Bo,Ng,Small Van,US,12,,2027-01-15\n"
    "cy@trucks.example,Cy,Ito,Trucks Co,US,a dozen,Route Planner,\n"
)


def _import(tmp_path, capsys, *args: str) -> str:
    path = tmp_path / "fleet.csv"
    path.write_text(LIST)
    call_command("import_leads", str(path), "--source", "Expo", "--no-progress", *args)
    return capsys.readouterr().out


def test_the_dry_run_proposes_fields_and_the_import_fills_them(tmp_path, capsys):
    out = _import(tmp_path, capsys, "--dry-run")
    assert "They could become custom fields (--create-fields creates them)" in out
    assert "Fleet size -> fleet_size (text)" in out  # "a dozen" is not a number
    assert "Renewal date -> renewal_date (date)" in out
    assert CustomField.objects.count() == 0 and Lead.objects.count() == 0

    out = _import(tmp_path, capsys, "--dry-run", "--create-fields")
    assert "Created custom fields:" in out
    assert set(CustomField.objects.values_list("name", flat=True)) == {
        "fleet_size",
        "installed_product",
        "renewal_date",
    }
    assert Lead.objects.count() == 0, "a dry run writes no lead"
    assert "Fleet size -> custom: fleet_size" in out

    # An admin makes the fleet size a number: "a dozen" is then a note, the lead stays.
    CustomField.objects.filter(name="fleet_size").update(kind="number")
    out = _import(tmp_path, capsys)
    assert "Imported 3 of 3 rows" in out
    assert "row 4, Fleet size: fleet_size 'a dozen' is not a number: left empty" in out
    by_email = {lead.person.email: lead.custom for lead in Lead.objects.select_related("person")}
    assert by_email["ann@haulers.example"] == {
        "fleet_size": 1250,
        "installed_product": "Route Planner",
        "renewal_date": "2027-03-31",
    }
    assert by_email["bo@smallvan.example"] == {"fleet_size": 12, "renewal_date": "2027-01-15"}
    assert by_email["cy@trucks.example"] == {"installed_product": "Route Planner"}


@pytest.fixture
def fleet():
    custom_field_create(name="fleet_size", label="Fleet size", kind="number")
    custom_field_create(
        name="installed_product", label="Installed product", kind="choice",
        choices=["Route Planner", "Fleet Tracker"],
    )  # fmt: skip


def test_the_api_shows_filters_and_sets_custom_values(fleet, make_lead, users, token_for):
    big = make_lead(company="Haulers")
    small = make_lead(company="Small Van")
    actor = Actor.system("test")
    lead_custom_set(lead=big, changes={"fleet_size": "1,250"}, actor=actor)
    lead_custom_set(lead=small, changes={"fleet_size": 12}, actor=actor)
    api = ApiClient(token_for(users.admin, ["leads:read", "leads:write"]))

    found = api.get("/leads", {"custom": "fleet_size:1250"}).json()
    assert [item["id"] for item in found["items"]] == [big.pk]
    assert found["items"][0]["custom"] == {"fleet_size": 1250}
    assert api.get("/leads", {"custom": "fleet_size:"}).json()["count"] == 0
    assert api.get("/leads", {"custom": "no_such:1"}).json()["count"] == 0
    assert api.get("/leads", {"custom": "Fleet size=1"}).status_code == 422

    changed = api.client.patch(
        f"/api/v1/leads/{small.pk}/custom",
        json.dumps({"values": {"installed_product": "fleet tracker", "fleet_size": None}}),
        content_type="application/json",
        headers=api._headers(None),
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["custom"] == {"installed_product": "Fleet Tracker"}
    event = LeadEvent.objects.filter(lead=small, kind="qualified").latest("pk")
    assert "Installed product: Fleet Tracker" in event.note
    assert "Fleet size: (cleared)" in event.note

    refused = api.client.patch(
        f"/api/v1/leads/{small.pk}/custom",
        json.dumps({"values": {"installed_product": "Abacus"}}),
        content_type="application/json",
        headers=api._headers(None),
    )
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"][-1] == "installed_product"
    assert "not one of Route Planner, Fleet Tracker" in refused.json()["detail"][0]["msg"]


def test_the_lead_page_shows_and_edits_custom_fields(fleet, make_lead, users, client):
    lead = make_lead(company="Haulers")
    lead_custom_set(lead=lead, changes={"fleet_size": "40"}, actor=Actor.system("test"))
    client.force_login(users.admin)
    page = client.get(f"/leads/{lead.pk}/").content.decode()
    assert "Your fields" in page and "Fleet size" in page and ">40<" in page
    saved = client.post(
        f"/leads/{lead.pk}/custom/",
        {"fleet_size": "55", "installed_product": "Route Planner"},
    )
    assert saved.status_code in (200, 302)
    lead.refresh_from_db()
    assert lead.custom == {"fleet_size": 55, "installed_product": "Route Planner"}
    refused = client.post(f"/leads/{lead.pk}/custom/", {"fleet_size": "many"})
    lead.refresh_from_db()
    assert lead.custom["fleet_size"] == 55
    assert "is not a number" in refused.content.decode() or refused.status_code == 302


def test_a_routing_rule_on_a_custom_field_routes_in_the_preview_and_in_intake(
    fleet, users, token_for, submit_inquiry
):
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
    preview = admin.post("/routing-rules/preview", {"fields": {"fleet_size": 250}}).json()
    assert preview["rule_name"] == "Big fleets"
    record = submit_inquiry(email="ops@bigfleet.example", custom={"fleet_size": "250"})
    lead = Lead.objects.get(pk=record.lead_id)
    assert lead.custom == {"fleet_size": 250}
    assert lead.owner_user is not None and lead.owner_user.team_id == users.rep.team_id
    preview = admin.post("/routing-rules/preview", {"lead_id": lead.pk}).json()
    assert preview["rule_name"] == "Big fleets"
    small = submit_inquiry(email="ops@smallfleet.example", custom={"Fleet size": "3"})
    assert Lead.objects.get(pk=small.lead_id).owner_user is None


def test_the_export_has_a_column_per_custom_field(fleet, make_lead, users, client):
    lead = make_lead(company="Haulers")
    lead_custom_set(
        lead=lead, changes={"installed_product": "Route Planner"}, actor=Actor.system("t")
    )
    client.force_login(users.admin)
    body = b"".join(client.get("/leads/export.csv").streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    assert rows[0]["installed_product"] == "Route Planner"
    assert rows[0]["fleet_size"] == ""


def test_definitions_refuse_bad_names_and_kinds():
    with pytest.raises(ServiceError, match="built-in field"):
        custom_field_create(name="country", kind="text")
    with pytest.raises(ServiceError, match="lower-case"):
        custom_field_create(name="Fleet Size", kind="text")
    with pytest.raises(ServiceError, match="kind must be one of"):
        custom_field_create(name="fleet", kind="colour")
    with pytest.raises(ServiceError, match="needs its options"):
        custom_field_create(name="band", kind="choice")


def test_values_are_read_as_people_write_them():
    number = custom_fields.Definition("n", "N", "number")
    assert custom_fields.read(number, "1,250") == 1250
    assert custom_fields.read(number, "12.5") == 12.5
    assert custom_fields.read(number, "") is None
    with pytest.raises(ValueError, match="not a number"):
        custom_fields.read(number, "NaN")
    yesno = custom_fields.Definition("y", "Y", "yesno")
    assert [custom_fields.read(yesno, v) for v in ("Yes", "n", "TRUE", "0")] == [
        True,
        False,
        True,
        False,
    ]
    assert custom_fields.infer_kind(["12", "1,250", ""]) == "number"
    assert custom_fields.infer_kind(["2027-01-15"]) == "date"
    assert custom_fields.infer_kind(["yes", "no"]) == "yesno"
    assert custom_fields.slug("Fleet size (trucks)") == "fleet_size_trucks"


def test_an_api_inquiry_fills_custom_fields_and_warns_about_the_rest(fleet, users, token_for):
    api = ApiClient(token_for(users.admin, ["inquiries:write"]))
    answer = api.post(
        "/inquiries",
        {
            "email": "ops@fleet.example",
            "custom": {"Fleet size": "75", "installed_product": "Abacus", "colour": "red"},
        },
    )
    assert answer.status_code == 201, answer.content
    assert Lead.objects.get(pk=answer.json()["lead_id"]).custom == {"fleet_size": 75}
    warnings = answer.json()["warnings"]
    assert any("installed_product 'Abacus' is not one of" in w for w in warnings), warnings
    assert any("custom field 'colour' is not defined" in w for w in warnings), warnings


def test_the_custom_field_filter_answers_as_the_orm_and_reads_the_index(make_lead):
    """The hand-written filter (leads/queries.py) finds the leads Django's key lookup finds,
    for every kind of value, and the database plans it through the field's index."""
    from django.db import connection

    from leadrefinery.leads.selectors import leads_filtered

    custom_field_create(name="fleet_size", label="Fleet size", kind="number")
    custom_field_create(name="ratio", label="Ratio", kind="number")
    custom_field_create(name="product", label="Product", kind="text")
    custom_field_create(name="renewal", label="Renewal", kind="date")
    custom_field_create(name="customer", label="Customer", kind="yesno")
    values = [
        {"fleet_size": 12, "ratio": 0.5, "product": "Route Planner", "renewal": "2027-03-31",
         "customer": "yes"},
        {"fleet_size": 1250, "ratio": 2, "product": "route planner", "customer": "no"},
        {"fleet_size": "12", "product": "12"},
        {},
    ]  # fmt: skip
    for i, changes in enumerate(values):
        lead = make_lead(company=f"Company {i}")
        if changes:
            lead_custom_set(lead=lead, changes=changes, actor=Actor.system("t"))
    for name, raw, stored in [
        ("fleet_size", "12", 12),
        ("fleet_size", "1,250", 1250),
        ("ratio", "0.5", 0.5),
        ("ratio", "2", 2),
        ("product", "Route Planner", "Route Planner"),
        ("product", "12", "12"),
        ("renewal", "2027-03-31", "2027-03-31"),
        ("customer", "yes", True),
        ("customer", "no", False),
    ]:
        ours = leads_filtered(Lead.objects.all(), custom=(name, raw))
        orm = Lead.objects.filter(**{f"custom__{name}": stored})
        assert sorted(ours.values_list("pk", flat=True)) == sorted(
            orm.values_list("pk", flat=True)
        ), (name, raw)
        assert ours.exists(), (name, raw)

    qs = leads_filtered(Lead.objects.all(), custom=("fleet_size", "12"))
    sql, params = qs.query.sql_with_params()
    index = f"lead_custom_{CustomField.objects.get(name='fleet_size').pk}"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")  # a small table: scan otherwise
            cursor.execute(f"EXPLAIN {sql}", params)
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = " ".join(str(row) for row in cursor.fetchall())
    assert index in plan, plan


def test_removing_a_field_drops_its_index_and_keeps_the_values(fleet, make_lead):
    from django.db import connection

    from leadrefinery.leads.custom_field_services import custom_field_delete

    lead = make_lead(company="Haulers")
    lead_custom_set(lead=lead, changes={"fleet_size": 12}, actor=Actor.system("t"))
    field = CustomField.objects.get(name="fleet_size")
    index = f"lead_custom_{field.pk}"
    with connection.cursor() as cursor:
        assert index in connection.introspection.get_constraints(cursor, "leads_lead")
    custom_field_delete(field=field)
    with connection.cursor() as cursor:
        assert index not in connection.introspection.get_constraints(cursor, "leads_lead")
    lead.refresh_from_db()
    assert lead.custom == {"fleet_size": 12}


def test_a_whole_float_is_the_number_a_person_types():
    number = custom_fields.Definition("n", "N", "number")
    assert custom_fields.read(number, 12.0) == 12 and type(custom_fields.read(number, 12.0)) is int
    with pytest.raises(ValueError, match="finite"):
        custom_fields.read(number, float("inf"))
