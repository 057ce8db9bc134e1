"""Shapes of the scoring API and of the score on GET /api/v1/leads/{id}."""

from __future__ import annotations

from typing import Any

from ninja import Field, Schema


class ScoreReason(Schema):
    axis: str = Field(description="temperature, fit or engagement")
    text: str
    points: int | None = None


class LeadScoreOut(Schema):
    fit_grade: str | None = Field(description="A (best) to D, from the fit rules")
    fit_points: int | None
    engagement: int | None = Field(description="behaviour points, decayed by half-lives")
    temperature: str | None = Field(description="hot, warm, cool or cold")
    predicted_readiness: float | None = Field(
        description="calibrated probability of winning, from `refinery scoring train`"
    )
    reasons: list[ScoreReason]
    predicted_reasons: list[dict[str, Any]]
