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


def _block_index(fields: list[str], name: str) -> models.Index:
    return models.Index(fields=fields, name=name, condition=~Q(**{fields[0]: ""}))


class PersonVariant(models.Model):
    """Another way a known person was written: a record that attached to ``person`` with
    block keys the person's own fields do not have (another surname spelling, postcode or
    company). A person's match keys are the union of its own and its variants', so a later
    record like this one is found; each variant is scored as its own record."""

    person = models.ForeignKey(  # found by variant_once (person, signature)
        "leads.Person", on_delete=models.PROTECT, related_name="variants", db_index=False
    )
    signature = models.CharField(max_length=40, help_text="SHA-1 of the block keys")
    email = models.CharField(max_length=254, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    first_name = models.CharField(max_length=120, blank=True)
    last_name = models.CharField(max_length=120, blank=True)
    company_name = models.CharField(max_length=200, blank=True)
    street = models.CharField(max_length=300, blank=True)
    city = models.CharField(max_length=120, blank=True)
    email_key = models.CharField(max_length=254, blank=True)
    domain_key = models.CharField(max_length=200, blank=True)
    company_key = models.CharField(max_length=200, blank=True)
    first_name_key = models.CharField(max_length=120, blank=True)
    last_name_key = models.CharField(max_length=120, blank=True)
    postcode_key = models.CharField(max_length=32, blank=True)
    street_number_key = models.CharField(max_length=16, blank=True)
    street_key = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["person", "signature"], name="variant_once")]
        # The same block indexes as Person's (dedupe/domain.py: BLOCKS).
        indexes = [
            _block_index(["email_key"], "variant_block_email"),
            _block_index(["phone"], "variant_block_phone"),
            _block_index(["last_name_key", "first_name_key"], "variant_block_name"),
            _block_index(["company_key", "last_name_key"], "variant_block_company"),
            _block_index(["postcode_key", "street_number_key"], "variant_block_address"),
            _block_index(["first_name_key", "postcode_key"], "variant_block_name_postcode"),
            _block_index(["last_name_key", "postcode_key"], "variant_block_surname_postcode"),
            _block_index(["street_key"], "variant_block_street"),
            _block_index(["last_name_key", "street_number_key"], "variant_block_last_number"),
        ]

    def __str__(self) -> str:
        return f"variant of person {self.person_id}"


class MatchModel(models.Model):
    """Weights for matching learnt from the people stored (``refinery dedupe-train``).

    Matching uses the newest active model, or the hand-set weights when there is none
    (dedupe/weights.py). A model is never deleted: ``dedupe-train --reset`` deactivates them,
    so what scored a past pair stays on record."""

    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=120, help_text="who or what trained it")
    active = models.BooleanField(default=True)
    prior = models.FloatField(help_text="log2 odds that two records are one human")
    weights = models.JSONField(help_text="level -> weight (log2 m/u)")
    details = models.JSONField(
        default=dict, blank=True, help_text="m, u and the matched pairs seen per level"
    )
    people = models.PositiveIntegerField(help_text="records learnt from")
    blocked_pairs = models.PositiveIntegerField()
    random_pairs = models.PositiveIntegerField()
    matches = models.FloatField(help_text="matched pairs expected among the blocked pairs")
    iterations = models.PositiveIntegerField()
    converged = models.BooleanField()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["active", "-id"], name="match_model_active")]

    def __str__(self) -> str:
        return f"Match weights learnt {self.created_at:%Y-%m-%d %H:%M} from {self.people} records"
