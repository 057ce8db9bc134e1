"""Web addresses people may click: only ``http`` and ``https``.

A stored ``javascript:`` (or ``data:``, ``vbscript:`` ...) "website" rendered as a link runs
script when clicked. ``web_url`` reads an address as entered (a bare ``www.example.com`` gets
``https://``) and refuses other schemes; ``clickable`` answers whether an already stored value
may be a link (templates: ``|web_href``), so that rows stored before the check are safe too.
"""

from __future__ import annotations

import re

SCHEMES = ("http", "https")
_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):", re.IGNORECASE)
# Browsers ignore these inside a scheme: "java\tscript:" is "javascript:".
_IGNORED = re.compile(r"[\x00-\x20\x7f]")


def _scheme(value: str) -> str | None:
    """The URL's scheme as a browser reads it, or None when it has none ("example.com",
    "example.com:8080/path": a host and port, not a scheme)."""
    squeezed = _IGNORED.sub("", value)
    match = _SCHEME.match(squeezed)
    if not match:
        return None
    rest = squeezed[match.end() :]
    if "://" not in squeezed[: match.end() + 2] and rest[:1].isdigit():
        return None  # host:port
    return match.group(1).lower()


def web_url(value: str) -> tuple[str, str]:
    """(the address to store, "") or ("", why it is refused). Empty stays empty."""
    value = (value or "").strip()
    if not value:
        return "", ""
    scheme = _scheme(value)
    if scheme is None:
        if value.startswith("/"):
            return "", "must be a full web address such as https://example.com"
        return "https://" + value, ""
    if scheme not in SCHEMES:
        return "", f"must be an http:// or https:// address, not {scheme}:"
    return value, ""


def clickable(value: object) -> str:
    """The value when it is an http(s) address that may be a link, else ""."""
    text = str(value or "").strip()
    return text if text and _scheme(text) in SCHEMES else ""
