"""Render a library message for one recipient: Markdown to HTML and plain text, merge fields,
the sender's postal address and the unsubscribe link (every message carries both).

Pure apart from reading settings: no ORM, no clock.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass

from markdown_it import MarkdownIt

from . import domain

# Raw HTML in the Markdown is shown as text, never passed through: content cannot inject
# markup (or tracking) of its own.
_MD = MarkdownIt("commonmark", {"html": False, "linkify": False})
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!<>|~])")


@dataclass(frozen=True)
class Rendered:
    subject: str
    html: str
    text: str


SAMPLE = {
    "first_name": "Dana",
    "last_name": "Whitfield",
    "full_name": "Dana Whitfield",
    "company": "Northwind Traders",
    "email": "dana@example.com",
    "country": "DE",
}


def person_values(person: object) -> dict[str, str]:
    first = getattr(person, "first_name", "") or ""
    last = getattr(person, "last_name", "") or ""
    return {
        "first_name": first,
        "last_name": last,
        "full_name": f"{first} {last}".strip(),
        "company": getattr(person, "company_name", "") or "",
        "email": getattr(person, "email", "") or "",
        "country": getattr(person, "country", "") or "",
    }


def render(
    *,
    subject: str,
    body_markdown: str,
    values: dict[str, str],
    unsubscribe_url: str,
    postal_address: str,
    rewrite: Callable[[str], str] | None = None,
) -> Rendered:
    """The email for one recipient. Merge values are escaped for Markdown in the HTML part, so
    a name like ``[x](http://evil)`` stays text. ``rewrite`` (tracking) sees the content only,
    never the footer: the unsubscribe link must not count as a click."""
    escaped = {k: _MD_SPECIAL.sub(r"\\\1", v) for k, v in values.items()}
    body_html = _MD.render(domain.merge(body_markdown, escaped))
    if rewrite is not None:
        body_html = rewrite(body_html)
    text = domain.merge(body_markdown, values).strip()
    address_html = "<br>".join(html.escape(line) for line in postal_address.splitlines())
    footer_html = (
        '<hr><p style="font-size:12px;color:#666">'
        f"{address_html}<br>"
        f'You receive these tips from us. <a href="{html.escape(unsubscribe_url)}">'
        "Unsubscribe</a> with one click.</p>"
    )
    footer_text = f"\n\n--\n{postal_address}\nUnsubscribe with one click: {unsubscribe_url}\n"
    return Rendered(
        subject=domain.merge(subject, values).replace("\n", " ").strip(),
        html=f"<!doctype html><html><body>{body_html}{footer_html}</body></html>",
        text=text + footer_text,
    )
