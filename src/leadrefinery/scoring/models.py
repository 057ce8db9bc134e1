"""Scoring rules (data), the temperature matrix, each lead's score and its ledger.

The ledger is the truth: ``LeadScore.fit_points`` always equals the sum of the lead's fit
``ScoreLog`` rows and ``LeadScore.engagement`` the sum of its engagement rows (decay is
written to the log as its own rows), so every number on screen can be explained line by line.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

from . import domain


class ScoringRule(models.Model):
    class Kind(models.TextChoices):
        FIT = "fit", "Fit (profile)"
        ENGAGEMENT = "engagement", "Engagement (behaviour)"
        HAND_RAISER = "hand_raiser", "Hand-raiser (goes hot at once)"

    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    active = models.BooleanField(default=True)
    order = models.PositiveIntegerField(default=100)
    event_type = models.CharField(
        max_length=40, blank=True, help_text="engagement rules: the event type they score"
    )
    conditions = models.JSONField(
        default=list,
        blank=True,
        help_text='all must hold: [{"field", "op", "value"}] (ops as in routing rules)',
    )
    points = models.IntegerField(help_text="negative for negative signals")
    self_reported = models.BooleanField(
        default=False, help_text="a field the prospect typed in: counts at a reduced weight"
    )
    daily_cap = models.PositiveIntegerField(
        null=True, blank=True, help_text="most points this rule gives one lead per day"
    )
    half_life_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="engagement points halve every N days; empty: never"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["kind", "order", "id"]

    def __str__(self) -> str:
        return self.name

    def domain_rule(self) -> domain.Rule:
        return domain.Rule(
            id=self.pk or 0,
            name=self.name,
            kind=domain.RuleKind(self.kind),
            event_type=self.event_type,
            conditions=domain.parse_conditions(self.conditions or []),
            points=self.points,
            self_reported=self.self_reported,
            daily_cap=self.daily_cap,
            half_life_days=self.half_life_days,
        )

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        try:
            conditions = domain.parse_conditions(self.conditions or [])
        except ValueError as exc:
            errors["conditions"] = str(exc)
        else:
            messages = [m for c in conditions for m in c.validate()]
            if messages:
                errors["conditions"] = "; ".join(messages)
        if self.kind == self.Kind.ENGAGEMENT and not domain.EVENT_TYPE.fullmatch(
            self.event_type or ""
        ):
            errors["event_type"] = "an engagement rule needs an event type (a-z, 0-9, _)"
        if self.kind != self.Kind.ENGAGEMENT and self.event_type:
            errors["event_type"] = "only engagement rules have an event type"
        if self.kind == self.Kind.HAND_RAISER and not self.conditions:
            errors["conditions"] = "a hand-raiser needs at least one condition"
        if self.kind != self.Kind.ENGAGEMENT and (self.daily_cap or self.half_life_days):
            errors["daily_cap"] = "caps and half-lives apply to engagement rules only"
        if abs(self.points or 0) > 1000:
            errors["points"] = "between -1000 and 1000"
        if errors:
            raise ValidationError(errors)


def default_grades() -> dict[str, int]:
    return domain.DEFAULT_GRADES.as_json


def default_bands() -> dict[str, int]:
    return domain.DEFAULT_BANDS.as_json


def default_matrix() -> dict[str, dict[str, str]]:
    return domain.DEFAULT_MATRIX.as_json


class ScoringSettings(models.Model):
    """The single row of thresholds and the temperature matrix, set by an admin."""

    grade_thresholds = models.JSONField(
        default=default_grades, help_text='{"A": 60, "B": 40, "C": 20}'
    )
    engagement_bands = models.JSONField(
        default=default_bands, help_text='{"high": 60, "medium": 30, "low": 10}'
    )
    matrix = models.JSONField(
        default=default_matrix,
        help_text='grade -> band -> temperature, e.g. {"A": {"high": "hot", ...}, ...}',
    )
    self_reported_weight = models.FloatField(
        default=0.5,
        help_text="0 to 1: self-reported rules (title, budget, timeline a person states) count "
        "this share of their points; behaviour counts in full",
    )
    hand_raiser_hot_days = models.PositiveIntegerField(
        default=30,
        help_text="days a hand-raiser (demo or price request) stays hot whatever the score; "
        "0 = never",
    )
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "scoring settings"

    def __str__(self) -> str:
        return "Scoring settings"

    def domain_config(self) -> domain.Config:
        return domain.Config.from_json(
            grades=self.grade_thresholds,
            bands=self.engagement_bands,
            matrix=self.matrix,
            self_reported_weight=self.self_reported_weight,
            hand_raiser_hot_days=self.hand_raiser_hot_days,
        )

    def clean(self) -> None:
        try:
            self.domain_config()
        except ValueError as exc:
            raise ValidationError({"matrix": str(exc)}) from exc
        if not 0 <= self.self_reported_weight <= 1:
            raise ValidationError({"self_reported_weight": "between 0 and 1"})


class LeadScore(models.Model):
    """A lead's two axes, its temperature and its predicted readiness, with reasons."""

    lead = models.OneToOneField("leads.Lead", on_delete=models.PROTECT, related_name="score")
    fit_points = models.IntegerField(default=0)
    fit_grade = models.CharField(max_length=1, default="D")
    engagement = models.IntegerField(default=0)
    temperature = models.CharField(max_length=8, blank=True)
    hand_raised_at = models.DateTimeField(null=True, blank=True)
    reasons = models.JSONField(default=list, blank=True)
    computed_at = models.DateTimeField()
    # The decay sweep's index: when the rounded engagement (or the hand-raiser's heat) next
    # changes. Null when nothing will change by itself.
    decay_due_at = models.DateTimeField(null=True, blank=True)
    predicted = models.FloatField(null=True, blank=True, help_text="calibrated P(won)")
    predicted_reasons = models.JSONField(default=list, blank=True)
    predicted_at = models.DateTimeField(null=True, blank=True)
    model_version = models.CharField(max_length=40, blank=True)
    # The predict sweep's index: set when the lead is new, when its engagement or its own
    # fields change and when a model is activated; cleared when the active model has scored it.
    predict_due_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["decay_due_at"], name="score_decay_due"),
            models.Index(
                fields=["predict_due_at"],
                name="score_predict_due",
                condition=models.Q(predict_due_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"Score of lead {self.lead_id}: {self.fit_grade}/{self.engagement}"


class ScoreLog(models.Model):
    """One change of one axis, with the event and rule that caused it. Append-only."""

    class Axis(models.TextChoices):
        FIT = "fit", "Fit"
        ENGAGEMENT = "engagement", "Engagement"

    lead = models.ForeignKey(  # found by scorelog_lead_time (lead, occurred_at)
        "leads.Lead", on_delete=models.PROTECT, related_name="score_log", db_index=False
    )
    axis = models.CharField(max_length=12, choices=Axis.choices)
    delta = models.IntegerField()
    rule = models.ForeignKey(
        ScoringRule, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    event_type = models.CharField(max_length=40, blank=True, help_text="or 'decay', 'rescore'")
    event_ref = models.CharField(max_length=120, blank=True, help_text="touch, hit or event id")
    points = models.IntegerField(
        default=0, help_text="undecayed points of the event (the decay baseline)"
    )
    half_life_days = models.PositiveIntegerField(null=True, blank=True)
    reason = models.CharField(max_length=300)
    occurred_at = models.DateTimeField()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["lead", "occurred_at"], name="scorelog_lead_time")]

    def __str__(self) -> str:
        return f"{self.delta:+d} {self.axis} on lead {self.lead_id}: {self.reason}"


class TrainingExample(models.Model):
    """A past outcome imported from CSV (``refinery scoring import-history``)."""

    external_id = models.CharField(max_length=120, unique=True)
    closed_at = models.DateTimeField()
    won = models.BooleanField()
    features = models.JSONField(default=dict)
    imported_at = models.DateTimeField()

    class Meta:
        ordering = ["closed_at"]

    def __str__(self) -> str:
        return f"{self.external_id} ({'won' if self.won else 'lost'})"


class ScoringModel(models.Model):
    """A trained readiness model: when, on how much, how well (the pickled estimator)."""

    version = models.CharField(max_length=40, unique=True)
    trained_at = models.DateTimeField()
    examples = models.PositiveIntegerField()
    auc = models.FloatField()
    report = models.JSONField(default=dict)
    features = models.JSONField(default=list)
    blob = models.BinaryField()
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["-trained_at"]

    def __str__(self) -> str:
        return self.version
