"""Writes to the marketing money the reports read: cost entries and exchange rates.

The page (/reports/costs) and the API (/api/v1/costs) call these services; both refuse with
``ConfigRefused`` naming each field. Marketers and admins may write; nothing is deleted (an
entry is voided). Costs are read when a report is drawn, so a new entry shows at once; a new
rate changes how lead amounts convert, so the leads with money in that currency are counted
again in the next rollup sweep.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

import pycountry
from django.db import transaction

from leadrefinery.accounts.models import Role, User
from leadrefinery.common.clock import now
from leadrefinery.common.errors import ConfigRefused
from leadrefinery.leads.models import Campaign, Source

from .facts import reporting_currency
from .models import CostEntry, CurrencyRate
from .rollup import mark_currency_due

MAX_AMOUNT = Decimal("999999999999.99")  # CostEntry.amount: 14 digits, 2 decimals
MAX_RATE = Decimal("99999999.99999999")  # CurrencyRate.rate: 16 digits, 8 decimals


def can_manage_costs(user: Any) -> bool:
    """Marketers and admins keep the costs and the rates."""
    return bool(
        user.is_authenticated
        and user.is_active
        and (user.is_superuser or user.role in (Role.MARKETER, Role.ADMIN))
    )


def currency_code(raw: str) -> str:
    """An ISO 4217 code in capitals ("" stays ""); ValueError when there is no such currency."""
    code = (raw or "").strip().upper()
    if code and (len(code) != 3 or pycountry.currencies.get(alpha_3=code) is None):
        raise ValueError(f"'{code[:10]}' is not an ISO 4217 currency code (e.g. EUR, GBP)")
    return code


def _decimal(value: Any, *, places: int, most: Decimal, errors: list[str]) -> Decimal | None:
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        errors.append("must be a number")
        return None
    if not amount.is_finite():
        errors.append("must be a number")
        return None
    exponent = amount.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -places:
        errors.append(f"at most {places} decimals")
    if amount > most:
        errors.append(f"at most {most:,}")
    return amount


@transaction.atomic
def cost_entry_create(
    *,
    source: Source | None,
    campaign: Campaign | None,
    starts_on: Any,
    ends_on: Any,
    amount: Any,
    currency: str = "",
    note: str = "",
    actor: User,
) -> CostEntry:
    """Record money spent on a source (or one of its campaigns) from ``starts_on`` to
    ``ends_on`` (both included)."""
    errors: dict[str, list[str]] = {}
    if not can_manage_costs(actor):
        raise ConfigRefused({"source": ["only marketers and admins record costs"]})
    if source is None:
        errors["source"] = ["choose a source"]
    if campaign is not None and source is not None and campaign.source_id != source.pk:
        errors["campaign"] = [f"'{campaign.name}' is a campaign of another source"]
    if starts_on is None:
        errors["starts_on"] = ["give the first day the cost covers"]
    if ends_on is None:
        errors["ends_on"] = ["give the last day the cost covers"]
    elif starts_on is not None and ends_on < starts_on:
        errors["ends_on"] = ["the last day is before the first day"]
    amount_errors: list[str] = []
    value = _decimal(amount, places=2, most=MAX_AMOUNT, errors=amount_errors)
    if value is not None and value < 0:
        amount_errors.append("must be 0 or more")
    if amount_errors:
        errors["amount"] = amount_errors
    try:
        code = currency_code(currency)
    except ValueError as exc:
        errors["currency"] = [str(exc)]
        code = ""
    note = (note or "").strip()
    if len(note) > 300:
        errors["note"] = ["at most 300 characters"]
    if errors:
        raise ConfigRefused(errors)
    assert source is not None and value is not None
    return CostEntry.objects.create(
        source=source,
        campaign=campaign,
        starts_on=starts_on,
        ends_on=ends_on,
        amount=value.quantize(Decimal("0.01")),
        currency=code,
        note=note,
        created_by=actor,
        created_at=now(),
    )


@transaction.atomic
def cost_entry_void(*, entry: CostEntry, actor: User) -> CostEntry:
    """Leave an entry out of the reports from now on; it stays listed, marked voided. Voiding
    it again changes nothing (a retried request is harmless)."""
    if not can_manage_costs(actor):
        raise ConfigRefused({"entry": ["only marketers and admins void costs"]})
    entry = CostEntry.objects.select_for_update().get(pk=entry.pk)
    if entry.voided_at is None:
        entry.voided_at = now()
        entry.save(update_fields=["voided_at"])
    return entry


@transaction.atomic
def currency_rate_set(*, currency: str, rate: Any, actor: User) -> CurrencyRate:
    """One unit of ``currency`` is worth ``rate`` units of the reporting currency. The leads
    with an amount in that currency are counted again in the next rollup sweep."""
    if not can_manage_costs(actor):
        raise ConfigRefused({"currency": ["only marketers and admins set exchange rates"]})
    errors: dict[str, list[str]] = {}
    try:
        code = currency_code(currency)
    except ValueError as exc:
        errors["currency"] = [str(exc)]
        code = ""
    reporting = reporting_currency()
    if not code and "currency" not in errors:
        errors["currency"] = ["give a currency code"]
    elif code == reporting:
        errors["currency"] = [f"{reporting} is the reporting currency: its rate is always 1"]
    rate_errors: list[str] = []
    value = _decimal(rate, places=8, most=MAX_RATE, errors=rate_errors)
    if value is not None and value <= 0:
        rate_errors.append("must be more than 0")
    if rate_errors:
        errors["rate"] = rate_errors
    if errors:
        raise ConfigRefused(errors)
    assert value is not None
    at = now()
    row, _ = CurrencyRate.objects.update_or_create(
        currency=code, defaults={"rate": value, "updated_at": at}
    )
    mark_currency_due(code, at)
    return row
