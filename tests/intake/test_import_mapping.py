"""CSV headers map to intake fields: common spellings and real CRM/marketing export headers."""

import pytest

from leadrefinery.intake.import_mapping import header_key, map_headers

# Header rows as the tools write them.
SALESFORCE_API = [
    "Id",
    "Salutation",
    "FirstName",
    "LastName",
    "Name",
    "Title",
    "Company",
    "Street",
    "City",
    "State",
    "PostalCode",
    "Country",
    "Phone",
    "MobilePhone",
    "Email",
    "Website",
    "LeadSource",
    "Status",
    "Industry",
    "Description",
    "OwnerId",
    "CreatedDate",
    "HasOptedOutOfEmail",
]
SALESFORCE_REPORT = [
    "First Name",
    "Last Name",
    "Title",
    "Company / Account",
    "Email",
    "Phone",
    "Mobile",
    "Street",
    "City",
    "State/Province",
    "Zip/Postal Code",
    "Country",
    "Lead Source",
    "Create Date",
    "Description",
]
HUBSPOT = [
    "Record ID",
    "First Name",
    "Last Name",
    "Email",
    "Phone Number",
    "Mobile Phone Number",
    "Company Name",
    "Job Title",
    "Street Address",
    "City",
    "State/Region",
    "Postal Code",
    "Country/Region",
    "Website URL",
    "Create Date",
    "Original Source",
    "Lifecycle Stage",
    "Contact owner",
    "Message",
    "Preferred language",
]
MAUTIC = [
    "id",
    "title",
    "firstname",
    "lastname",
    "company",
    "position",
    "email",
    "mobile",
    "phone",
    "points",
    "fax",
    "address1",
    "address2",
    "city",
    "state",
    "zipcode",
    "country",
    "preferred_locale",
    "timezone",
    "last_active",
    "website",
    "linkedin",
    "date_added",
    "date_modified",
    "date_identified",
]


def test_salesforce_lead_export_api_names():
    m = map_headers(SALESFORCE_API)
    assert m.flavor == "salesforce"
    assert m.mapping == {
        "FirstName": "first_name",
        "LastName": "last_name",
        "Name": "name",
        "Title": "title",
        "Company": "company",
        "Street": "street",
        "City": "city",
        "State": "region",
        "PostalCode": "postcode",
        "Country": "country",
        "Phone": "phone",
        "MobilePhone": "phone",
        "Email": "email",
        "Website": "website",
        "LeadSource": "lead_source",
        "Description": "message",
        "CreatedDate": "received_at",
    }
    assert m.unmapped_headers == [
        "Id",
        "Salutation",
        "Status",
        "Industry",
        "OwnerId",
        "HasOptedOutOfEmail",
    ]


def test_salesforce_report_labels():
    m = map_headers(SALESFORCE_REPORT)
    assert m.mapping["Company / Account"] == "company"
    assert m.mapping["State/Province"] == "region"
    assert m.mapping["Zip/Postal Code"] == "postcode"
    assert m.mapping["Mobile"] == "phone"
    assert m.mapping["Create Date"] == "received_at"
    assert m.unmapped_headers == []


def test_hubspot_contact_export():
    m = map_headers(HUBSPOT)
    assert m.flavor == "hubspot"
    expected = {
        "First Name": "first_name",
        "Last Name": "last_name",
        "Email": "email",
        "Phone Number": "phone",
        "Mobile Phone Number": "phone",
        "Company Name": "company",
        "Job Title": "title",
        "Street Address": "street",
        "City": "city",
        "State/Region": "region",
        "Postal Code": "postcode",
        "Country/Region": "country",
        "Website URL": "website",
        "Create Date": "received_at",
        "Original Source": "lead_source",
        "Message": "message",
        "Preferred language": "language",
    }
    assert m.mapping == expected
    assert m.unmapped_headers == ["Record ID", "Lifecycle Stage", "Contact owner"]


