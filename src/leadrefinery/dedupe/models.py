"""Possible duplicates and the reviewers' decisions about them.

A :class:`DuplicatePair` is stored once per pair of people (lower id first). Its status is the
remembered decision: ``dismissed`` ("not a duplicate") keeps the pair from ever being proposed
again by intake, import or ``refinery dedupe-scan``; ``merged`` records the merge.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q


class DuplicatePair(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open: waiting for review"
        MERGED = "merged", "Merged"
        DISMISSED = "dismissed", "Not a duplicate"
        CLOSED = "closed", "Closed: one of the two was merged elsewhere"

    class FoundBy(models.TextChoices):
        INTAKE = "intake", "Intake"
        IMPORT = "import", "Import"
        SCAN = "scan", "dedupe-scan"

    person_a = models.ForeignKey(
        "leads.Person", on_delete=models.PROTECT, related_name="+", help_text="the older one"
    )
    person_b = models.ForeignKey("leads.Person", on_delete=models.PROTECT, related_name="+")
    score = models.FloatField()
    reasons = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    found_by = models.CharField(max_length=16, choices=FoundBy.choices)
    created_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decision_note = models.CharField(max_length=300, blank=True)
    survivor = models.ForeignKey(
        "leads.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-score", "-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["person_a", "person_b"], name="duplicate_pair_unique"),
            models.CheckConstraint(
                condition=Q(person_a__lt=F("person_b")), name="duplicate_pair_ordered"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "score"], name="duplicate_pair_queue"),
            models.Index(fields=["person_b"], name="duplicate_pair_b"),
        ]

    def __str__(self) -> str:
        return f"Possible duplicate {self.person_a_id} / {self.person_b_id} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN
