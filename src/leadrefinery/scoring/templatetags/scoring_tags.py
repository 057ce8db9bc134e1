"""``{% lead_score_panel lead %}``: fit grade, engagement, temperature and predicted readiness
on the lead page, each with its reasons, and the score history as a chart."""

from __future__ import annotations

from typing import Any

from django import template

from ..models import LeadScore, ScoreLog

register = template.Library()


@register.inclusion_tag("scoring/lead_panel.html")
def lead_score_panel(lead: Any) -> dict[str, Any]:
    score = LeadScore.objects.filter(lead_id=lead.pk).first()
    rows = list(
        ScoreLog.objects.filter(lead_id=lead.pk)
        .order_by("occurred_at", "id")
        .values_list("occurred_at", "axis", "delta")
    )
    fit = engagement = 0
    history: list[dict[str, Any]] = []
    for at, axis, delta in rows:
        if axis == ScoreLog.Axis.FIT:
            fit += delta
        else:
            engagement += delta
        point = {"t": at.isoformat(), "fit": fit, "engagement": engagement}
        if history and history[-1]["t"] == point["t"]:
            history[-1] = point
        else:
            history.append(point)
    reasons = list(score.reasons or []) if score else []
    recent = list(
        ScoreLog.objects.filter(lead_id=lead.pk)
        .select_related("rule")
        .order_by("-occurred_at", "-id")[:8]
    )
    return {
        "lead": lead,
        "score": score,
        "hand_raiser_reasons": [r for r in reasons if r.get("axis") == "hand_raiser"],
        "temperature_reasons": [r for r in reasons if r.get("axis") == "temperature"],
        "fit_reasons": [r for r in reasons if r.get("axis") == "fit"],
        "engagement_reasons": [r for r in reasons if r.get("axis") == "engagement"],
        "predicted_percent": round(score.predicted * 100)
        if score and score.predicted is not None
        else None,
        "history": history,
        "recent": recent,
    }
