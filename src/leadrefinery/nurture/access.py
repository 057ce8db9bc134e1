"""Who may see and change nurture on the pages (API tokens carry their own role check)."""

from __future__ import annotations

from leadrefinery.accounts.models import Role, User


def can_view_nurture(user: User) -> bool:
    """Marketers, managers and admins see the programs and their reports."""
    return user.is_superuser or user.role in (Role.ADMIN, Role.MARKETER, Role.MANAGER)


def can_edit_nurture(user: User) -> bool:
    """Marketers and admins write messages and build programs."""
    return user.is_superuser or user.role in (Role.ADMIN, Role.MARKETER)
