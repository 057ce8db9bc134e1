"""Custom fields: a company's own qualifying data (industry code, fleet size, installed
product, budget band...), defined as data by an admin (``CustomField``) on leads, people or
accounts, and kept in the ``custom`` JSON of each (name -> value). A field's name is unique
across the three, so a lead's values (``merged``: its account's, its person's, its own) are
one name -> value mapping wherever they are read.

A value is read from text the way a person writes it (``read``): a number ("1,250", "12.5"), a
date (2026-03-31), yes/no (yes, no, true, false, 1, 0, y, n), one of a choice's options (case
does not matter), or text. Intake reads them from a payload's ``custom`` object (the API, and
the import, which maps a column named like a field's name or label to it); routing conditions,
scoring rules and the readiness model see them under the field's name, and the export has a
column per field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

KINDS = ("text", "number", "choice", "date", "yesno")
# What a field is about: one value per lead, per person (all of the person's leads share it)
# or per account (all of the company's people and leads share it).
ENTITIES = ("lead", "person", "account")
_TRUE = {"yes", "y", "true", "1", "ja", "oui", "si"}
_FALSE = {"no", "n", "false", "0", "nein", "non"}
NAME = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
# Names routing, scoring and the readiness model already use for built-in fields.
RESERVED = frozenset(
    {
        "email", "phone", "first_name", "last_name", "name", "title", "company", "website",
        "country", "region", "city", "postcode", "street", "language", "industry",
        "employee_band", "email_domain", "source", "campaign", "product_interest",
        "temperature", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content",
        "budget", "timeline", "need", "authority", "message", "consent", "received_at",
        "fit_points", "engagement", "visits", "email_opens", "email_clicks", "events",
        "form_fills", "email_kind", "title_level", "stage", "owner", "custom", "extra",
    }
)  # fmt: skip


@dataclass(frozen=True)
class Definition:
    """What a value is read against (a CustomField row, without the ORM)."""

    name: str
    label: str
    kind: str
    choices: tuple[str, ...] = ()
    help_text: str = ""
    entity: str = "lead"


def merged(
    lead: Mapping[str, Any] | None,
    person: Mapping[str, Any] | None,
    account: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """A lead's custom values: its account's, its person's and its own (names are unique
    across the three; should one be stored twice, the narrower one wins)."""
    return {**(account or {}), **(person or {}), **(lead or {})}


def slug(text: str) -> str:
    """A field name from a column header: "Fleet size (trucks)" -> "fleet_size_trucks"."""
    name = re.sub(r"[^a-z0-9]+", "_", text.strip().lower()).strip("_")[:50]
    if name and not name[0].isalpha():
        name = f"f_{name}"[:50]
    return name


def read(definition: Definition, raw: object) -> object:
    """The stored value of ``raw`` (text, or already a number or a bool); ValueError with a
    message fit for the user when it is not one. Empty text is None (no value)."""
    if raw is None:
        return None
    text = str(raw).strip() if not isinstance(raw, bool | int | float) else raw
    if text == "":
        return None
    kind = definition.kind
    if kind == "number":
        if isinstance(text, bool):
            raise ValueError("must be a number")
        if isinstance(text, float):
            if text != text or text in (float("inf"), float("-inf")):
                raise ValueError("must be a finite number")
            return int(text) if text.is_integer() else text
        if isinstance(text, int):
            return text
        try:
            number = Decimal(text.replace(",", "").replace(" ", ""))
        except InvalidOperation:
            raise ValueError(f"'{text}' is not a number") from None
        if not number.is_finite():
            raise ValueError(f"'{text}' is not a number")
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == "yesno":
        if isinstance(text, bool):
            return text
        word = str(text).lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
        raise ValueError(f"'{text}' is not yes or no")
    if kind == "date":
        try:
            return date.fromisoformat(str(text)).isoformat()
        except ValueError:
            raise ValueError(f"'{text}' is not a date (write it as 2026-03-31)") from None
    value = str(text)
    if kind == "choice":
        for option in definition.choices:
            if option.casefold() == value.casefold():
                return option
        raise ValueError(f"'{value}' is not one of {', '.join(definition.choices)}")
    if len(value) > 500:
        raise ValueError(f"is too long ({len(value)} characters, at most 500)")
    return value


def read_all(
    definitions: Sequence[Definition], given: Mapping[str, Any] | None
) -> tuple[dict[str, object], list[str]]:
    """The values of ``given`` (field name or label -> raw) for the defined fields, and a note
    for each value that could not be read (the rest of the inquiry stands) or that names no
    field."""
    values: dict[str, object] = {}
    notes: list[str] = []
    if not given:
        return values, notes
    by_key = {d.name: d for d in definitions}
    by_key.update({d.label.casefold(): d for d in definitions if d.label})
    for key, raw in given.items():
        definition = by_key.get(str(key)) or by_key.get(str(key).casefold())
        if definition is None:
            notes.append(f"custom field '{key}' is not defined: its value was not kept")
            continue
        try:
            value = read(definition, raw)
        except ValueError as exc:
            notes.append(f"{definition.name} {exc}: left empty")
            continue
        if value is not None:
            values[definition.name] = value
    return values, notes


def show(value: object) -> str:
    """A value as the lead page and the export show it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return str(value)


def infer_kind(values: Sequence[str]) -> str:
    """The kind a column's values suggest: number, yes/no, date, else text."""
    seen = [v.strip() for v in values if v and v.strip()]
    if not seen:
        return "text"
    for kind in ("number", "yesno", "date"):
        probe = Definition("x", "x", kind)
        try:
            for value in seen:
                read(probe, value)
        except ValueError:
            continue
        return kind
    return "text"
