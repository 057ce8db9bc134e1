"""Text that every database can store.

PostgreSQL refuses a NUL character in text (and in JSON text); other C0 control characters
are never part of what a person typed and break CSV files and terminals downstream. Every
entry point that stores what it was given removes them first (``scrub``), so that such a
character can never lose an inquiry; tab, line feed and carriage return stay.
"""

from __future__ import annotations

import re
from typing import Any

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def scrub_text(text: str) -> tuple[str, int]:
    """``text`` without control characters, and how many were removed."""
    cleaned, removed = _CONTROL.subn("", text)
    return cleaned, removed


def scrub(value: Any) -> tuple[Any, int]:
    """``value`` (text, or lists and dicts of them, keys included) without control
    characters, and how many were removed."""
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, dict):
        if _all_clean_text(value):  # most payloads: text in, text out, nothing to remove
            return _copied(value), 0
        out: dict[Any, Any] = {}
        total = 0
        for key, item in value.items():
            clean_key, a = scrub(key) if isinstance(key, str) else (key, 0)
            clean_item, b = scrub(item)
            out[clean_key] = clean_item
            total += a + b
        return out, total
    if isinstance(value, list | tuple):
        items = [scrub(item) for item in value]
        return type(value)(i for i, _ in items), sum(n for _, n in items)
    return value, 0


def _all_clean_text(value: dict[Any, Any]) -> bool:
    """Whether every key and value of ``value`` is text (a ``str`` itself, or a dict of such
    text, as a CSV row's payload and its unmapped cells are) without a control character: one
    search over all of them instead of one per key and value."""
    texts: list[str] = []
    dicts = [value]
    while dicts:
        for key, item in dicts.pop().items():
            if type(key) is not str:
                return False
            texts.append(key)
            if type(item) is str:
                texts.append(item)
            elif type(item) is dict:
                dicts.append(item)
            else:
                return False
    return _CONTROL.search("".join(texts)) is None


def _copied(value: dict[Any, Any]) -> dict[Any, Any]:
    """``value`` with its dicts copied (what ``scrub`` gives when nothing is removed)."""
    return {k: _copied(v) if type(v) is dict else v for k, v in value.items()}
