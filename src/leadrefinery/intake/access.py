"""Who may use the import page (the `refinery import` command is for whoever runs the server)."""

from __future__ import annotations

from leadrefinery.accounts.models import Role, User


def can_import(user: User) -> bool:
    """Marketers and admins import lists, see past imports and undo them."""
    return user.is_superuser or user.role in (Role.ADMIN, Role.MARKETER)
