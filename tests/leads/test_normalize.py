"""Normalization is pure and total: any input gives clean fields or field errors, never an exception."""

from hypothesis import given, settings
from hypothesis import strategies as st

from leadrefinery.leads.normalize import INTAKE_FIELDS, normalize_inquiry


def test_variants_of_the_same_contact_normalize_alike():
    a = normalize_inquiry({"email": "JOHN.Smith@Example.com", "phone": "+1 (415) 555-0100"}).clean
    b = normalize_inquiry(
        {"email": "john.smith@example.com ", "phone": "415.555.0100", "country": "US"}
    ).clean
    assert a is not None and b is not None
    assert (a.person["email"], a.person["phone"]) == (b.person["email"], b.person["phone"])


def test_country_names_and_codes():
    for given_value, code in [
        ("Germany", "DE"),
        ("DEU", "DE"),
        ("de", "DE"),
        ("UK", "GB"),
        ("USA", "US"),
    ]:
        clean = normalize_inquiry({"email": "a@example.com", "country": given_value}).clean
        assert clean is not None and clean.person["country"] == code, given_value


def test_phone_uses_the_country_for_national_numbers():
    clean = normalize_inquiry({"phone": "030 901820", "country": "Germany"}).clean
    assert clean is not None and clean.person["phone"] == "+4930901820"


def test_too_long_fields_are_errors_not_truncations():
    result = normalize_inquiry({"email": "a@example.com", "company": "x" * 201})
    assert result.clean is None and result.errors[0].field == "company"


text_values = st.one_of(
    st.text(max_size=60), st.integers(), st.booleans(), st.none(), st.lists(st.text(), max_size=2)
)


@settings(max_examples=300)
@given(st.dictionaries(st.sampled_from(INTAKE_FIELDS), text_values, max_size=8))
def test_any_input_gives_clean_fields_or_field_errors(raw):
    result = normalize_inquiry(raw)
    if result.clean is None:
        assert result.errors and all(e.field in INTAKE_FIELDS and e.message for e in result.errors)
    else:
        assert result.clean.person["email"] or result.clean.person["phone"]


def test_a_bad_phone_with_a_valid_email_keeps_the_inquiry_and_the_number_as_given():
    result = normalize_inquiry({"email": "ana@example.com", "phone": "+1 212 000 1234"})
    assert result.errors == [] and result.clean is not None
    assert result.clean.person["phone"] == ""
    assert result.clean.person["phone_unparsed"] == "+1 212 000 1234"
    assert any("not a valid phone number for US" in w for w in result.clean.warnings)


def test_a_bad_phone_without_an_email_is_refused_naming_the_rows_country():
    result = normalize_inquiry({"phone": "(212) 000-1234", "country": "US"})
    assert result.clean is None
    assert [(e.field, e.message) for e in result.errors] == [
        ("phone", "'(212) 000-1234' is not a valid phone number for US")
    ]


def test_a_bad_email_with_a_valid_phone_keeps_the_inquiry_and_the_address_as_given():
    result = normalize_inquiry({"email": "ana.at.example.com", "phone": "+1 415 555 0100"})
    assert result.errors == [] and result.clean is not None
    assert result.clean.person["email"] == ""
    assert result.clean.person["email_unparsed"] == "ana.at.example.com"
    assert result.clean.person["phone"] == "+14155550100"
    assert any(w.startswith("email 'ana.at.example.com'") for w in result.clean.warnings)


def test_both_bad_is_refused_naming_both():
    result = normalize_inquiry({"email": "nope", "phone": "x"})
    assert result.clean is None
    assert {e.field for e in result.errors} == {"email", "phone"}


# --- An address is judged as email_validator judges it ------------------------------------


def _as_email_validator_says(value: str) -> str:
    """The reference: email_validator on the whole address, lower-cased, or its message."""
    from email_validator import EmailNotValidError, validate_email

    try:
        return str(validate_email(value.strip(), check_deliverability=False).normalized).lower()
    except EmailNotValidError as exc:
        return f"error: {exc}"


def _as_intake_says(value: str) -> str:
    from leadrefinery.leads.normalize import normalize_email

    try:
        return normalize_email(value)
    except ValueError as exc:
        return f"error: {exc}"


_LOCAL = "a" * 64
EDGE_ADDRESSES = [
    "Ana.Lima@Example.COM",
    " ana@example.com ",
    "o'brien+leads@mail.example.co.uk",
    "a!#$%&'*+-/=?^_`{|}~@example.com",
    ".ana@example.com",
    "ana.@example.com",
    "an..a@example.com",
    "ana@example",  # no period
    "ana@localhost",
    "ana@example.test",  # a special-use domain
    "ana@example.invalid",
    "ana@-example.com",
    "ana@example-.com",
    "ana@exa_mple.com",
    "ana@example..com",
    "ana@.example.com",
    "ana@example.com.",
    "ana@123.456",  # a numeric top-level domain
    "ana@xn--bcher-kva.example",  # an IDNA host name, shown in Unicode when normalized
    "ana@xn--zz.example",  # not valid IDNA
    "ana@bücher.example",
    "anä@example.com",
    '"ana lima"@example.com',
    "Ana Lima <ana@example.com>",
    "ana@[192.0.2.1]",
    "ana@@example.com",
    "@example.com",
    "ana@",
    "ana",
    "",
    f"{_LOCAL}@example.com",
    f"{_LOCAL}a@example.com",  # longer than 64 before the @-sign
    f"{_LOCAL}@{'b' * 63}.{'c' * 63}.{'d' * 57}.com",  # 254 octets
    f"{_LOCAL}@{'b' * 63}.{'c' * 63}.{'d' * 58}.com",  # 255 octets
    f"{_LOCAL}@{'b' * 64}.com",  # a label longer than 63
    f"{'a' * 80}@{'b' * 60}.{'ü' * 30}.{'c' * 60}.com",  # longer once in IDNA ASCII
]


def test_every_edge_address_is_judged_as_email_validator_judges_it():
    for value in EDGE_ADDRESSES:
        assert _as_intake_says(value) == _as_email_validator_says(value), value


@settings(max_examples=400, deadline=None)
@given(
    local=st.text(alphabet="aZ09._+-'!~\"@ ü", min_size=0, max_size=70),
    domain=st.text(alphabet="aZ09.-_ü@[]", min_size=0, max_size=70),
    tld=st.sampled_from(["", ".com", ".c", ".test", ".123", ".xn--p1ai", "."]),
)
def test_any_address_is_judged_as_email_validator_judges_it(local, domain, tld):
    value = f"{local}@{domain}{tld}"
    assert _as_intake_says(value) == _as_email_validator_says(value)
