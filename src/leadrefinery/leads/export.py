"""CSV export of leads, custom fields included. What a user may export is exactly what they
may see (visible_to)."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from leadrefinery.common import spreadsheet

from .custom_field_services import definitions, lead_values
from .custom_fields import show
from .models import Lead
from .selectors import leads_for_listing


def _amount(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}"


COLUMNS: list[tuple[str, Any]] = [
    ("lead_id", lambda lead: lead.pk),
    ("stage", lambda lead: lead.stage),
    ("first_name", lambda lead: lead.person.first_name),
    ("last_name", lambda lead: lead.person.last_name),
    ("email", lambda lead: lead.person.email or lead.person.email_unparsed),
    ("phone", lambda lead: lead.person.phone or lead.person.phone_unparsed),
    ("company", lambda lead: lead.account.name if lead.account else lead.person.company_name),
    ("title", lambda lead: lead.person.title),
    ("country", lambda lead: lead.person.country),
    (
        "owner",
        lambda lead: (
            lead.owner_user.username
            if lead.owner_user
            else f"queue:{lead.owner_queue.slug}"
            if lead.owner_queue
            else ""
        ),
    ),
    ("next_action", lambda lead: lead.next_action),
    (
        "next_action_due_at",
        lambda lead: lead.next_action_due_at.isoformat() if lead.next_action_due_at else "",
    ),
    ("source", lambda lead: lead.source.name),
    ("campaign", lambda lead: lead.campaign.name if lead.campaign else ""),
    ("product_interest", lambda lead: lead.product_interest),
    ("utm_source", lambda lead: lead.utm_source),
    ("utm_medium", lambda lead: lead.utm_medium),
    ("utm_campaign", lambda lead: lead.utm_campaign),
    ("disposition", lambda lead: lead.disposition_id or ""),
    # Amounts as plain decimals ("12500.00"), so that spreadsheets read them as numbers in
    # any locale; the currency is the lead's own, else the reporting currency.
    ("opportunity_amount", lambda lead: _amount(lead.opportunity_amount)),
    ("won_amount", lambda lead: _amount(lead.won_amount)),
    ("currency", lambda lead: lead.currency or settings.REFINERY_REPORTING_CURRENCY),
    ("sales_touches", lambda lead: lead.sales_touch_count),
    ("received_at", lambda lead: lead.received_at.isoformat()),
    ("disposed_at", lambda lead: lead.disposed_at.isoformat() if lead.disposed_at else ""),
]


class _Echo:
    def write(self, value: str) -> str:
        return value


def _cell(value: Any) -> Any:
    # Formulas are defused; a phone such as +14155550100 is left as it is (common/spreadsheet.py).
    return spreadsheet.cell(value)


def rows(leads: QuerySet[Lead], chunk_size: int = 2000) -> Iterator[list[Any]]:
    """The header, then a row per lead: the columns above, then one per custom field (named
    by the field's name, so that the file imports back into the same fields)."""
    custom = [d.name for d in definitions()]
    yield [*(name for name, _ in COLUMNS), *custom]
    for lead in leads_for_listing(leads).order_by("pk").iterator(chunk_size=chunk_size):
        values = lead_values(lead)
        yield [
            *(_cell(get(lead)) for _, get in COLUMNS),
            *(_cell(show(values.get(name))) for name in custom),
        ]


def csv_lines(leads: QuerySet[Lead]) -> Iterable[str]:
    """CSV text line by line, for a streaming HTTP response or a file."""
    writer = csv.writer(_Echo())
    return (writer.writerow(row) for row in rows(leads))
