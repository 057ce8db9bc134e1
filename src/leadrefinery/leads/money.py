"""Money on a lead: amounts and currency codes, checked and read the same way everywhere.

An amount is a ``Decimal`` of at least 0 with at most 12 digits before the decimal point and
2 after it (``Lead.opportunity_amount`` and ``won_amount`` are ``max_digits=14,
decimal_places=2``). A currency is an ISO 4217 code, stored upper-case; an empty one means the
reporting currency (``REFINERY_REPORTING_CURRENCY``).

``parse_amount`` reads what people and other systems write ("12,500.00", "12500",
"€12.500,00", "12 500 EUR") for the CSV import and the lead page; the API takes plain decimals
only. Pure: no database, no settings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import pycountry

WHOLE_DIGITS = 12
CENT = Decimal("0.01")
MAX_AMOUNT = Decimal(10**WHOLE_DIGITS) - CENT
# Codes ISO 4217 lists that are no money anyone sells for: "no currency" and the testing code.
_NOT_MONEY = frozenset({"XXX", "XTS"})

# Symbols written before or after a number, longest first where one is the end of another.
# "$" alone is read as US dollars; write CAD, AUD (or C$, A$) for the others.
SYMBOLS: dict[str, str] = {
    "US$": "USD",
    "CA$": "CAD",
    "C$": "CAD",
    "AU$": "AUD",
    "A$": "AUD",
    "NZ$": "NZD",
    "HK$": "HKD",
    "S$": "SGD",
    "R$": "BRL",
    "MX$": "MXN",
    "$": "USD",
    "€": "EUR",
    "£": "GBP",
    "¥": "JPY",
    "₹": "INR",
    "₩": "KRW",
    "₽": "RUB",
    "₺": "TRY",
    "₪": "ILS",
    "₫": "VND",
    "฿": "THB",
    "₱": "PHP",
    "zł": "PLN",
}
_SYMBOL = "|".join(re.escape(s) for s in sorted(SYMBOLS, key=len, reverse=True))
_PREFIX = re.compile(rf"^(?P<cur>{_SYMBOL}|[A-Za-z]{{3}}(?![A-Za-z]))\s*")
_SUFFIX = re.compile(rf"\s*(?P<cur>{_SYMBOL}|(?<![A-Za-z])[A-Za-z]{{3}})$")
# Spaces people and spreadsheets put between groups of digits (no-break and thin ones too).
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009]+")
_MINUS = ("-", "\u2212")
EXAMPLES = "e.g. 12500, 12,500.00 or EUR 12.500,00"


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str  # ISO 4217, or "" when the text named none


def currency_code(value: str) -> str:
    """``value`` as a stored currency: "eur" -> "EUR", "" -> "". Raises ValueError when it is
    not an ISO 4217 code."""
    text = value.strip().upper()
    if not text:
        return ""
    known = (
        len(text) == 3
        and text.isascii()
        and text.isalpha()
        and text not in _NOT_MONEY
        and pycountry.currencies.get(alpha_3=text) is not None
    )
    if not known:
        raise ValueError(f"'{value.strip()}' is not an ISO 4217 currency code (e.g. USD, EUR)")
    return text


def check_amount(value: Decimal) -> Decimal:
    """``value`` as stored (two decimal places). Raises ValueError, a message to follow the
    field's name, when it is not a finite number from 0 to 999,999,999,999.99 in cents."""
    if not value.is_finite():
        raise ValueError("must be a number")
    if value < 0:
        raise ValueError("must be 0 or more")
    if value > MAX_AMOUNT:
        raise ValueError(f"is too large (at most {WHOLE_DIGITS} digits before the decimal point)")
    cents = value.quantize(CENT)
    if cents != value:
        raise ValueError("has more than 2 decimal places")
    return cents.copy_abs()  # -0 is 0


def parse_amount(text: str) -> Money:
    """An amount as people write it, with an optional currency before or after it.

    Thousands may be grouped with ",", ".", spaces or "'"; the decimal separator is "." or ",":
    with both, the last one is the decimal point ("12.500,00", "12,500.00"); with one of them
    once and exactly three digits after it, it groups thousands ("12,500", "1.500"); otherwise
    it is the decimal point ("12,5"). Raises ValueError with a message for the user."""
    raw = text.strip()
    rest = _SPACES.sub(" ", raw)
    negative = False
    if rest.startswith("(") and rest.endswith(")"):  # accounting notation
        negative, rest = True, rest[1:-1].strip()
    if rest.startswith(_MINUS):
        negative, rest = True, rest[1:].strip()
    currency = ""
    found = _PREFIX.match(rest)
    if found:
        currency, rest = found["cur"], rest[found.end() :]
    if rest.startswith(_MINUS):  # "$-100", "EUR -100"
        negative, rest = True, rest[1:].strip()
    found = _SUFFIX.search(rest)
    if found:
        if currency:
            raise ValueError(f"'{raw}' names two currencies")
        currency, rest = found["cur"], rest[: found.start()]
    digits = _plain_number(rest.strip())
    if digits is None:
        raise ValueError(f"'{raw}' is not an amount ({EXAMPLES})")
    if currency:
        code = SYMBOLS.get(currency) or currency.upper()
        try:
            currency = currency_code(code)
        except ValueError:
            raise ValueError(f"'{raw}': {currency} is not an ISO 4217 currency code") from None
    try:
        amount = Decimal(digits)
    except InvalidOperation:  # pragma: no cover - _plain_number lets only digits through
        raise ValueError(f"'{raw}' is not an amount ({EXAMPLES})") from None
    try:
        amount = check_amount(-amount if negative else amount)
    except ValueError as exc:
        raise ValueError(f"'{raw}' {exc}") from None
    return Money(amount=amount, currency=currency)


_GROUPED = {
    sep: re.compile(rf"^\d{{1,3}}({re.escape(sep)}\d{{3}})+$") for sep in (",", ".", " ", "'")
}


def _plain_number(text: str) -> str | None:
    """ "12.500,50" -> "12500.50"; None when ``text`` is not a number written with digits,
    thousands groups and one decimal separator."""
    if not text or not re.fullmatch(r"[\d.,' ]+", text) or not text[0].isdigit():
        return None
    whole, point, fraction = text, "", ""
    marks = [i for i, c in enumerate(text) if c in ".,"]
    if marks:
        last = text[marks[-1]]
        tail = text[marks[-1] + 1 :]
        same = [i for i in marks if text[i] == last]
        decimal = (
            len(same) == 1
            and tail.isdigit()
            and (len(marks) > len(same) or len(tail) != 3 or (text[0] == "0" and marks[0] == 1))
        )
        if decimal:
            whole, point, fraction = text[: marks[-1]], ".", tail
    if not whole or not whole[-1].isdigit():
        return None
    if not whole.isdigit():
        seps = {c for c in whole if not c.isdigit()}
        if len(seps) != 1 or not _GROUPED[seps.pop()].match(whole):
            return None
        whole = "".join(c for c in whole if c.isdigit())
    return whole + point + fraction


def format_amount(amount: Decimal, currency: str) -> str:
    """ "12,500.00 EUR": grouped, in cents, with its code."""
    return f"{amount:,.2f} {currency}".strip()
