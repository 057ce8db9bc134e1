"""Reading real-world CSV files: BOM, semicolons, multi-line cells, blank lines, encodings,
CRM exports end to end, and files that cannot be imported at all."""

import io
from datetime import UTC, datetime

import pytest

from leadrefinery.intake.importing import ImportFailed, RowError, import_csv
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import Campaign, ImportBatch, IntakeRecord, Lead, Person, Source

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("import")


def _write(tmp_path, text: str, name: str = "leads.csv", encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_bom_semicolons_multiline_cells_and_blank_lines(tmp_path):
    text = (
        "\ufeffE-Mail;First Name;Last Name;Company;Message\r\n"
        'anna@example.de;Anna;Becker;Acme GmbH;"Please call;\r\nsecond line"\r\n'
        "\r\n"
        "not-an-email;Ben;Ito;Globex;hi\r\n"
        ";;;;\r\n"
        "carla@example.de;Carla;Costa;Initech;\r\n"
    )
    report = import_csv(_write(tmp_path, text), source_name="Expo", actor=SYSTEM)
    assert (report.total_rows, report.imported, report.rejected) == (3, 2, 1)
    # Row numbers as a spreadsheet shows them: a multi-line cell is one row, blank rows count.
    assert [(e.row, e.column) for e in report.errors] == [(4, "E-Mail")]
    assert "not-an-email" in report.errors[0].message
    anna = Person.objects.get(email="anna@example.de")
    assert (anna.first_name, anna.company_name) == ("Anna", "Acme GmbH")
    assert Lead.objects.get(person=anna).message == "Please call;\r\nsecond line"
    assert (
        IntakeRecord.objects.get(import_batch_id=report.batch_id, row_number=6).status
        == "processed"
    )


def test_tab_separated_file_read_from_a_text_stream():
    stream = io.StringIO("Email\tFull Name\nwei@example.cn\tWei Xu\n")
    report = import_csv(stream, source_name="Partner list", actor=SYSTEM)
    assert report.imported == 1
    person = Person.objects.get(email="wei@example.cn")
    assert (person.first_name, person.last_name) == ("Wei", "Xu")


def test_utf16_file_as_excel_saves_unicode_text(tmp_path):
    path = _write(
        tmp_path, "\ufeffEmail\tFirst Name\nlena@example.de\tLena\n", encoding="utf-16-le"
    )
    assert import_csv(path, source_name="Expo", actor=SYSTEM).imported == 1
    assert Person.objects.get(email="lena@example.de").first_name == "Lena"


def test_windows_1252_file_is_read_and_said_so(tmp_path):
    path = _write(
        tmp_path, "Email,First Name,City\nzoe@example.fr,Zoé,Orléans\n", encoding="cp1252"
    )
    report = import_csv(path, source_name="Expo", actor=SYSTEM)
    assert report.imported == 1
    assert Person.objects.get(email="zoe@example.fr").city == "Orléans"
    assert any("Windows-1252" in note for note in report.notes)


def test_salesforce_export_end_to_end(tmp_path):
    text = (
        "Id,FirstName,LastName,Company,Title,Street,City,State,PostalCode,Country,Phone,MobilePhone,Email,Website,LeadSource,Description,CreatedDate\n"
        '00Q1,Greta,Hansen,Northwind AB,CTO,"Storgatan 1",Stockholm,,111 22,Sweden,,+46 8 123 456 00,greta@northwind.se,northwind.se,Trade Show,"Wants a demo",2026-01-15T10:22:00.000+0000\n'
    )
    report = import_csv(
        _write(tmp_path, text),
        source_name="Salesforce migration",
        campaign_name="Q1 leads",
        actor=SYSTEM,
    )
    assert (report.imported, report.rejected) == (1, 0)
    greta = Person.objects.get(email="greta@northwind.se")
    assert (greta.first_name, greta.last_name, greta.title, greta.company_name) == (
        "Greta",
        "Hansen",
        "CTO",
        "Northwind AB",
    )
    assert (greta.city, greta.postcode, greta.country, greta.street) == (
        "Stockholm",
        "111 22",
        "SE",
        "Storgatan 1",
    )
    assert greta.phone == "+46812345600", "the mobile number fills in for the empty phone"
    assert greta.website == "https://northwind.se"
    lead = Lead.objects.get(person=greta)
    assert lead.message == "Wants a demo"
    assert lead.received_at == datetime(2026, 1, 15, 10, 22, tzinfo=UTC)
    assert (lead.source.name, lead.campaign.name) == ("Salesforce migration", "Q1 leads")
    assert lead.source.channel == Source.Channel.LIST_PURCHASE
    record = IntakeRecord.objects.get(import_batch_id=report.batch_id)
    assert record.payload["lead_source"] == "Trade Show"
    assert record.payload["extra"] == {"Id": "00Q1"}


def test_existing_source_and_campaign_are_reused(tmp_path):
    source = Source.objects.create(name="Expo 2026", channel=Source.Channel.TRADE_SHOW)
    Campaign.objects.create(source=source, name="Booth")
    path = _write(tmp_path, "Email\nanna@example.de\n")
    report = import_csv(path, source_name="expo 2026", campaign_name="booth", actor=SYSTEM)
    batch = ImportBatch.objects.get(pk=report.batch_id)
    assert (batch.source, batch.campaign.name) == (source, "Booth")
    assert Source.objects.get(pk=source.pk).channel == Source.Channel.TRADE_SHOW
    assert Campaign.objects.count() == 1


def _nothing_written():
    return (
        Source.objects.count(),
        ImportBatch.objects.count(),
        IntakeRecord.objects.count(),
        Person.objects.count(),
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"First Name,Company\nAnna,Acme\n", "no email or phone column found"),
        (b"", "is empty"),
        (b"\n\n", "is empty"),
        (b"PK\x03\x04\x14\x00\x06\x00", "damaged or incomplete .* save it as .xlsx"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504), r"old Excel workbook \(.xls\)"),
    ],
)
def test_a_file_that_cannot_be_imported_is_refused_before_anything_is_written(
    tmp_path, content, message
):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    before = _nothing_written()
    with pytest.raises(ImportFailed, match=message):
        import_csv(path, source_name="Brand new source", actor=SYSTEM)
    assert _nothing_written() == before


def test_missing_file_and_missing_source_name(tmp_path):
    with pytest.raises(ImportFailed, match="file not found"):
        import_csv(tmp_path / "nope.csv", source_name="X", actor=SYSTEM)
    with pytest.raises(ImportFailed, match="the source name is too long"):
        import_csv(_write(tmp_path, "Email\na@example.org\n"), source_name="x" * 121, actor=SYSTEM)
    with pytest.raises(ImportFailed, match="name the source"):
        import_csv(_write(tmp_path, "Email\na@example.org\n"), source_name="  ", actor=SYSTEM)


def test_row_errors_name_the_column_and_every_problem(tmp_path):
    text = "Email,Mobile,Created\nbad@,12345,yesterday-ish\n,,\n,,2026-01-01\n"
    report = import_csv(_write(tmp_path, text), source_name="Expo", actor=SYSTEM)
    assert report.rejected == 2 and report.imported == 0
    by_column = {(e.row, e.column) for e in report.errors}
    assert by_column == {(2, "Email"), (2, "Mobile"), (2, "Created"), (4, "Email")}
    assert RowError(4, "Email", "an email address or a phone number is required") in report.errors
