"""Nurture fixtures: a real SMTP server on loopback, programs built through the services, and
leads in nurture made through the real intake."""

from __future__ import annotations

from collections.abc import Callable
from datetime import time
from email.message import Message as EmailMessage
from typing import Any

import pytest

from tests.notifications.conftest import _Collector, smtp_server  # noqa: F401 - fixture
from tests.ui.conftest import client_for  # noqa: F401 - fixture

TIPS = [
    (
        "Tip 1: measure response time",
        'Hello {{ first_name | default:"there" }},\n\n'
        "Answer inside the hour. [Read the study](https://example.com/study).",
    ),
    (
        "Tip 2: call five times",
        "Hi {{ first_name }},\n\n80% of sales need five to twelve contacts.",
    ),
    ("Tip 3: close every lead", "{{ first_name }}, every lead deserves an ending."),
]


@pytest.fixture
def nurture_settings(settings):
    settings.REFINERY_POSTAL_ADDRESS = "Refinery Ltd, 12 Mill Road, Leeds LS1 4AB"
    settings.REFINERY_NURTURE_CAP = "2/7"
    settings.SITE_URL = "https://refinery.example.com"
    return settings


@pytest.fixture
def make_program(db, nurture_settings, frozen_now) -> Callable[..., Any]:
    """make_program(entry_rules=["new_inquiry"], interval_days=14, **kw) -> a Program with the
    three TIPS messages as its steps, sent Monday to Friday 09:00-17:00 local time. The clock
    is frozen (Monday 09:00 UTC)."""
    from leadrefinery.nurture import services

    counter = {"n": 0}

    def make(*, entry_rules: list[str] | None = None, steps: int = 3, **kw: Any):
        counter["n"] += 1
        n = counter["n"]
        messages = [
            services.message_create(name=f"p{n} {subject}", subject=subject, body_markdown=body)
            for subject, body in TIPS[:steps]
        ]
        kw.setdefault("window_start", time(9, 0))
        kw.setdefault("window_end", time(17, 0))
        return services.program_create(
            name=kw.pop("name", f"Program {n}"),
            steps=[services.StepSpec(m.pk) for m in messages],
            entry_rules=entry_rules or ["new_inquiry"],
            **kw,
        )

    return make


@pytest.fixture
def nurture_lead(make_lead) -> Callable[..., Any]:
    """nurture_lead(country="US", consent=False, **fields) -> a new inquiry lead (in the
    unassigned queue, not sales-ready), through the real intake."""

    def make(*, country: str = "US", consent: bool = False, **fields: Any):
        return make_lead(country=country, consent="yes" if consent else "no", **fields)

    return make


def by_recipient(server: _Collector) -> dict[str, list[EmailMessage]]:
    out: dict[str, list[EmailMessage]] = {}
    for message in server.messages:
        out.setdefault(str(message["To"]), []).append(message)
    return out


def html_part(message: EmailMessage) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/html":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode()
    raise AssertionError("no HTML part")


def text_part(message: EmailMessage) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode()
    raise AssertionError("no text part")
