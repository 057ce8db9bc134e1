"""Pure rules of erasure: which strings identify a person, and how text and JSON are scrubbed
of them. No database, no Django."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ERASED = "[erased]"
# A name shorter than this is not searched for inside other text (it would hit ordinary
# words); fields that hold only the person's data are blanked whole instead.
MIN_NEEDLE = 3


@dataclass(frozen=True)
class Needles:
    """The person's identifying strings, and one regular expression that finds any of them:
    contacts anywhere (case-insensitive), names as whole words."""

    values: tuple[str, ...]
    pattern: re.Pattern[str] | None

    def found_in(self, text: str) -> bool:
        return bool(text) and self.pattern is not None and self.pattern.search(text) is not None


def needles_of(contacts: Iterable[str], words: Iterable[str]) -> Needles:
    """``contacts`` (emails, phones) are matched as substrings; ``words`` (names, street,
    company) as whole words. Both ignore case; blanks and short words are left out."""
    exact = {c.strip() for c in contacts if c and len(c.strip()) >= MIN_NEEDLE}
    whole = {w.strip() for w in words if w and len(w.strip()) >= MIN_NEEDLE} - exact
    # A phone in E.164 is also written without its "+" (payload echoes, URL-encoded forms).
    exact |= {c[1:] for c in exact if c.startswith("+") and len(c) > MIN_NEEDLE}
    parts = [re.escape(c) for c in sorted(exact, key=len, reverse=True)]
    parts += [rf"\b{re.escape(w)}\b" for w in sorted(whole, key=len, reverse=True)]
    pattern = re.compile("|".join(parts), re.IGNORECASE) if parts else None
    return Needles(values=tuple(sorted(exact | whole)), pattern=pattern)


def scrub_text(text: str, needles: Needles) -> str:
    if not text or needles.pattern is None:
        return text
    return needles.pattern.sub(ERASED, text)


def scrub_json(value: Any, needles: Needles) -> Any:
    """Every string in a JSON value (keys included) with the needles replaced."""
    if isinstance(value, str):
        return scrub_text(value, needles)
    if isinstance(value, list):
        return [scrub_json(v, needles) for v in value]
    if isinstance(value, dict):
        return {scrub_text(str(k), needles): scrub_json(v, needles) for k, v in value.items()}
    return value


def url_without_query(url: str) -> str:
    """A URL without its query and fragment (where forms and links carry emails and names)."""
    if not url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def url_origin(url: str) -> str:
    """Only the scheme and host of a URL (a referrer says where a visit came from)."""
    if not url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    return urlunsplit((parts.scheme, parts.netloc, "", "", "")) if parts.netloc else ""


def retention_cutoff_months(months: int, year: int, month: int) -> tuple[int, int]:
    """The (year, month) that lies ``months`` calendar months before (year, month)."""
    index = year * 12 + (month - 1) - months
    return index // 12, index % 12 + 1
