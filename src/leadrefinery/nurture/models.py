"""Nurture: the content library, programs and their steps, enrollments, one send row per
(enrollment, step), and the suppression list.

Programs are data (validated on save by ``domain.validate_program``); the sweep
(``sweep.py``) enrolls leads and sends due rows, claiming each with a conditional UPDATE.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from . import domain


class Message(models.Model):
    """One email of the content library: a subject and a Markdown body with merge fields."""

    name = models.CharField(max_length=120, unique=True)
    subject = models.CharField(max_length=200)
    body_markdown = models.TextField(help_text="Markdown; merge fields like {{ first_name }}")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        problems = domain.message_problems(self.subject, self.body_markdown)
        if problems:
            raise ValidationError(problems)


class Program(models.Model):
    """An ordered track of messages at an interval, with entry and exit rules (data)."""

    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    active = models.BooleanField(default=True)
    interval_days = models.PositiveSmallIntegerField(default=14)
    entry_rules = models.JSONField(
        default=list, help_text=f"any of {', '.join(domain.ENTRY_RULES)}; a lead needs one"
    )
    exit_rules = models.JSONField(
        default=list, blank=True, help_text=f"any of {', '.join(domain.EXIT_RULES)}; empty = all"
    )
    window_start = models.TimeField(help_text="send window start, recipient's local time")
    window_end = models.TimeField(help_text="send window end, recipient's local time")
    window_weekdays = models.JSONField(
        default=list, blank=True, help_text="0=Monday ... 6=Sunday; empty = Monday to Friday"
    )
    default_time_zone = models.CharField(
        max_length=64, default="UTC", help_text="for recipients whose country gives no zone"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        self.full_clean(exclude=["created_by"], validate_unique=False)
        super().save(*args, **kwargs)

    @property
    def entry_rule_labels(self) -> list[str]:
        return [domain.ENTRY_RULES.get(rule, rule) for rule in self.entry_rules or []]

    @property
    def exit_rule_labels(self) -> list[str]:
        """The exit rules in words; an empty list means all of them."""
        return [domain.EXIT_RULES.get(rule, rule) for rule in self.exit_rules or domain.EXIT_RULES]

    @property
    def weekday_labels(self) -> str:
        names = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
        return ", ".join(names[d] for d in sorted(self.window_weekdays or domain.WEEKDAYS))

    @property
    def window(self) -> domain.SendWindow:
        return domain.SendWindow(
            start=self.window_start,
            end=self.window_end,
            weekdays=tuple(self.window_weekdays or domain.WEEKDAYS),
        )

    def clean(self) -> None:
        problems = domain.program_problems(
            entry_rules=self.entry_rules,
            exit_rules=self.exit_rules,
            weekdays=self.window_weekdays,
            window_start=self.window_start,
            window_end=self.window_end,
            time_zone=self.default_time_zone,
            interval_days=self.interval_days,
        )
        if problems:
            raise ValidationError(problems)


class ProgramStep(models.Model):
    """Step N of a program: a message, sent ``delay_days`` after the previous step."""

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="steps")
    position = models.PositiveSmallIntegerField()
    message = models.ForeignKey(Message, on_delete=models.PROTECT, related_name="steps")
    delay_days = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="days after the previous step (blank = the interval)"
    )

    class Meta:
        ordering = ["program", "position"]
        constraints = [
            models.UniqueConstraint(fields=["program", "position"], name="nurture_step_position")
        ]

    def __str__(self) -> str:
        return f"{self.program} #{self.position}: {self.message}"


class Enrollment(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        COMPLETED = "completed", "Completed (every step sent)"
        EXITED = "exited", "Left the program"

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="enrollments")
    lead = models.ForeignKey("leads.Lead", on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey("leads.Person", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.ACTIVE)
    entry_reason = models.CharField(max_length=32)
    enrolled_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    exit_reason = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["-enrolled_at", "-id"]
        constraints = [
            # A lead is enrolled in a program once; it never receives the same track twice.
            models.UniqueConstraint(fields=["program", "lead"], name="nurture_enrollment_once")
        ]
        indexes = [models.Index(fields=["lead", "status"], name="nurture_enrollment_lead")]

    def __str__(self) -> str:
        return f"Lead {self.lead_id} in {self.program_id} ({self.status})"


class NurtureSend(models.Model):
    """One email of one step to one enrolled lead: the outbox row of nurture.

    ``send_after`` is when it is due; while ``sending`` it holds the end of the claim's
    lease, so one index finds due rows and rows a killed worker left behind alike. It is
    cleared (NULL) when the row is done (sent, skipped, dead), so the index only holds work
    still to do."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        SENDING = "sending", "Being sent"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed; will retry"
        DEAD = "dead", "Failed; gave up"
        SKIPPED = "skipped", "Not sent"

    enrollment = models.ForeignKey(Enrollment, on_delete=models.PROTECT, related_name="sends")
    step = models.ForeignKey(ProgramStep, on_delete=models.PROTECT, related_name="sends")
    lead = models.ForeignKey("leads.Lead", on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey("leads.Person", on_delete=models.PROTECT, related_name="+")
    token = models.CharField(max_length=32, unique=True, help_text="unsubscribe link key")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SCHEDULED)
    send_after = models.DateTimeField(null=True, blank=True)
    claim = models.CharField(max_length=32, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    recipient = models.CharField(max_length=254, blank=True)
    message_id = models.CharField(max_length=200, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # Sent (the SMTP server accepted it) but its touch, timeline event and next step are not
    # written yet: the short window a killed worker leaves behind, finished by the next sweep.
    pending_record = models.BooleanField(default=False)
    last_error = models.TextField(blank=True)
    skip_reason = models.CharField(max_length=64, blank=True)
    opens = models.PositiveIntegerField(default=0)
    clicks = models.PositiveIntegerField(default=0)
    first_opened_at = models.DateTimeField(null=True, blank=True)
    first_clicked_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    turned_hot_at = models.DateTimeField(
        null=True, blank=True, help_text="the lead went hot after this send (the last one before)"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["enrollment", "step"], name="nurture_send_once")
        ]
        indexes = [
            # Only rows still to do are indexed: the sweep's cost follows the due rows, not
            # everyone ever enrolled (bench/nurture.py). "send_after <= ?" implies the
            # condition on both databases, so the planner can use it with a bound parameter
            # (a condition on status IN (...) could not be matched by SQLite).
            models.Index(
                fields=["send_after"],
                name="nurture_send_due",
                condition=Q(send_after__isnull=False),
            ),
            models.Index(fields=["person", "sent_at"], name="nurture_send_person"),
            models.Index(fields=["lead", "sent_at"], name="nurture_send_lead"),
        ]

    def __str__(self) -> str:
        return f"Send {self.pk} ({self.status})"

    @property
    def ref(self) -> str:
        """The message reference given to tracking links and pixels."""
        return f"nurture-{self.pk}"


class Suppression(models.Model):
    """An address we never email again. Keyed by the normalized address, not by a Person, so
    it survives merges and erasure of the person."""

    class Reason(models.TextChoices):
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
        HARD_BOUNCE = "hard_bounce", "Hard bounce"
        COMPLAINT = "complaint", "Spam complaint"
        MANUAL = "manual", "Added by hand"

    address = models.CharField(max_length=254, unique=True)
    reason = models.CharField(max_length=16, choices=Reason.choices)
    source = models.CharField(max_length=200, blank=True, help_text="link, webhook, SMTP, API...")
    note = models.TextField(blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.address} ({self.reason})"
