"""Keyed hashes of contacts (the suppression entries of erased people).

An HMAC-SHA256 under a key derived from the site's SECRET_KEY: the stored digest cannot be
reversed, nor confirmed by hashing guessed addresses, without the key. Digests are also
computed under each of SECRET_KEY_FALLBACKS, so a rotated key keeps recognising earlier
erasures (docs/privacy.md).
"""

from __future__ import annotations

from django.conf import settings
from django.utils.crypto import salted_hmac

SALT = "leadrefinery.privacy.erased-contact"


def normalized_email(email: str) -> str:
    return (email or "").strip().lower()


def normalized_phone(phone: str) -> str:
    return "".join(ch for ch in (phone or "") if ch.isdigit() or ch == "+")


def digest(kind: str, value: str, secret: str | None = None) -> str:
    return salted_hmac(SALT, f"{kind}:{value}", secret=secret, algorithm="sha256").hexdigest()


def digests(kind: str, value: str) -> list[str]:
    """The digest under the current key first, then under each fallback key."""
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return [digest(kind, value, secret) for secret in secrets]


def contact_digests(email: str, phone: str) -> dict[str, str]:
    """The current-key digest of each contact a person has: {"email": ..., "phone": ...}."""
    found = {}
    if normalized_email(email):
        found["email"] = digest("email", normalized_email(email))
    if normalized_phone(phone):
        found["phone"] = digest("phone", normalized_phone(phone))
    return found
