"""Who did something: a user, or a named part of the system."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from leadrefinery.accounts.models import User


@dataclass(frozen=True)
class Actor:
    user: User | None
    label: str

    @classmethod
    def of(cls, user: User) -> Actor:
        return cls(user=user, label=user.username)

    @classmethod
    def system(cls, component: str) -> Actor:
        return cls(user=None, label=f"system:{component}")

    @property
    def user_id(self) -> int | None:
        return self.user.pk if self.user is not None else None
