"""Public web forms: screening bots, the per-IP rate limit, and handing inquiries to intake.

A public form is embedded on other sites, so it cannot rely on CSRF cookies. It is
protected instead by:

- a honeypot input that people never see (bots fill every field);
- a signed time-trap token issued when the form is rendered: a submission without a valid
  token, or sent faster than the form's ``min_fill_seconds``, is a bot. A token is good for
  one submission: a second post with it is answered like an expired one (the form again, with
  a fresh token and the values kept, asking to send again), so a harvested token cannot be
  replayed and a person who really meant to send twice loses nothing;
- a limit of submissions per client IP address per hour, taken atomically
  (tracking/limits.py): over it, the post is refused with 429 and a page that says so and
  when to try again. Nothing is stored for a refused post: a flood from one address would
  otherwise fill the database; the person is told plainly, so nothing is lost silently.

Screened-out submissions create nothing and get the same answer as a real one, so that bots
learn nothing.

The client address is read as tracking/limits.py says (``REFINERY_TRUSTED_PROXY_COUNT``).
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.http import QueryDict

from leadrefinery.common.clock import now
from leadrefinery.leads.models import IntakeRecord, WebForm
from leadrefinery.tracking import limits

from .services import intake_process, intake_receive

log = logging.getLogger(__name__)

HONEYPOT_FIELD = "website_confirm"
TOKEN_FIELD = "refinery_started"
UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
# A page left open longer than this gets a fresh token and a polite request to resend,
# so that a harvested token cannot be replayed forever.
TOKEN_MAX_AGE = timedelta(days=7)
FIELD_TYPES = {"text", "email", "tel", "url", "number", "textarea", "checkbox", "select"}


class _FormClockSigner(signing.TimestampSigner):
    """A TimestampSigner on the project clock, in milliseconds (fill times are seconds)."""

    def timestamp(self) -> str:
        return signing.b62_encode(int(now().timestamp() * 1000))

    def issued_at(self, token: str) -> datetime:
        """When the token was issued. Raises signing.BadSignature when forged or garbled."""
        value = signing.Signer.unsign(self, token)
        _, stamp = value.rsplit(self.sep, 1)
        try:
            millis = signing.b62_decode(stamp)
        except (ValueError, IndexError):
            raise signing.BadSignature("bad timestamp") from None
        return datetime.fromtimestamp(millis / 1000, tz=now().tzinfo)


def _signer(form: WebForm) -> _FormClockSigner:
    # The salt binds a token to its form: one form's token is worthless on another.
    return _FormClockSigner(salt=f"leadrefinery.public-form:{form.slug}")


def issue_token(form: WebForm) -> str:
    # A nonce: two visitors who load the form in the same millisecond get different tokens
    # (a token is good for one submission).
    return _signer(form).sign(f"started-{secrets.token_urlsafe(9)}")


@dataclass(frozen=True)
class Screening:
    """Whether a submission looks human. ``discard`` names why it does not."""

    discard: str = ""
    expired: bool = False
    issued_at: datetime | None = None


def screen(form: WebForm, data: QueryDict) -> Screening:
    if data.get(HONEYPOT_FIELD, "").strip():
        return Screening(discard="honeypot filled")
    token = data.get(TOKEN_FIELD, "")
    if not token:
        return Screening(discard="time-trap token missing")
    try:
        issued = _signer(form).issued_at(token)
    except signing.BadSignature:
        return Screening(discard="time-trap token forged")
    elapsed = now() - issued
    if elapsed < timedelta(seconds=form.min_fill_seconds):
        return Screening(discard=f"sent {elapsed.total_seconds():.1f}s after loading")
    if elapsed > TOKEN_MAX_AGE:
        return Screening(expired=True)
    return Screening(issued_at=issued)


def token_use(form: WebForm, data: QueryDict, screening: Screening) -> bool:
    """Use the submission's time-trap token up: True the first time, False for a replay.
    Call only for a submission that passed ``screen``."""
    issued = screening.issued_at or now()
    return limits.use_once(
        f"{form.slug}:{data.get(TOKEN_FIELD, '')}", expires_at=issued + TOKEN_MAX_AGE
    )


client_ip = limits.client_ip  # the visitor's address; see tracking/limits.py about proxies


def rate_limit(form: WebForm) -> int:
    return form.rate_limit_per_hour or settings.REFINERY_FORM_RATE_LIMIT_PER_HOUR


def rate_limit_take(form: WebForm, ip: str | None) -> bool:
    """Take one of this address's submissions for the hour: False when it already sent
    ``rate_limit(form)`` (the count is shared by every form; a form's own limit says how many
    it accepts). Atomic: concurrent posts cannot pass the limit together."""
    return limits.address_allows("form", ip, limit=rate_limit(form))


# --- Fields ------------------------------------------------------------------------------


@dataclass
class FieldView:
    """One declared field, ready for the template (value kept, error attached)."""

    name: str
    label: str
    type: str
    required: bool
    value: str = ""
    error: str = ""
    options: list[str] = field(default_factory=list)

    @property
    def checked(self) -> bool:
        return bool(self.value)


def declared_fields(form: WebForm) -> list[FieldView]:
    """The form's field definitions (data), made safe: unknown types render as text."""
    out: list[FieldView] = []
    seen: set[str] = set()
    for spec in form.fields or []:
        name = str(spec.get("name", "")).strip()
        if not name or name in seen or name in (HONEYPOT_FIELD, TOKEN_FIELD):
            continue
        seen.add(name)
        kind = str(spec.get("type", "text"))
        label = str(spec.get("label") or name.replace("_", " ").capitalize())
        if name == "consent" and form.consent_wording:
            # The person agrees to exactly this wording; intake records it with the consent.
            label = form.consent_wording
        out.append(
            FieldView(
                name=name,
                label=label,
                type=kind if kind in FIELD_TYPES else "text",
                required=bool(spec.get("required")),
                options=[str(o) for o in spec.get("options", [])],
            )
        )
    return out


