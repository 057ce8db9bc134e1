"""What privacy work leaves behind: keyed hashes of erased contacts, and the audit log.

Neither holds personal data: an ``ErasedContact`` is an HMAC of a normalized email address or
phone number (keys.py), usable only to recognise the same contact again; a ``PrivacyEvent``
says who exported or erased which person id, when and why.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class PrivacyEvent(models.Model):
    """The audit log of exports, erasures and retention sweeps. Append-only."""

    class Kind(models.TextChoices):
        EXPORT = "export", "Exported"
        ERASE = "erase", "Erased"
        RETENTION = "retention", "Raw payloads erased by the retention setting"

    kind = models.CharField(max_length=12, choices=Kind.choices)
    occurred_at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=120, help_text="user name or system component")
    person_ids = models.JSONField(default=list, blank=True, help_text="ids only, never contacts")
    lead_ids = models.JSONField(default=list, blank=True)
    reason = models.TextField(blank=True, help_text="why, as the admin gave it")
    counts = models.JSONField(default=dict, blank=True, help_text="rows changed per table")

    class Meta:
        ordering = ["-occurred_at", "-id"]

    def __str__(self) -> str:
        return (
            f"{self.get_kind_display()} by {self.actor_label} at {self.occurred_at:%Y-%m-%d %H:%M}"
        )


class ErasedContact(models.Model):
    """A keyed hash of an erased person's email address or phone number (the suppression
    entry): a later inquiry with the same contact is flagged and kept out of nurture."""

    class Kind(models.TextChoices):
        EMAIL = "email", "Email address"
        PHONE = "phone", "Phone number"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    digest = models.CharField(max_length=64, unique=True, help_text="HMAC-SHA256, hex")
    erased_at = models.DateTimeField()
    event = models.ForeignKey(PrivacyEvent, on_delete=models.PROTECT, related_name="contacts")

    class Meta:
        ordering = ["-erased_at", "-id"]

    def __str__(self) -> str:
        return f"erased {self.kind} {self.digest[:12]}…"
