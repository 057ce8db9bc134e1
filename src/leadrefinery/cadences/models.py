"""Cadences as data (templates and their steps), each lead's enrollment, and outcome checks.

``Enrollment.next_step_due_at`` and ``OutcomeCheck.due_at`` are the due columns the cadence
sweep reads through their indexes; both are cleared when there is nothing left to do, so the
indexes hold only rows with work ahead.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from . import domain

CHANNEL_CHOICES = [(c.value, c.label) for c in domain.Channel]
ANSWER_CHOICES = [(a.value, a.label) for a in domain.Answer]


class CadenceTemplate(models.Model):
    """An ordered set of follow-up steps. The active default is used when a rep accepts."""

    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    active = models.BooleanField(default=True)
    is_default = models.BooleanField(default=False, help_text="used when a rep accepts a lead")
    end_wait_days = models.PositiveSmallIntegerField(
        default=2, help_text="days to wait for a reply after the last step before recycling"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-is_default", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="cadence_one_default"
            )
        ]

    def __str__(self) -> str:
        return self.name


class CadenceStep(models.Model):
    template = models.ForeignKey(CadenceTemplate, on_delete=models.PROTECT, related_name="steps")
    position = models.PositiveSmallIntegerField(help_text="1, 2, 3 ... in order")
    day = models.PositiveSmallIntegerField(help_text="days after the cadence starts")
    channel = models.CharField(max_length=8, choices=CHANNEL_CHOICES)
    at_time = models.TimeField(null=True, blank=True, help_text="local time of day; blank = start")
    title = models.CharField(max_length=120)
    instructions = models.TextField(blank=True)
    email_subject = models.CharField(max_length=200, blank=True)
    email_body = models.TextField(blank=True, help_text="placeholders: {{ first_name }} ...")

    class Meta:
        ordering = ["template", "position"]
        constraints = [
            models.UniqueConstraint(fields=["template", "position"], name="cadence_step_position")
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.title}"

    def spec(self) -> domain.StepSpec:
        return domain.StepSpec(
            position=self.position,
            day=self.day,
            channel=domain.Channel(self.channel),
            title=self.title,
            at_time=self.at_time,
        )


class Enrollment(models.Model):
    """One run of a cadence on one lead; at most one active per lead."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Running"
        ENDING = "ending", "All steps done; waiting for a reply"
        COMPLETED = "completed", "Completed"
        STOPPED = "stopped", "Stopped"

    lead = models.ForeignKey("leads.Lead", on_delete=models.PROTECT, related_name="enrollments")
    template = models.ForeignKey(CadenceTemplate, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.ACTIVE)
    step_position = models.PositiveSmallIntegerField(
        default=1, help_text="the step due next (one past the last when all are done)"
    )
    step_due_at = models.DateTimeField(
        null=True, blank=True, help_text="when the current step is due (or the cadence ends)"
    )
    # The sweep's due column, like Lead.sla_due_at: when the sweep next has work on this
    # enrollment (the overdue notice for the current step, or the end of the cadence); null
    # when it has none, so the index holds only rows with work ahead.
    next_step_due_at = models.DateTimeField(null=True, blank=True)
    overdue_notified_step = models.PositiveSmallIntegerField(null=True, blank=True)
    started_at = models.DateTimeField()
    last_step_done_at = models.DateTimeField(null=True, blank=True)
    steps_done = models.PositiveSmallIntegerField(default=0)
    contacted = models.BooleanField(default=False, help_text="the buyer answered during it")
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=300, blank=True)
    thread_message_ids = models.JSONField(
        default=list, blank=True, help_text="Message-IDs of the emails sent, for threading"
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["lead"],
                condition=Q(status__in=["active", "ending"]),
                name="enrollment_one_running_per_lead",
            )
        ]
        indexes = [models.Index(fields=["next_step_due_at"], name="enrollment_due")]

    def __str__(self) -> str:
        return f"{self.template} on lead {self.lead_id} ({self.status})"

    @property
    def running(self) -> bool:
        return self.status in (self.Status.ACTIVE, self.Status.ENDING)


class OutcomeCheck(models.Model):
    """The Rule of 45: 12 months after a lead was lost for no decision, closed as no response
    or recycled, marketing asks whether they bought, and from whom."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        OPEN = "open", "Due: waiting for an answer"
        ANSWERED = "answered", "Answered"

    lead = models.ForeignKey("leads.Lead", on_delete=models.PROTECT, related_name="outcome_checks")
    reason = models.CharField(max_length=64, help_text="the disposition or recycle reason")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SCHEDULED)
    due_at = models.DateTimeField(
        null=True, blank=True, help_text="when the sweep opens it; cleared once opened"
    )
    scheduled_for = models.DateTimeField()
    created_at = models.DateTimeField()
    opened_at = models.DateTimeField(null=True, blank=True)
    answer = models.CharField(max_length=12, choices=ANSWER_CHOICES, blank=True)
    competitor = models.CharField(max_length=200, blank=True)
    answer_note = models.TextField(blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["scheduled_for", "id"]
        indexes = [
            models.Index(fields=["due_at"], name="outcome_check_due"),
            models.Index(fields=["status", "scheduled_for"], name="outcome_check_status"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["lead", "scheduled_for"], name="outcome_check_once_per_moment"
            )
        ]

    def __str__(self) -> str:
        return f"Outcome check for lead {self.lead_id} ({self.status})"
