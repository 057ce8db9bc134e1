"""Users with roles, teams, and API tokens."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models


class Role(models.TextChoices):
    REP = "rep", "Sales rep"
    MANAGER = "manager", "Sales manager"
    MARKETER = "marketer", "Marketer"
    ADMIN = "admin", "Administrator"


class Team(models.Model):
    name = models.CharField(max_length=120, unique=True)
    manager = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_teams",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.REP)
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    time_zone = models.CharField(max_length=64, default="UTC")
    # Routing: availability, share and caps (see routing/README.md).
    away_until = models.DateTimeField(
        null=True, blank=True, help_text="skipped by routing until then"
    )
    routing_weight = models.PositiveSmallIntegerField(
        default=1, help_text="share in weighted distribution"
    )
    max_open_leads = models.PositiveIntegerField(null=True, blank=True, help_text="blank = no cap")
    max_leads_per_day = models.PositiveIntegerField(
        null=True, blank=True, help_text="blank = no cap"
    )
    working_hours = models.JSONField(
        default=dict,
        blank=True,
        help_text='weekday (0=Monday) -> [["09:00", "17:00"], ...] in the user\'s time zone; '
        "empty = Monday to Friday 09:00-17:00",
    )

    class Meta:
        ordering = ["username"]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def is_admin_role(self) -> bool:
        return self.is_superuser or self.role == Role.ADMIN


class ApiToken(models.Model):
    """A bearer token. Only a SHA-256 of the secret is stored; the secret is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=120)
    prefix = models.CharField(max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API token"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.user.is_active
