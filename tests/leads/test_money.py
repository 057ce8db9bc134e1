"""leads/money.py: amounts as people and other systems write them, currencies as ISO codes.
Pure: no database."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadrefinery.leads.money import (
    MAX_AMOUNT,
    Money,
    check_amount,
    currency_code,
    format_amount,
    parse_amount,
)


@pytest.mark.parametrize(
    ("text", "amount", "currency"),
    [
        ("12500", "12500.00", ""),
        ("12,500.00", "12500.00", ""),
        ("12.500,00", "12500.00", ""),
        ("€12.500,00", "12500.00", "EUR"),
        ("12 500,50 EUR", "12500.50", "EUR"),
        ("USD 1,234,567.89", "1234567.89", "USD"),
        ("$1,000", "1000.00", "USD"),
        ("£ 99.5", "99.50", "GBP"),
        ("CHF 1'250.50", "1250.50", "CHF"),
        ("1.000.000,00 €", "1000000.00", "EUR"),
        ("eur 10", "10.00", "EUR"),
        ("12,5", "12.50", ""),
        ("0,5", "0.50", ""),
        # One separator followed by exactly three digits groups thousands.
        ("12,500", "12500.00", ""),
        ("1.500", "1500.00", ""),
        ("12\u00a0500", "12500.00", ""),  # a no-break space, as spreadsheets write it
    ],
)
def test_amounts_are_read_as_people_write_them(text, amount, currency):
    assert parse_amount(text) == Money(Decimal(amount), currency)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("-100", "'-100' must be 0 or more"),
        ("(100)", "'(100)' must be 0 or more"),
        ("$-5", "'$-5' must be 0 or more"),
        ("0.125", "'0.125' has more than 2 decimal places"),
        ("1000000000000", "is too large (at most 12 digits before the decimal point)"),
        ("twelve", "'twelve' is not an amount (e.g. 12500, 12,500.00 or EUR 12.500,00)"),
        ("12..5", "is not an amount"),
        ("12,50,000", "is not an amount"),
        ("1e3", "is not an amount"),
        ("EUR", "is not an amount"),
        ("10 EUR USD", "is not an amount"),
        ("€10 EUR", "names two currencies"),
        ("ABC 12", "ABC is not an ISO 4217 currency code"),
    ],
)
def test_unreadable_or_impossible_amounts_say_why(text, message):
    with pytest.raises(ValueError) as refused:
        parse_amount(text)
    assert message in str(refused.value)


def test_currency_codes_are_iso_4217_and_stored_upper_case():
    assert currency_code(" eur ") == "EUR"
    assert currency_code("") == ""
    for wrong in ("EU", "EURO", "ABC", "XXX", "€", "E1R"):
        with pytest.raises(ValueError, match="is not an ISO 4217 currency code"):
            currency_code(wrong)


def test_check_amount_keeps_cents_and_refuses_the_rest():
    assert check_amount(Decimal("12500")) == Decimal("12500.00")
    assert str(check_amount(Decimal("-0"))) == "0.00"
    assert check_amount(MAX_AMOUNT) == MAX_AMOUNT
    for value, message in (
        (Decimal("-0.01"), "must be 0 or more"),
        (MAX_AMOUNT + Decimal("0.01"), "is too large"),
        (Decimal("1.001"), "more than 2 decimal places"),
        (Decimal("NaN"), "must be a number"),
        (Decimal("Infinity"), "must be a number"),
    ):
        with pytest.raises(ValueError, match=message):
            check_amount(value)


@given(
    cents=st.integers(min_value=0, max_value=int(MAX_AMOUNT * 100)),
    currency=st.sampled_from(["", "USD", "EUR", "JPY"]),
)
def test_what_the_page_shows_reads_back_as_the_same_amount(cents, currency):
    amount = Decimal(cents) / 100
    shown = format_amount(amount, currency)  # "12,500.00 EUR"
    assert parse_amount(shown) == Money(amount.quantize(Decimal("0.01")), currency)
