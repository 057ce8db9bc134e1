"""Visitors, their page visits, the hit buffer and events received through the API.

``Hit`` is the buffer the tracking endpoints write to (one INSERT per request, nothing else);
``services.hits_flush`` turns buffered hits into visits, touches and score changes in batches.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class Visitor(models.Model):
    """A browser, known by the first-party cookie the snippet sets; a Person once identified."""

    key = models.CharField(max_length=64, unique=True, help_text="the rf_vid cookie")
    person = models.ForeignKey(
        "leads.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="visitors"
    )
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    identified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_seen_at"]

    def __str__(self) -> str:
        return f"Visitor {self.key[:8]}"


class Visit(models.Model):
    """One page view. Anonymous until its visitor is identified; then it is also a Touch."""

    visitor = models.ForeignKey(Visitor, on_delete=models.PROTECT, related_name="visits")
    person = models.ForeignKey(
        "leads.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    touch = models.ForeignKey(
        "leads.Touch", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    url = models.CharField(max_length=500)
    title = models.CharField(max_length=200, blank=True)
    referrer = models.CharField(max_length=500, blank=True)
    occurred_at = models.DateTimeField()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["visitor", "occurred_at"], name="visit_visitor_time")]

    def __str__(self) -> str:
        return f"{self.url} at {self.occurred_at:%Y-%m-%d %H:%M}"


class Hit(models.Model):
    """A raw tracking hit (page visit, email open, click), buffered for the batch flush."""

    class Kind(models.TextChoices):
        VISIT = "visit", "Page visit"
        OPEN = "open", "Email open"
        CLICK = "click", "Email click"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    visitor_key = models.CharField(max_length=64, blank=True)
    person_id_signed = models.BigIntegerField(
        null=True, blank=True, help_text="from a signed email token"
    )
    message_ref = models.CharField(max_length=120, blank=True)
    url = models.CharField(max_length=2000, blank=True)
    title = models.CharField(max_length=200, blank=True)
    referrer = models.CharField(max_length=500, blank=True)
    occurred_at = models.DateTimeField()
    processed_at = models.DateTimeField(null=True, blank=True)
    removed_control_characters = models.PositiveIntegerField(
        default=0, help_text="NUL and other control characters removed from the hit's text"
    )

    class Meta:
        indexes = [
            models.Index(fields=["id"], name="hit_pending", condition=Q(processed_at__isnull=True))
        ]

    def __str__(self) -> str:
        return f"{self.kind} hit {self.pk}"


class TrackedEvent(models.Model):
    """An event received by POST /api/v1/events (webinar attended, download, sign-up...)."""

    event_id = models.CharField(max_length=120, unique=True, help_text="the sender's id")
    type = models.CharField(max_length=40)
    email = models.CharField(max_length=254, blank=True)
    person = models.ForeignKey(
        "leads.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lead = models.ForeignKey(
        "leads.Lead", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    touch = models.ForeignKey(
        "leads.Touch", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField()
    properties = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]

    def __str__(self) -> str:
        return f"{self.type} ({self.event_id})"


class RateCounter(models.Model):
    """How often something limited was used in one window: the requests of one client address
    in one hour ("form:203.0.113.7"), or the one use of a single-use form token
    ("trap:<sha256>"). Taken with one conditional UPDATE (limits.py), so that concurrent
    requests cannot all read "below the limit" and all go through."""

    key = models.CharField(max_length=120)
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(help_text="when the row may be deleted")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "window_start"], name="ratecounter_key_window")
        ]
        indexes = [models.Index(fields=["expires_at"], name="ratecounter_expires")]

    def __str__(self) -> str:
        return f"{self.key} since {self.window_start:%Y-%m-%d %H:%M}: {self.count}"
