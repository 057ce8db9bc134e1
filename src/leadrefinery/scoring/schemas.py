"""Shapes of the scoring API (the score on GET /api/v1/leads/{id} is ``leads.schemas.LeadScoreOut``)."""

from __future__ import annotations
