"""Reads for scoring: the active rules and settings (cached per process), the fields that
rules test on a lead, and a lead's score summary for the API and the lead page."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from leadrefinery.common import config
from leadrefinery.common.clock import now
from leadrefinery.leads.models import Lead
from leadrefinery.leads.normalize import INTAKE_FIELDS
from leadrefinery.routing.selectors import lead_routing_fields

from . import domain
from .models import LeadScore, ScoringRule, ScoringSettings


def settings_row() -> ScoringSettings:
    """The one settings row (made with the defaults the first time it is asked for)."""
    row = ScoringSettings.objects.order_by("pk").first()
    if row is None:
        row = ScoringSettings.objects.create(updated_at=now())
    return row


@dataclass(frozen=True)
class Loaded:
    rules: tuple[domain.Rule, ...]
    config: domain.Config

    @functools.cached_property
    def remembered(self) -> domain.Remembered:
        """Fit scores and hand-raisers worked out with these rules, by the values they read
        (kept as long as the rules are: a change of rule or settings loads new ones)."""
        return domain.Remembered(self.rules, self.config)


def load() -> Loaded:
    """The active rules and the settings, from the per-process configuration cache (two
    queries when a rule or the settings changed since the last load)."""
    return config.get("scoring:loaded", _load)


def _load() -> Loaded:
    rules = tuple(
        r.domain_rule() for r in ScoringRule.objects.filter(active=True).order_by("order", "id")
    )
    return Loaded(rules=rules, config=settings_row().domain_config())


def scoring_fields(
    routing_fields: Mapping[str, Any], payload: Mapping[str, Any] | None, message: str = ""
) -> dict[str, Any]:
    """What fit and hand-raiser conditions test: the routing fields, the message, and the
    payload's own fields that intake does not know (e.g. a form's ``request_type``)."""
    fields: dict[str, Any] = {}
    payload = payload or {}
    for key, value in payload.items():
        if key not in INTAKE_FIELDS and isinstance(value, str | int | float):
            fields[key] = value
    extra = payload.get("extra")
    if isinstance(extra, Mapping):
        fields.update({k: v for k, v in extra.items() if isinstance(v, str | int | float)})
    fields.update(routing_fields)
    fields["message"] = message
    return fields


def lead_fields(lead: Lead, payload: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return scoring_fields(lead_routing_fields(lead), payload, lead.message)


def lead_score_summary(lead: Lead) -> dict[str, Any]:
    """Score, temperature and reasons of a lead, for the API and the lead page."""
    score = LeadScore.objects.filter(lead_id=lead.pk).first()
    if score is None:
        return {
            "fit_grade": None,
            "fit_points": None,
            "engagement": None,
            "temperature": lead.temperature or None,
            "predicted_readiness": None,
            "reasons": [],
            "predicted_reasons": [],
        }
    return {
        "fit_grade": score.fit_grade,
        "fit_points": score.fit_points,
        "engagement": score.engagement,
        "temperature": score.temperature or None,
        "predicted_readiness": score.predicted,
        "reasons": list(score.reasons or []),
        "predicted_reasons": list(score.predicted_reasons or []),
    }
