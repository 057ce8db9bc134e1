"""Map CSV headers to intake field names. Pure: no database, no files.

Headers are compared case-, space- and punctuation-insensitively ("E-mail Address",
"email_address" and "EmailAddress" are the same key), against synonyms that cover common
spellings and the export headers of Salesforce (API names and report labels), HubSpot and
Mautic. Several columns may feed one field: the first non-empty one in priority order wins
(so "Phone" is used and "Mobile" fills in when it is empty), except the street, whose
columns are joined ("Address 1", "Address 2"). Unknown headers are reported as unmapped and
kept in the raw intake record under ``extra``.

A person can overrule the automatic choice per column (the import page's selects, a saved
mapping): ``overrides`` maps a header to a target (``TARGET_FIELDS``, ``custom:<name>`` for a
custom field, or ``""`` to ignore the column, which keeps it in the raw record only).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from leadrefinery.leads.custom_fields import Definition
from leadrefinery.leads.normalize import INTAKE_FIELDS, MONEY_FIELDS

# Recognised but not an intake field: where the row came from in the system it was exported
# from (Salesforce "Lead Source", HubSpot "Original Source"). The import's own --source is what
# the lead is attributed to; this value is kept in the raw payload as provenance.
LEAD_SOURCE = "lead_source"
TARGET_FIELDS: tuple[str, ...] = (*INTAKE_FIELDS, *MONEY_FIELDS, LEAD_SOURCE)
# Fields whose columns are joined rather than coalesced.
JOINED_FIELDS = {"street": ", "}

# Synonyms per field, in priority order (an earlier synonym wins when both columns have a
# value). Written as people type them; compared through header_key().
SYNONYMS: dict[str, tuple[str, ...]] = {
    "email": (
        "Email",
        "E-mail",
        "Email Address",
        "E-mail Address",
        "Work Email",
        "Business Email",
        "Primary Email",
        "Email 1",
        "Mail",
        "Personal Email",
    ),
    "phone": (
        "Phone",
        "Phone Number",
        "Telephone",
        "Telephone Number",
        "Tel",
        "Work Phone",
        "Business Phone",
        "Office Phone",
        "Direct Phone",
        "Primary Phone",
        "Phone 1",
        "Mobile",
        "MobilePhone",
        "Mobile Phone",
        "Mobile Phone Number",
        "Mobile Number",
        "Cell",
        "Cell Phone",
        "Cellphone",
        "Home Phone",
    ),
    "first_name": ("First Name", "FirstName", "Given Name", "Forename", "First", "fname"),
    "last_name": ("Last Name", "LastName", "Surname", "Family Name", "Last", "lname"),
    "name": ("Name", "Full Name", "Contact Name", "Contact", "Lead Name", "Person Name"),
    "title": ("Title", "Job Title", "JobTitle", "Position", "Job Position", "Role", "Job Role"),
    "company": (
        "Company",
        "Company Name",
        "Company / Account",
        "Organization",
        "Organisation",
        "Organization Name",
        "Organisation Name",
        "Account Name",
        "Account",
        "Business Name",
        "Employer",
        "Firm",
        "Associated Company",
    ),
    "website": (
        "Website",
        "Website URL",
        "Web Site",
        "Company Website",
        "URL",
        "Web",
        "Web Address",
        "Homepage",
        "Company Domain Name",
        "Domain",
    ),
    "country": (
        "Country",
        "Country/Region",
        "Country Code",
        "MailingCountry",
        "Mailing Country",
        "Nation",
    ),
    "region": (
        "State",
        "State/Province",
        "State/Region",
        "Region",
        "Province",
        "State Code",
        "MailingState",
        "Mailing State/Province",
        "County",
    ),
    "city": ("City", "Town", "MailingCity", "Mailing City", "Locality"),
    "postcode": (
        "Postal Code",
        "PostalCode",
        "Zip",
        "ZIP Code",
        "Zipcode",
        "Zip/Postal Code",
        "Postcode",
        "Post Code",
        "MailingPostalCode",
        "Mailing Zip/Postal Code",
    ),
    "street": (
        "Street",
        "Street Address",
        "Address",
        "Address 1",
        "Address Line 1",
        "MailingStreet",
        "Mailing Street",
        "Street Address 2",
        "Address 2",
        "Address Line 2",
    ),
    "language": ("Language", "Preferred Language", "Preferred Locale", "Locale", "Lang"),
    "product_interest": (
        "Product Interest",
        "Product",
        "Product Line",
        "Product of Interest",
        "Interested In",
        "Interest",
    ),
    "message": (
        "Message",
        "Description",
        "Comments",
        "Comment",
        "Inquiry",
        "Enquiry",
        "Question",
        "Notes",
        "Note",
        "Remarks",
    ),
    "need": ("Need", "Needs", "Business Need", "Pain"),
    "budget": ("Budget",),
    "authority": ("Authority", "Decision Maker", "Buying Role"),
    "timeline": (
        "Timeline",
        "Timeframe",
        "Time Frame",
        "Purchase Timeframe",
        "Purchase Timeline",
    ),
    # The deal value. "Amount" is Salesforce's and HubSpot's opportunity/deal amount (their
    # converted "Amount (converted)" and "Amount in company currency" are left unmapped: the
    # currency column gives the deal's own currency); deal_value is the usual Mautic custom
    # field. "Annual Revenue" is the company's, not the deal's, and stays unmapped too.
    "opportunity_amount": (
        "Amount",
        "Opportunity Amount",
        "Opportunity: Amount",
        "Deal Amount",
        "Deal Value",
        "deal_value",
        "Deal Size",
        "Expected Revenue",
        "Expected Value",
        "Estimated Value",
        "Opportunity Value",
        "Deal - Value",
    ),
    "currency": (
        "Currency",
        "Currency Code",
        "Currency ISO Code",
        "CurrencyIsoCode",
        "Opportunity Currency",
        "Opportunity: Currency",
        "Deal Currency",
        "Deal Currency Code",
        "deal_currency_code",
        "Lead Currency",
        "Amount Currency",
        "Deal - Currency of Value",
    ),
    "utm_source": ("utm_source", "UTM Source"),
    "utm_medium": ("utm_medium", "UTM Medium"),
    "utm_campaign": ("utm_campaign", "UTM Campaign"),
    "utm_term": ("utm_term", "UTM Term"),
    "utm_content": ("utm_content", "UTM Content"),
    "received_at": (
        "Received At",
        "Create Date",
        "Created Date",
        "CreatedDate",
        "Created",
        "Created At",
        "Created On",
        "Date Created",
        "date_added",
        "Date Added",
        "Submitted At",
        "Submission Date",
        "Timestamp",
        "Inquiry Date",
        "date_identified",
    ),
    "consent": (
        "Consent",
        "Opt-in",
        "Email Opt-in",
        "Marketing Consent",
        "Marketing Opt-in",
        "GDPR Consent",
        "Email Consent",
        "Subscribed",
    ),
    LEAD_SOURCE: ("Lead Source", "LeadSource", "Original Source", "Source", "Original Source Type"),
}

# Mautic's contact export names the job title "position" and uses "title" for the
# salutation (Mr, Ms, Dr); these headers together identify it.
_MAUTIC_SIGNS = {"dateadded", "dateidentified", "address1", "zipcode", "preferredlocale"}
_SALESFORCE_SIGNS = {"leadsource", "createddate", "mobilephone", "mailingstreet", "ownerid"}
_HUBSPOT_SIGNS = {"recordid", "countryregion", "stateregion", "originalsource", "websiteurl"}

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
# An override's target for a custom field: "custom:fleet_size".
CUSTOM_PREFIX = "custom:"
IGNORE = ""


def header_key(header: str) -> str:
    """'E-mail Address ' -> 'emailaddress': case, accents, spaces and punctuation folded."""
    text = unicodedata.normalize("NFKD", header).encode("ascii", "ignore").decode().lower()
    return _NON_ALNUM.sub("", text)


def _build_lookup() -> dict[str, tuple[str, int]]:
    lookup: dict[str, tuple[str, int]] = {}
    for target in TARGET_FIELDS:
        # The canonical name itself ("first_name", "utm_source") always maps, first.
        names = (target, *SYNONYMS.get(target, ()))
        for priority, name in enumerate(names):
            key = header_key(name)
            if key in lookup and lookup[key][0] != target:  # pragma: no cover - table bug
                raise AssertionError(f"header '{name}' is listed for two fields")
            lookup.setdefault(key, (target, priority))
    return lookup


_LOOKUP = _build_lookup()


@dataclass(frozen=True)
class HeaderMapping:
    """How the columns of one file map to intake fields."""

    headers: tuple[str, ...]  # unique display names, one per column
    # field -> column indexes, highest priority first
    columns: dict[str, tuple[int, ...]]
    unmapped: tuple[int, ...]  # column indexes kept under "extra"
    flavor: str | None = None  # "salesforce" | "hubspot" | "mautic" when recognised
    notes: tuple[str, ...] = field(default=())
    custom: dict[int, str] = field(default_factory=dict)  # column index -> custom field name

    @property
    def mapping(self) -> dict[str, str]:
        """Column header -> field name, in column order."""
        out: dict[int, str] = {}
        for name, indexes in self.columns.items():
            for index in indexes:
                out[index] = name
        out.update({index: f"custom: {name}" for index, name in self.custom.items()})
        return {self.headers[i]: out[i] for i in sorted(out)}

    @property
    def unmapped_headers(self) -> list[str]:
        return [self.headers[i] for i in self.unmapped]

    @property
    def has_contact_column(self) -> bool:
        return "email" in self.columns or "phone" in self.columns

    def column_for(self, name: str, row: Sequence[str]) -> str:
        """The header that supplied ``name`` in ``row`` (for error messages)."""
        indexes = self.columns.get(name, ())
        for index in indexes:
            if index < len(row) and row[index].strip():
                return self.headers[index]
        if indexes:
            return self.headers[indexes[0]]
        if name == "email" and "phone" in self.columns:
            # "an email or a phone is required" in a file without an email column
            return self.headers[self.columns["phone"][0]]
        return ""

    def payload(self, row: Sequence[str]) -> dict[str, object]:
        """The row as an intake payload: canonical fields, plus unmapped cells under "extra".

        Empty cells are left out (normalize treats a missing field as empty).
        """
        width = len(row)
        out: dict[str, object] = {}
        for name, indexes in self.columns.items():
            joiner = JOINED_FIELDS.get(name)
            if joiner is not None:
                parts = [row[i].strip() for i in indexes if i < width and row[i].strip()]
                if parts:
                    out[name] = joiner.join(parts)
                continue
            for index in indexes:
                if index < width:
                    value = row[index].strip()
                    if value:
                        out[name] = value
                        break
        extra = {
            self.headers[i]: row[i].strip() for i in self.unmapped if i < width and row[i].strip()
        }
        # Cells beyond the header row (a stray trailing delimiter, a shifted row) are kept too.
        for index in range(len(self.headers), width):
            if row[index].strip():
                extra[f"(column {index + 1})"] = row[index].strip()
        if extra:
            out["extra"] = extra
        custom = {
            name: row[i].strip() for i, name in self.custom.items() if i < width and row[i].strip()
        }
        if custom:
            out["custom"] = custom
        return out


def _unique_headers(raw: Sequence[str]) -> tuple[str, ...]:
    seen: dict[str, int] = {}
    out = []
    for position, header in enumerate(raw, start=1):
        name = header.strip() or f"(column {position})"
        if name in seen:
            name = f"{name} (column {position})"
        seen[name] = position
        out.append(name)
    return tuple(out)


def detect_flavor(keys: set[str]) -> str | None:
    if {"firstname", "lastname"} <= keys and keys & _MAUTIC_SIGNS and "position" in keys:
        return "mautic"
    if len(keys & _SALESFORCE_SIGNS) >= 2:
        return "salesforce"
    if len(keys & _HUBSPOT_SIGNS) >= 2:
        return "hubspot"
    return None


def _override_for(overrides: Mapping[str, str], header: str, raw: str) -> str | None:
    """The target a person chose for this column: by its header as shown, then by its text
    (case, spacing and punctuation aside: a saved mapping meets a file exported again)."""
    if header in overrides:
        return overrides[header]
    if raw in overrides:
        return overrides[raw]
    key = header_key(raw)
    for name, target in overrides.items():
        if key and header_key(name) == key:
            return target
    return None


def valid_target(target: str, custom: Sequence[Definition] = ()) -> bool:
    """Whether ``target`` names something a column can feed (or ignore)."""
    if target == IGNORE or target in TARGET_FIELDS:
        return True
    name = target.removeprefix(CUSTOM_PREFIX)
    return target.startswith(CUSTOM_PREFIX) and any(d.name == name for d in custom)


def map_headers(
    raw_headers: Sequence[str],
    custom: Sequence[Definition] = (),
    overrides: Mapping[str, str] | None = None,
) -> HeaderMapping:
    """Decide which column feeds which intake field; a column no intake field takes and that
    is named like a custom field (its name or its label, case and spacing aside) feeds it.
    ``overrides`` (header -> target, see the module docstring) overrule both; a target that
    names nothing known is noted and the column mapped automatically."""
    headers = _unique_headers(raw_headers)
    keys = [header_key(h) for h in raw_headers]
    flavor = detect_flavor(set(keys))
    notes: list[str] = []
    candidates: dict[str, list[tuple[int, int]]] = {}
    unmapped: list[int] = []
    chosen: dict[int, str] = {}  # column index -> custom field name, chosen by a person
    ignored: set[int] = set()
    for index, key in enumerate(keys):
        target = (
            _override_for(overrides, headers[index], raw_headers[index].strip())
            if overrides
            else None
        )
        if target is not None and not valid_target(target, custom):
            notes.append(f"'{headers[index]}': no field '{target}'; mapped automatically")
            target = None
        if target is not None:
            if target == IGNORE:
                ignored.add(index)
                unmapped.append(index)
            elif target.startswith(CUSTOM_PREFIX):
                chosen[index] = target.removeprefix(CUSTOM_PREFIX)
                unmapped.append(index)
            else:  # chosen by a person: before any column found by its name
                candidates.setdefault(target, []).append((-1, index))
            continue
        hit = _LOOKUP.get(key)
        if flavor == "mautic" and key == "title":
            notes.append(
                f"'{headers[index]}' holds the salutation in a Mautic export; the job title is "
                "taken from 'position'"
            )
            hit = None
        if hit is None:
            unmapped.append(index)
            continue
        target, priority = hit
        candidates.setdefault(target, []).append((priority, index))
    columns = {
        target: tuple(index for _, index in sorted(found))
        for target, found in sorted(candidates.items(), key=lambda kv: TARGET_FIELDS.index(kv[0]))
    }
    for target, indexes in columns.items():
        if len(indexes) > 1 and target not in JOINED_FIELDS:
            names = ", ".join(f"'{headers[i]}'" for i in indexes)
            notes.append(f"{target}: {names} (the first non-empty one is used)")
    named = {header_key(d.name): d.name for d in custom}
    named.update({header_key(d.label): d.name for d in custom if d.label})
    to_custom = {
        i: chosen.get(i) or named[keys[i]]
        for i in unmapped
        if i in chosen or (i not in ignored and keys[i] in named)
    }
    return HeaderMapping(
        headers=headers,
        columns=columns,
        unmapped=tuple(i for i in unmapped if i not in to_custom),
        flavor=flavor,
        notes=tuple(notes),
        custom=to_custom,
    )


def accepted_headers(target: str) -> list[str]:
    """The header spellings recognised for a field (for help and error messages)."""
    return list(SYNONYMS.get(target, (target,)))
