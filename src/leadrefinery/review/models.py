"""Pipeline hygiene flags and the weekly lead review."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from . import domain

FLAG_CHOICES = [(flag.value, flag.label) for flag in domain.Flag]


class LeadHygiene(models.Model):
    """When a lead's flags must next be worked out: set by the sweep to the next moment a flag
    can start or end by the clock alone, and to 'now' by any change to the lead (the registry
    subscriber). The sweep reads only due rows, through the index."""

    lead = models.OneToOneField(
        "leads.Lead", primary_key=True, on_delete=models.PROTECT, related_name="hygiene"
    )
    due_at = models.DateTimeField(null=True, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["due_at", "lead"], name="hygiene_due")]

    def __str__(self) -> str:
        return f"hygiene of lead {self.lead_id}, due {self.due_at}"


class LeadFlag(models.Model):
    """One hygiene problem of a lead, from when it started until its cause went away (kept
    afterwards: the lead's history and the review read them)."""

    lead = models.ForeignKey("leads.Lead", on_delete=models.PROTECT, related_name="flags")
    kind = models.CharField(max_length=24, choices=FLAG_CHOICES)
    reason = models.CharField(max_length=300)
    since = models.DateTimeField()
    cleared_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["lead", "kind"],
                condition=Q(cleared_at__isnull=True),
                name="one_active_flag_per_kind",
            )
        ]
        indexes = [
            models.Index(
                fields=["kind", "lead"], condition=Q(cleared_at__isnull=True), name="flag_active"
            )
        ]

    def __str__(self) -> str:
        return f"{self.label} (lead {self.lead_id})"

    @property
    def label(self) -> str:
        return domain.Flag(self.kind).label

    @property
    def severity(self) -> int:
        return domain.SEVERITY.index(domain.Flag(self.kind))


class SweepCursor(models.Model):
    """How far the hygiene sweep has taken new leads in (the highest lead id it has seen)."""

    name = models.CharField(max_length=32, primary_key=True)
    last_id = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}: {self.last_id}"


class Review(models.Model):
    """One team's weekly lead review: every open lead of its reps and queues gets a decision."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        SIGNED_OFF = "signed_off", "Signed off"

    team = models.ForeignKey("accounts.Team", on_delete=models.PROTECT, related_name="reviews")
    week_start = models.DateField(help_text="the Monday of the review's week")
    scheduled_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    attendees = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    signed_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_off_at = models.DateTimeField(null=True, blank=True)
    summary = models.JSONField(default=dict, blank=True, help_text="counts at sign-off")
    digest_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-week_start", "team__name"]
        constraints = [
            models.UniqueConstraint(fields=["team", "week_start"], name="one_review_per_week")
        ]

    def __str__(self) -> str:
        return f"{self.team} review, week of {self.week_start:%Y-%m-%d}"


class ReviewDecision(models.Model):
    """What the review decided for one lead (the lead's timeline has a 'reviewed' event too)."""

    class Kind(models.TextChoices):
        KEEP = "keep", "Keep, with a new next action"
        ADVANCE = "advance", "Advance to the next stage"
        RECYCLE = "recycle", "Recycle to nurture"
        CLOSE = "close", "Close with a reason"
        REASSIGN = "reassign", "Reassign"

    review = models.ForeignKey(Review, on_delete=models.PROTECT, related_name="decisions")
    lead = models.ForeignKey("leads.Lead", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    note = models.TextField(blank=True)
    detail = models.CharField(max_length=300, blank=True, help_text="what changed, in words")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField()
    flags = models.JSONField(default=list, blank=True, help_text="the flags it had when decided")
    owner_key = models.CharField(max_length=160, help_text="its owner when decided")
    owner_label = models.CharField(max_length=160)

    class Meta:
        ordering = ["decided_at", "id"]
        indexes = [models.Index(fields=["lead", "decided_at"], name="decision_lead_time")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} (lead {self.lead_id})"
