"""Who may change the speed-to-lead policies and a rep's availability (their calendar)."""

from __future__ import annotations

from leadrefinery.accounts.models import Role, User


def can_edit_policies(user: User) -> bool:
    """Admins and managers edit SLA policies (and routing rules)."""
    return bool(user.is_active and (user.is_admin_role or user.role == Role.MANAGER))


# What a rep may set on themselves; the rest (weight and caps) is for their manager or an admin.
AVAILABILITY_SELF = frozenset({"away_until", "working_hours", "time_zone"})
AVAILABILITY_ALL = AVAILABILITY_SELF | {"routing_weight", "max_open_leads", "max_leads_per_day"}


def can_edit_availability(editor: User, user: User, fields: set[str] | frozenset[str]) -> bool:
    """Admins edit anyone; managers the members of their teams; a rep their own away date,
    hours and time zone (not their weight or caps)."""
    if not editor.is_active:
        return False
    if editor.is_admin_role:
        return True
    if editor.role == Role.MANAGER:
        if editor.pk == user.pk:
            return True
        team_ids = set(editor.managed_teams.values_list("pk", flat=True))
        if editor.team_id:
            team_ids.add(editor.team_id)
        return user.team_id in team_ids
    return editor.pk == user.pk and set(fields) <= AVAILABILITY_SELF
