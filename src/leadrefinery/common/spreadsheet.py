"""CSV cells a spreadsheet would run as a formula (CSV injection, OWASP): defused with a
leading apostrophe, the way the spreadsheet programs themselves mark text.

A cell starting with ``=``, ``@``, a tab or a carriage return is always defused. One starting
with ``+`` or ``-`` is defused only when it is more than arithmetic on plain numbers: a phone
in E.164 (``+14155550100``), ``+1 (415) 555-0100`` or ``-35.0`` can call no function nor
reach another program, and an apostrophe would corrupt them for whoever imports the file.
"""

from __future__ import annotations

import re
from typing import Any

_ALWAYS = ("=", "@", "\t", "\r")
_SIGNS = ("+", "-")
_ARITHMETIC = re.compile(r"^[+\-]?[\d\s().,/+\-]*$")


def is_formula(value: str) -> bool:
    if value.startswith(_ALWAYS):
        return True
    return value.startswith(_SIGNS) and not _ARITHMETIC.match(value)


def cell(value: Any) -> Any:
    """The value to write: text that is a formula gets a leading apostrophe; anything else,
    numbers included, as it is."""
    if isinstance(value, str) and is_formula(value):
        return "'" + value
    return value
