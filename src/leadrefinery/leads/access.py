"""Guarded reads. Views, API and exports all ask here what a user may see.

- admin: every lead;
- marketer: every lead (marketing owns nurture and reports on every source);
- manager: leads owned by members of the teams they manage (or belong to), by queues of
  those teams, by queues they are a member of, and their own;
- rep: their own leads and the leads of queues they are a member of.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, QuerySet
from django.http import Http404

from leadrefinery.accounts.models import Role

from .models import Lead

if TYPE_CHECKING:
    from leadrefinery.accounts.models import User


def lead_scope(user: User) -> Q | None:
    """The filter for the leads ``user`` may see; None means all."""
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if user.is_superuser or user.role in (Role.ADMIN, Role.MARKETER):
        return None
    own = Q(owner_user=user) | Q(owner_queue__members=user)
    if user.role == Role.MANAGER:
        team_ids = set(user.managed_teams.values_list("pk", flat=True))
        if user.team_id:
            team_ids.add(user.team_id)
        if team_ids:
            own |= Q(owner_user__team_id__in=team_ids) | Q(owner_queue__team_id__in=team_ids)
    return own


def visible_to(user: User) -> QuerySet[Lead]:
    scope = lead_scope(user)
    qs = Lead.objects.all()
    if scope is None:
        return qs
    # A subquery on ids keeps the queue-membership join from duplicating rows.
    return qs.filter(pk__in=Lead.objects.filter(scope).values("pk"))


def access_lead(user: User, lead_id: int) -> Lead:
    """The lead if ``user`` may see it; 404 otherwise (never reveal that it exists)."""
    lead = visible_to(user).filter(pk=lead_id).first()
    if lead is None:
        raise Http404("No such lead")
    return lead


def can_assign(user: User | AnonymousUser) -> bool:
    """Managers and admins give leads to an owner (reps accept or reject theirs)."""
    return bool(
        user.is_authenticated
        and user.is_active
        and (user.is_superuser or user.role in (Role.MANAGER, Role.ADMIN))
    )
