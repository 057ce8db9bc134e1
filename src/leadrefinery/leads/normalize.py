"""Turn a raw inquiry (a dict of strings) into clean fields, or into per-field errors.

The same rules hold for the API, the public form and the CSV import: an inquiry is refused
only when there is no valid way to reach the person (no valid email and no valid phone). A bad
email next to a valid phone, or a bad phone next to a valid email, is kept as given
(``email_unparsed`` / ``phone_unparsed``) with a warning, never used for matching. Pure: no
database, no clock.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import phonenumbers
import pycountry
from email_validator import EmailNotValidError, validate_email
from email_validator.rfc_constants import DOT_ATOM_TEXT

from leadrefinery.common.weburl import web_url

from . import custom_fields, money

# Canonical intake field names and their maximum lengths (matching the model columns).
PERSON_FIELDS: dict[str, int] = {
    "email": 254,
    "phone": 32,
    "first_name": 120,
    "last_name": 120,
    "title": 200,
    "company": 200,
    "website": 300,
    "country": 64,
    "region": 120,
    "city": 120,
    "postcode": 32,
    "street": 300,
    "language": 16,
}
LEAD_FIELDS: dict[str, int] = {
    "product_interest": 120,
    "message": 5000,
    "need": 300,
    "budget": 120,
    "authority": 120,
    "timeline": 120,
    "utm_source": 200,
    "utm_medium": 200,
    "utm_campaign": 200,
    "utm_term": 200,
    "utm_content": 200,
}
EXTRA_FIELDS = ("name", "received_at", "consent")
INTAKE_FIELDS: tuple[str, ...] = (*PERSON_FIELDS, *LEAD_FIELDS, *EXTRA_FIELDS)
# The deal value, which only the CSV import brings (other systems' exports have it; an inquiry
# from the web or the API has none). Read with ``read_money``: a bad one rejects the row.
MONEY_FIELDS = ("opportunity_amount", "currency")

_COUNTRY_ALIASES = {
    "usa": "US",
    "u.s.": "US",
    "u.s.a.": "US",
    "united states of america": "US",
    "america": "US",
    "uk": "GB",
    "u.k.": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "great britain": "GB",
    "russia": "RU",
    "south korea": "KR",
    "korea": "KR",
    "czech republic": "CZ",
    "holland": "NL",
    "the netherlands": "NL",
    "uae": "AE",
    "vietnam": "VN",
    "iran": "IR",
    "taiwan": "TW",
    "bolivia": "BO",
    "venezuela": "VE",
    "tanzania": "TZ",
    "syria": "SY",
    "laos": "LA",
    "moldova": "MD",
}
_TRUE = {"1", "true", "yes", "y", "on", "checked", "opt-in", "opt_in"}


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


@dataclass(frozen=True)
class CleanInquiry:
    person: dict[str, str]
    lead: dict[str, str]
    received_at: datetime | None = None
    consent: bool = False
    warnings: tuple[str, ...] = ()
    opportunity_amount: Decimal | None = None
    currency: str = ""  # ISO 4217; "" for the reporting currency
    custom: dict[str, object] = field(default_factory=dict)  # custom field name -> value


@dataclass
class NormalizeResult:
    clean: CleanInquiry | None
    errors: list[FieldError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.clean is not None


@functools.lru_cache(maxsize=2048)
def country_code(value: str) -> str | None:
    """ISO alpha-2 for a country code, alpha-3, or name; None when unknown."""
    text = value.strip()
    if not text:
        return None
    alias = _COUNTRY_ALIASES.get(text.lower())
    if alias:
        return alias
    try:
        return str(pycountry.countries.lookup(text).alpha_2)
    except LookupError:
        return None


def clean_country(value: str) -> tuple[str, str | None]:
    """The country as intake stores it (ISO alpha-2, or empty when unknown) and a warning.

    Used by intake and by anything that must see a country the way intake will (the routing
    preview), so that "United States" means US everywhere."""
    if not value.strip():
        return "", None
    code = country_code(value)
    if code is None:
        return "", f"country '{value}' not recognised; left empty"
    return code, None


def clean_text(value: str) -> str:
    """Runs of white space as one space, as intake stores a one-line field."""
    return " ".join(value.split())


# An ASCII local part in dot-atom form (RFC 5322 3.2.3: email_validator's own DOT_ATOM_TEXT)
# and a host name of ASCII letters, digits, dots and hyphens: nearly every address.
_HOST_NAME = re.compile(r"[A-Za-z0-9.\-]+\Z")
_MAX_ADDRESS_OCTETS = 254  # RFC 3696 errata 1690, as email_validator checks it


@functools.lru_cache(maxsize=1 << 14)
def _domain_checked(domain: str) -> tuple[str, int] | None:
    """email_validator's verdict on a host name, once per name (a list's addresses share a
    few thousand domains): its normalized form and the longest of the forms the address
    length is checked in (as given, normalized, IDNA ASCII), in UTF-8 octets; None when it
    is not valid after an @-sign."""
    try:
        info = validate_email("postmaster@" + domain, check_deliverability=False)
    except EmailNotValidError:
        return None
    forms = (domain, info.domain, info.ascii_domain or info.domain)
    return info.domain, max(len(form.encode()) for form in forms)


# An import normalizes each row twice (its matching pass, then its writes): remembering a
# 100,000-row file's addresses and numbers makes the second pass's checks free (~25 MB).
@functools.lru_cache(maxsize=1 << 17)
def normalize_email(value: str) -> str:
    """Lower-cased, syntax-checked address. Raises ValueError with a readable message.

    The common shape (a plain ASCII local part, an ASCII host name) is checked with the
    domain's verdict remembered: email_validator's result for such a local part is the part
    itself, so only the domain and the length are left to decide (checking the same
    domains again was three quarters of email_validator's time in an import). Anything
    else, and anything not valid, goes through email_validator whole, for its result and
    its message."""
    text = value.strip()
    local, _, domain = text.rpartition("@")
    if DOT_ATOM_TEXT.match(local) and _HOST_NAME.match(domain):
        checked = _domain_checked(domain)
        if checked is not None and len(local) + 1 + checked[1] <= _MAX_ADDRESS_OCTETS:
            return f"{local}@{checked[0]}".lower()
    try:
        info = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from None
    return str(info.normalized).lower()


@functools.lru_cache(maxsize=1 << 17)
def normalize_phone(value: str, country: str | None, default_country: str) -> str:
    """E.164 form. Raises ValueError with a readable message."""
    region = country or default_country
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"not a phone number ({exc._msg})") from None
    if not phonenumbers.is_valid_number(number):
        # Named by the row's country when the number has its calling code (a bad US area
        # code is "not valid for US", not for whichever +1 country owns the digits).
        if phonenumbers.country_code_for_region(region.upper()) == number.country_code:
            place = region.upper()
        else:
            place = phonenumbers.region_code_for_number(number) or f"+{number.country_code}"
        raise ValueError(f"not a valid phone number for {place}")
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def _parse_time(value: str) -> datetime:
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    for candidate in (text, text.replace(" ", "T", 1)):
        try:
            parsed = datetime.fromisoformat(candidate)
            break
        except ValueError:
            continue
    else:
        for fmt in ("%m/%d/%Y %H:%M", "%m/%d/%Y", "%d.%m.%Y", "%Y/%m/%d"):
            try:
                parsed = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        else:
            raise ValueError("not a date/time (use ISO 8601, e.g. 2026-03-01T09:30:00Z)")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _text(raw: dict[str, Any], name: str) -> str:
    value = raw.get(name)
    if value is None:
        return ""
    if isinstance(value, bool | int | float):
        value = str(value)
    if not isinstance(value, str):
        raise TypeError(name)
    return " ".join(value.split()) if name != "message" else value.strip()


def normalize_inquiry(
    raw: dict[str, Any],
    *,
    default_country: str = "US",
    read_money: bool = False,
    custom: Sequence[custom_fields.Definition] = (),
    drop_bad_urls: bool | None = None,
) -> NormalizeResult:
    """``read_money``: read the deal value (MONEY_FIELDS) too; the import's rows only, so that
    a web form's own field that happens to be called "currency" never rejects an inquiry.
    A website that is not an http(s) address (``javascript:...``) is a field error, which the
    form or API shows; with ``drop_bad_urls`` (default: as ``read_money``, i.e. an import's
    rows, whose sender cannot fix them) it is dropped with a warning instead.
    ``custom``: the custom fields; the payload's ``custom`` object (name or label -> value) is
    read against them, and a value that cannot be read is a note, not a rejection."""
    errors: list[FieldError] = []
    warnings: list[str] = []
    values: dict[str, str] = dict.fromkeys(MONEY_FIELDS, "")
    for name in (*INTAKE_FIELDS, *MONEY_FIELDS) if read_money else INTAKE_FIELDS:
        try:
            values[name] = _text(raw, name)
        except TypeError:
            errors.append(FieldError(name, "must be text"))
            values[name] = ""
    for name, limit in {**PERSON_FIELDS, **LEAD_FIELDS}.items():
        if len(values[name]) > limit:
            errors.append(
                FieldError(name, f"is too long ({len(values[name])} characters, at most {limit})")
            )

    if values["name"] and not (values["first_name"] or values["last_name"]):
        first, _, last = values["name"].rpartition(" ")
        values["first_name"], values["last_name"] = (first, last) if first else (last, "")

    country, warning = clean_country(values["country"])
    if warning:
        warnings.append(warning)

    email = phone = email_unparsed = phone_unparsed = ""
    email_error = phone_error = ""
    if values["email"]:
        try:
            email = normalize_email(values["email"])
        except ValueError as exc:
            email_error = f"'{values['email']}' is not a valid email address: {exc}"
    if values["phone"]:
        try:
            phone = normalize_phone(values["phone"], country or None, default_country)
        except ValueError as exc:
            phone_error = f"'{values['phone']}' is {exc}"
    # Refused only when there is no valid way to reach the person; a bad address or number
    # next to a valid one is kept as given, with a note, and never used for matching.
    if email_error and phone:
        email_unparsed = values["email"][:254]
        reason = str(email_error).split(": ", 1)[-1].rstrip(".")
        warnings.append(
            f"email '{values['email']}' is not a valid address ({reason}): kept as given, not "
            "used for matching or mail"
        )
    elif email_error:
        errors.append(FieldError("email", email_error))
    if phone_error and email:
        phone_unparsed = values["phone"][:64]
        warnings.append(f"phone {phone_error}: kept as given, not used for matching")
    elif phone_error:
        errors.append(FieldError("phone", phone_error))
    if not values["email"] and not values["phone"]:
        errors.append(FieldError("email", "an email address or a phone number is required"))

    received_at = None
    if values["received_at"]:
        try:
            received_at = _parse_time(values["received_at"])
        except ValueError as exc:
            errors.append(FieldError("received_at", str(exc)))

    amount, currency = _money(values, errors)
    given = raw.get("custom")
    custom_values, custom_notes = custom_fields.read_all(
        custom, given if isinstance(given, dict) else None
    )
    warnings.extend(custom_notes)

    website, problem = web_url(values["website"])
    if problem:
        if read_money if drop_bad_urls is None else drop_bad_urls:
            warnings.append(f"website dropped: it {problem}")
        else:
            errors.append(FieldError("website", problem))
    if errors:
        return NormalizeResult(clean=None, errors=errors)
    person = {
        "email": email,
        "phone": phone,
        "phone_unparsed": phone_unparsed,
        "email_unparsed": email_unparsed,
        "first_name": values["first_name"],
        "last_name": values["last_name"],
        "title": values["title"],
        "company_name": values["company"],
        "website": website,
        "country": country,
        "region": values["region"],
        "city": values["city"],
        "postcode": values["postcode"],
        "street": values["street"],
        "language": values["language"],
    }
    lead = {name: values[name] for name in LEAD_FIELDS}
    return NormalizeResult(
        clean=CleanInquiry(
            person=person,
            lead=lead,
            received_at=received_at,
            consent=values["consent"].lower() in _TRUE,
            warnings=tuple(warnings),
            opportunity_amount=amount,
            currency=currency,
            custom=custom_values,
        )
    )


def _money(values: dict[str, str], errors: list[FieldError]) -> tuple[Decimal | None, str]:
    """The deal value and its currency; a currency written with the amount ("€12.500,00")
    counts unless the currency field names another."""
    currency = ""
    if values["currency"]:
        try:
            currency = money.currency_code(
                money.SYMBOLS.get(values["currency"], values["currency"])
            )
        except ValueError as exc:
            errors.append(FieldError("currency", str(exc)))
    if not values["opportunity_amount"]:
        return None, currency
    try:
        read = money.parse_amount(values["opportunity_amount"])
    except ValueError as exc:
        errors.append(FieldError("opportunity_amount", str(exc)))
        return None, currency
    if read.currency and currency and read.currency != currency:
        errors.append(
            FieldError(
                "currency",
                f"'{values['currency']}' does not match the amount's currency ({read.currency})",
            )
        )
    return read.amount, currency or read.currency
