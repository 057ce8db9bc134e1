"""Who may do what with cadences (the lead itself is guarded by leads.access)."""

from __future__ import annotations

from leadrefinery.accounts.models import Role, User
from leadrefinery.leads.models import Lead


def can_edit_cadences(user: User) -> bool:
    return bool(user.is_active and user.is_admin_role)


def can_work_lead(user: User, lead: Lead) -> bool:
    """The lead's owner works its cadence; so may an admin or the owner's team manager."""
    return lead.owner_user_id == user.pk or _is_manager_of(user, lead)


def _is_manager_of(user: User, lead: Lead) -> bool:
    if user.is_admin_role:
        return True
    owner = lead.owner_user
    return bool(
        user.role == Role.MANAGER
        and owner is not None
        and owner.team_id
        and (owner.team_id == user.team_id or owner.team_id in _managed(user))
    )


def _managed(user: User) -> set[int]:
    return set(user.managed_teams.values_list("pk", flat=True))
