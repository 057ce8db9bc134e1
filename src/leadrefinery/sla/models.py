"""SLA policies as data, and holidays for the business-hours clock."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models


class SlaPolicy(models.Model):
    """Time allowed to first sales touch and to acceptance, in the owner's business hours.

    The first active policy (by order) whose temperature and source match the lead applies.
    Escalation ladder: remind the owner at ``remind_at_percent`` of the first-touch time,
    notify the manager at breach, reassign ``reassign_after_minutes`` after breach.
    """

    name = models.CharField(max_length=120)
    order = models.PositiveIntegerField(default=100)
    active = models.BooleanField(default=True)
    temperature = models.CharField(
        max_length=8, blank=True, help_text="hot, warm, cool, cold; blank = any"
    )
    source = models.ForeignKey(
        "leads.Source", null=True, blank=True, on_delete=models.PROTECT, help_text="blank = any"
    )
    first_touch_minutes = models.PositiveIntegerField(default=60)
    accept_minutes = models.PositiveIntegerField(default=240)
    business_hours = models.BooleanField(
        default=True, help_text="count only the owner's working hours"
    )
    remind_at_percent = models.PositiveSmallIntegerField(default=50)
    notify_manager_at_breach = models.BooleanField(default=True)
    reassign_after_minutes = models.PositiveIntegerField(
        null=True, blank=True, help_text="blank = never reassign"
    )

    class Meta:
        verbose_name = "SLA policy"
        ordering = ["order", "id"]
        verbose_name_plural = "SLA policies"

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = {}
        if self.first_touch_minutes < 1:
            errors["first_touch_minutes"] = "must be at least one minute"
        if not 1 <= self.remind_at_percent <= 99:
            errors["remind_at_percent"] = "must be between 1 and 99"
        if self.temperature and self.temperature not in {"hot", "warm", "cool", "cold"}:
            errors["temperature"] = "hot, warm, cool, cold, or blank for any"
        if errors:
            raise ValidationError(errors)


class Holiday(models.Model):
    """A day without working hours: for everyone, or for one team."""

    date = models.DateField()
    name = models.CharField(max_length=120)
    team = models.ForeignKey(
        "accounts.Team",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        help_text="blank = everyone",
    )

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["date", "team"], name="holiday_unique_per_team")
        ]

    def __str__(self) -> str:
        return f"{self.date}: {self.name}"
