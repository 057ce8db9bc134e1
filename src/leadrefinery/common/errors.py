"""The errors that services raise for a person to read. Every app's services raise these, and
views, the API and the CLI turn them into a form error, a 4xx answer or a message."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError


class ServiceError(Exception):
    """A refused write, with a message fit to show the user."""

    def __init__(
        self, message: str, *, field: str | None = None, errors: tuple[str, ...] = ()
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.errors = errors or (message,)


class ConfigRefused(Exception):
    """A refused configuration write; ``errors`` maps field names to messages for the user."""

    def __init__(self, errors: Mapping[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = dict(errors)


def validated(obj: Any) -> None:
    """``full_clean`` a configuration row, its errors raised as ConfigRefused."""
    try:
        obj.full_clean(exclude=["created_at", "updated_at"])
    except ValidationError as exc:
        raise ConfigRefused({k: [str(m) for m in v] for k, v in exc.message_dict.items()}) from exc


def config_errors_body(errors: Mapping[str, list[str]]) -> dict[str, object]:
    """A ``ConfigRefused``'s errors in the API's 422 shape (see docs/api.md)."""
    return {
        "detail": [
            {"loc": ["body", "payload", field], "msg": msg, "type": "value_error"}
            for field, messages in errors.items()
            for msg in messages
        ],
        "inquiry_id": None,
    }