def submitted_values(fields: list[FieldView], data: QueryDict) -> dict[str, str]:
    """The declared fields and UTM parameters that were filled in; nothing else is taken."""
    values: dict[str, str] = {}
    for f in fields:
        raw = data.get(f.name, "")
        value = raw if f.type == "textarea" else " ".join(raw.split())
        if f.type == "checkbox":
            value = "yes" if raw else ""
        if value:
            values[f.name] = value[:5000]
    for name in UTM_FIELDS:
        utm = data.get(name, "").strip()
        if utm:
            values[name] = utm[:200]
    return values


def fill(fields: list[FieldView], values: dict[str, str], errors: dict[str, str]) -> None:
    for f in fields:
        f.value = values.get(f.name, "")
        f.error = errors.get(f.name, "")


def missing_required(fields: list[FieldView], values: dict[str, str]) -> dict[str, str]:
    """The browser checks ``required`` too; this catches old browsers and scripts."""
    return {f.name: "Please fill this in." for f in fields if f.required and not values.get(f.name)}


@dataclass(frozen=True)
class Submitted:
    record: IntakeRecord
    errors: dict[str, str]
    other_errors: list[str]

    @property
    def accepted(self) -> bool:
        return self.record.status != IntakeRecord.Status.REJECTED


def form_submit(
    *, form: WebForm, values: dict[str, Any], ip: str | None, user_agent: str
) -> Submitted:
    """Store the submission raw, then process it. The first step never loses it: if
    processing fails, the stored record is picked up by the intake retry sweep."""
    record, _ = intake_receive(
        channel=IntakeRecord.Channel.FORM,
        payload=values,
        source=form.source,
        campaign=form.campaign,
        form=form,
        ip=ip,
        user_agent=user_agent,
    )
    try:
        record = intake_process(record)
    except Exception:
        log.exception(
            "public form %s: intake record %s stored, processing failed", form.slug, record.pk
        )
        return Submitted(record=record, errors={}, other_errors=[])
    declared = {f["name"] for f in form.fields or [] if isinstance(f, dict)}
    errors: dict[str, str] = {}
    other: list[str] = []
    for error in record.errors or []:
        name, message = error.get("field", ""), error.get("message", "")
        if name in declared and name not in errors:
            errors[name] = message
        else:
            other.append(message)
    return Submitted(record=record, errors=errors, other_errors=other)