def test_mautic_contact_export_takes_the_job_title_from_position_not_the_salutation():
    m = map_headers(MAUTIC)
    assert m.flavor == "mautic"
    assert m.mapping["position"] == "title"
    assert "title" in m.unmapped_headers
    assert any("salutation" in note for note in m.notes)
    assert {
        m.mapping[h] for h in ("firstname", "lastname", "company", "email", "mobile", "phone")
    } == {
        "first_name",
        "last_name",
        "company",
        "email",
        "phone",
    }
    assert (m.mapping["address1"], m.mapping["address2"], m.mapping["zipcode"]) == (
        "street",
        "street",
        "postcode",
    )
    assert (m.mapping["preferred_locale"], m.mapping["date_added"]) == ("language", "received_at")
    row = dict.fromkeys(MAUTIC, "")
    row.update(title="Dr", position="Head of IT", firstname="Ines", email="ines@example.org")
    payload = m.payload(list(row.values()))
    assert payload["title"] == "Head of IT"
    assert payload["extra"] == {"title": "Dr"}


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("E-mail", "email"),
        ("Email Address", "email"),
        ("work_email", "email"),
        ("  EMAIL  ", "email"),
        ("First Name", "first_name"),
        ("FirstName", "first_name"),
        ("given name", "first_name"),
        ("Surname", "last_name"),
        ("Mobile", "phone"),
        ("Phone Number", "phone"),
        ("MobilePhone", "phone"),
        ("Organization", "company"),
        ("Account Name", "company"),
        ("Country/Region", "country"),
        ("State/Province", "region"),
        ("ZIP", "postcode"),
        ("Zip", "postcode"),
        ("Postal Code", "postcode"),
        ("position", "title"),
        ("Job Title", "title"),
        ("Website URL", "website"),
        ("Created Date", "received_at"),
        ("date_added", "received_at"),
        ("Comments", "message"),
        ("Description", "message"),
        ("UTM Source", "utm_source"),
        ("utm_campaign", "utm_campaign"),
        ("Opt-in", "consent"),
        ("Product Interest", "product_interest"),
    ],
)
def test_common_spellings(header, field):
    assert (
        map_headers(["Email" if field != "email" else "x", header]).mapping.get(header.strip())
        == field
    )


def test_headers_fold_case_spaces_and_punctuation():
    assert (
        header_key("E-mail Address ") == header_key("email_address") == header_key("EmailAddress")
    )
    assert header_key("Prénom") == "prenom"


def test_phone_uses_the_first_non_empty_column_and_street_joins():
    m = map_headers(["Email", "Phone", "Mobile", "Address 1", "Address 2", "Favourite colour"])
    assert m.payload(["a@example.org", "", "+44 20 7946 0123", "1 High St", "Flat 2", "blue"]) == {
        "email": "a@example.org",
        "phone": "+44 20 7946 0123",
        "street": "1 High St, Flat 2",
        "extra": {"Favourite colour": "blue"},
    }
    both = m.payload(["", "+1 212 555 0123", "+44 20 7946 0123", "", "", ""])
    assert both == {"phone": "+1 212 555 0123"}


def test_column_for_names_the_header_that_held_the_value():
    m = map_headers(["Work Email", "Phone", "Mobile"])
    assert m.column_for("phone", ["", "", "12345"]) == "Mobile"
    assert m.column_for("phone", ["", "555", "12345"]) == "Phone"
    assert m.column_for("email", ["", "", ""]) == "Work Email"
    assert map_headers(["Phone", "Name"]).column_for("email", ["", "Ann"]) == "Phone"


def test_unknown_and_duplicate_headers_are_kept_not_lost():
    m = map_headers(["Email", "Shoe size", "Email", ""])
    assert m.mapping == {"Email": "email", "Email (column 3)": "email"}
    assert m.unmapped_headers == ["Shoe size", "(column 4)"]
    payload = m.payload(["", "44", "b@example.org", "x", "spill"])
    assert payload == {
        "email": "b@example.org",
        "extra": {"Shoe size": "44", "(column 4)": "x", "(column 5)": "spill"},
    }
