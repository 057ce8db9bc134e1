"""The shapes of the lead-event registry (``leads.events``) and of the sections other apps add
to a lead's API answer, importable from an ``apps.py`` before any model is loaded."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Notice:
    """A fact about a lead or person that is not a timeline event (e.g. ``email_engaged``)."""

    kind: str
    occurred_at: datetime
    lead_id: int | None = None
    person_id: int | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Subscriber:
    name: str
    kinds: frozenset[str]
    handler: str  # dotted path to ``handler(changes: list[Change]) -> None``
    description: str = ""


@dataclass(frozen=True)
class LeadSection:
    """A part of ``GET /api/v1/leads/{id}`` that another app answers (``reader(lead) -> dict``,
    named by dotted path); ``leads.schemas.LeadDetail`` declares its shape."""

    name: str
    reader: str
