"""The deal value in a CSV import: amount and currency columns of the usual spellings and of
Salesforce, HubSpot and Mautic exports; amounts as people write them; a value that cannot be
read rejects its row, by row and column, while the good rows import."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest

from leadrefinery.intake.import_mapping import map_headers
from leadrefinery.intake.importing import RowError, import_csv, write_error_csv
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import IntakeRecord, Lead, LeadEvent

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("import")


def _write(tmp_path, text: str):
    path = tmp_path / "deals.csv"
    path.write_text(text, encoding="utf-8")
    return path


def _lead(email: str) -> Lead:
    return Lead.objects.get(person__email=email)


@pytest.mark.parametrize(
    "header",
    [
        "Amount",
        "Deal value",
        "Deal amount",
        "Opportunity amount",
        "Expected revenue",
        "Opportunity: Amount",  # Salesforce opportunity report
        "deal_value",  # Mautic's custom field
        "Deal - Value",  # Pipedrive
    ],
)
def test_amount_columns_map_to_the_expected_value(header):
    assert map_headers(["Email", header]).mapping[header] == "opportunity_amount"


@pytest.mark.parametrize(
    "header",
    [
        "Currency",
        "Currency ISO Code",  # Salesforce report label
        "CurrencyIsoCode",  # Salesforce API name
        "Opportunity Currency",
        "Deal currency code",  # HubSpot deal export
        "deal_currency_code",
    ],
)
def test_currency_columns_map_to_the_currency(header):
    assert map_headers(["Email", header]).mapping[header] == "currency"


def test_converted_amounts_and_company_revenue_are_not_the_deal_value():
    m = map_headers(["Email", "Amount (converted)", "Amount in company currency", "Annual Revenue"])
    assert "opportunity_amount" not in m.columns
    assert m.unmapped_headers == [
        "Amount (converted)",
        "Amount in company currency",
        "Annual Revenue",
    ]


def test_amounts_as_people_write_them_import_with_their_currency(tmp_path):
    text = (
        "Email,Amount,Currency\n"
        'ann@example.org,"12,500.00",\n'
        "ben@example.org,€12.500,\n"
        "cai@example.org,12 500,gbp\n"
        "dee@example.org,,\n"
    )
    report = import_csv(_write(tmp_path, text), source_name="Deals", actor=SYSTEM)
    assert (report.imported, report.rejected) == (4, 0)
    assert report.mapping == {
        "Email": "email",
        "Amount": "opportunity_amount",
        "Currency": "currency",
    }
    assert [
        (_lead(e).opportunity_amount, _lead(e).currency)
        for e in ("ann@example.org", "ben@example.org", "cai@example.org", "dee@example.org")
    ] == [
        (Decimal("12500.00"), ""),
        (Decimal("12500.00"), "EUR"),
        (Decimal("12500.00"), "GBP"),
        (None, ""),
    ]
    # The value is on the new lead's timeline, as every change of it is.
    event = LeadEvent.objects.get(lead=_lead("ben@example.org"), kind="amount")
    assert event.actor_label == "system:import"
    assert event.note == "Expected value: 12,500.00 EUR"
    assert not LeadEvent.objects.filter(lead=_lead("dee@example.org"), kind="amount").exists()


def test_a_salesforce_opportunity_export_with_its_currency_column(tmp_path):
    text = (
        "Email,Opportunity: Amount,Opportunity Currency,LeadSource,CreatedDate\n"
        "ann@example.org,40000,EUR,Web,2026-01-05T10:00:00Z\n"
    )
    report = import_csv(_write(tmp_path, text), source_name="Salesforce", actor=SYSTEM)
    assert report.imported == 1
    lead = _lead("ann@example.org")
    assert (lead.opportunity_amount, lead.currency) == (Decimal("40000.00"), "EUR")


def test_a_bad_amount_rejects_its_row_by_row_and_column_and_the_good_rows_import(tmp_path):
    text = (
        "Email,Deal value,Currency\n"
        "ann@example.org,1500,USD\n"
        "ben@example.org,lots,USD\n"
        "cai@example.org,-200,\n"
        "dee@example.org,100,Euro\n"
        "eve@example.org,€100,USD\n"
        "fay@example.org,2500,eur\n"
    )
    path = _write(tmp_path, text)
    dry = import_csv(path, source_name="Deals", actor=SYSTEM, dry_run=True)
    report = import_csv(path, source_name="Deals", actor=SYSTEM)

    for result in (dry, report):
        assert (result.imported, result.rejected) == (2, 4)
        assert result.errors == [
            RowError(
                3,
                "Deal value",
                "'lots' is not an amount (e.g. 12500, 12,500.00 or EUR 12.500,00)",
            ),
            RowError(4, "Deal value", "'-200' must be 0 or more"),
            RowError(5, "Currency", "'Euro' is not an ISO 4217 currency code (e.g. USD, EUR)"),
            RowError(6, "Currency", "'USD' does not match the amount's currency (EUR)"),
        ]
    assert _lead("ann@example.org").opportunity_amount == Decimal("1500.00")
    assert _lead("fay@example.org").currency == "EUR"
    assert not Lead.objects.filter(person__email="ben@example.org").exists()

    out = io.StringIO()
    assert write_error_csv(report, out) == 4
    assert out.getvalue().splitlines()[1] == (
        "3,Deal value,\"'lots' is not an amount (e.g. 12500, 12,500.00 or EUR 12.500,00)\","
        "ben@example.org,lots,USD"
    )


def test_a_row_joining_an_open_lead_leaves_its_deal_value_and_says_so(tmp_path, make_lead):
    lead = make_lead(email="ann@example.org")
    report = import_csv(
        _write(tmp_path, "Email,Amount\nann@example.org,900\n"), source_name="Deals", actor=SYSTEM
    )
    assert report.attached == 1
    lead.refresh_from_db()
    assert lead.opportunity_amount is None
    (record,) = IntakeRecord.objects.filter(import_batch_id=report.batch_id)
    assert any(
        f"joined lead {lead.pk}, which was already open" in w for w in record.response["warnings"]
    )


def test_a_web_form_field_called_currency_is_no_deal_value(submit_inquiry):
    record = submit_inquiry(channel="form", email="gus@example.org", currency="Euros, please")
    assert record.status == "processed"
    assert Lead.objects.get(pk=record.lead_id).currency == ""
