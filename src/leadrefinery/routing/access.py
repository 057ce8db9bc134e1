"""Who may change routing rules (a rep's availability and SLA policies: ``sla.access``)."""

from __future__ import annotations

from leadrefinery.accounts.models import User
from leadrefinery.sla.access import can_edit_policies


def can_edit_routing(user: User) -> bool:
    """Admins and managers edit routing rules (and SLA policies: ``sla.access``)."""
    return can_edit_policies(user)
