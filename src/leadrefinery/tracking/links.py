"""Signed tracking links for outgoing email: the open pixel and click redirects.

Public API (the nurture app builds against it):

    pixel_url(*, person_id, message_ref) -> absolute URL of the open pixel
    click_url(*, person_id, message_ref, url) -> absolute URL that redirects to ``url``
    rewrite_links(html, *, person_id, message_ref) -> html with every http(s) link
        rewritten to a click URL and the open pixel appended

Tokens are ``django.core.signing`` payloads under their own salts. A click token carries
its target, so only URLs the message contained ever redirect; a forged or damaged token
reads as ``None`` (see ``read_open`` / ``read_click``) and the views record nothing.
"""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass

from django.conf import settings
from django.core import signing

OPEN_SALT = "leadrefinery.tracking.open"
CLICK_SALT = "leadrefinery.tracking.click"

_HREF = re.compile(
    r"""(<a\b[^>]*?\bhref\s*=\s*)(["'])(https?://[^"']+)\2""",
    re.IGNORECASE,
)
_BODY_END = re.compile(r"</body\s*>", re.IGNORECASE)


@dataclass(frozen=True)
class OpenToken:
    person_id: int
    message_ref: str


@dataclass(frozen=True)
class ClickToken:
    person_id: int
    message_ref: str
    url: str


def _site() -> str:
    return str(settings.SITE_URL).rstrip("/")


def open_token(*, person_id: int, message_ref: str) -> str:
    return signing.dumps({"p": int(person_id), "m": str(message_ref)}, salt=OPEN_SALT)


def click_token(*, person_id: int, message_ref: str, url: str) -> str:
    payload = {"p": int(person_id), "m": str(message_ref), "u": str(url)}
    return signing.dumps(payload, salt=CLICK_SALT, compress=True)


def pixel_url(*, person_id: int, message_ref: str) -> str:
    return f"{_site()}/t/o/{open_token(person_id=person_id, message_ref=message_ref)}.gif"


def click_url(*, person_id: int, message_ref: str, url: str) -> str:
    token = click_token(person_id=person_id, message_ref=message_ref, url=url)
    return f"{_site()}/t/c/{token}"


def rewrite_links(html: str, *, person_id: int, message_ref: str) -> str:
    """Every ``<a href="http(s)://...">`` goes through the click redirect; a pixel is appended."""
    tracked_prefix = f"{_site()}/t/"

    def _swap(match: re.Match[str]) -> str:
        prefix, quote, raw = match.group(1), match.group(2), match.group(3)
        target = html_lib.unescape(raw)
        if target.startswith(tracked_prefix):
            return match.group(0)
        tracked = click_url(person_id=person_id, message_ref=message_ref, url=target)
        return f"{prefix}{quote}{html_lib.escape(tracked)}{quote}"

    rewritten = _HREF.sub(_swap, html)
    pixel = (
        f'<img src="{html_lib.escape(pixel_url(person_id=person_id, message_ref=message_ref))}"'
        ' width="1" height="1" alt="" style="display:none">'
    )
    ends = list(_BODY_END.finditer(rewritten))
    if not ends:
        return rewritten + pixel
    cut = ends[-1].start()
    return rewritten[:cut] + pixel + rewritten[cut:]


def _read(token: str, salt: str) -> dict[str, object] | None:
    try:
        data = signing.loads(token, salt=salt)
    except (signing.BadSignature, ValueError, TypeError, UnicodeDecodeError):
        return None
    except Exception:  # a damaged token must never turn into a 500
        return None
    return data if isinstance(data, dict) else None


def read_open(token: str) -> OpenToken | None:
    data = _read(token, OPEN_SALT)
    if not data:
        return None
    person, ref = data.get("p"), data.get("m")
    if not isinstance(person, int) or not isinstance(ref, str):
        return None
    return OpenToken(person_id=person, message_ref=ref)


def read_click(token: str) -> ClickToken | None:
    data = _read(token, CLICK_SALT)
    if not data:
        return None
    person, ref, url = data.get("p"), data.get("m"), data.get("u")
    if not isinstance(person, int) or not isinstance(ref, str) or not isinstance(url, str):
        return None
    if not url.lower().startswith(("http://", "https://")):
        return None
    return ClickToken(person_id=person, message_ref=ref, url=url)
