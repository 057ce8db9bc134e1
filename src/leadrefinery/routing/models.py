"""Routing rules as data, and each rep's routing settings."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from . import domain

METHOD_CHOICES = [(m.value, m.value.replace("_", " ").capitalize()) for m in domain.Method]
OP_CHOICES = [(o.value, o.value.replace("_", " ")) for o in domain.Op]


class RoutingRule(models.Model):
    """Ordered; the first rule whose conditions all hold places the lead.

    ``conditions`` is a list of {"field": ..., "op": ..., "value": ...}; fields are lead, person and
    account field names (country, region, industry, employee_band, product_interest, source,
    language, temperature, title, company, ... and any custom field of the payload).
    """

    class TargetKind(models.TextChoices):
        USER = "user", "A rep"
        TEAM = "team", "A team"
        QUEUE = "queue", "A queue"

    name = models.CharField(max_length=120)
    order = models.PositiveIntegerField(default=100, db_index=True)
    active = models.BooleanField(default=True)
    is_fallback = models.BooleanField(default=False, help_text="matches everything; always last")
    conditions = models.JSONField(default=list, blank=True)
    target_kind = models.CharField(max_length=8, choices=TargetKind.choices)
    target_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    target_team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    target_queue = models.ForeignKey(
        "leads.Queue", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    method = models.CharField(
        max_length=16, choices=METHOD_CHOICES, default=domain.Method.ROUND_ROBIN
    )
    account_owner_first = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["is_fallback", "order", "id"]

    def __str__(self) -> str:
        return self.name

    def domain_conditions(self) -> tuple[domain.Condition, ...]:
        return tuple(
            domain.Condition(
                field=c.get("field", ""), op=domain.Op(c.get("op")), value=c.get("value")
            )
            for c in self.conditions
        )

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        if not isinstance(self.conditions, list):
            errors["conditions"] = ["must be a list of conditions"]
        else:
            messages = []
            for i, raw in enumerate(self.conditions, start=1):
                if not isinstance(raw, dict):
                    messages.append(f"condition {i}: must be an object with field, op, value")
                    continue
                try:
                    op = domain.Op(str(raw.get("op")))
                except ValueError:
                    messages.append(f"condition {i}: unknown operator {raw.get('op')!r}")
                    continue
                messages += [
                    f"condition {i}: {m}"
                    for m in domain.Condition(
                        str(raw.get("field") or ""), op, raw.get("value")
                    ).validate()
                ]
            if messages:
                errors["conditions"] = messages
            if self.is_fallback and self.conditions:
                errors.setdefault("conditions", []).append("the fallback rule has no conditions")
        targets = {
            "user": self.target_user_id,
            "team": self.target_team_id,
            "queue": self.target_queue_id,
        }
        chosen = targets.get(self.target_kind)
        if chosen is None:
            errors["target_kind"] = [
                f"choose the {self.target_kind or 'target'} this rule sends leads to"
            ]
        elif sum(v is not None for v in targets.values()) != 1:
            errors["target_kind"] = ["set exactly one target"]
        if (
            self.is_fallback
            and self.target_kind != self.TargetKind.QUEUE
            and self.target_kind != self.TargetKind.TEAM
        ):
            errors.setdefault("target_kind", []).append(
                "the fallback rule sends leads to a queue or a team"
            )
        if errors:
            raise ValidationError(errors)


class RoutingCounter(models.Model):
    """How many leads each rep got through a team's rotation, and today (for daily caps)."""

    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    rotation_count = models.PositiveIntegerField(default=0)
    day = models.DateField()
    day_count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="routing_counter_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in team {self.team_id}: {self.rotation_count}"
