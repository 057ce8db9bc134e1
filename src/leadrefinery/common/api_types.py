"""Field types shared by the API schemas."""

from __future__ import annotations

from datetime import time
from typing import Annotated

from pydantic import AfterValidator, WithJsonSchema


def _no_offset(value: time) -> time:
    if value.tzinfo is not None:
        raise ValueError("give a local time of day, without a UTC offset")
    return value


# A wall-clock time in someone's own time zone (a send window's edge, a cadence step's hour):
# it has no UTC offset, so OpenAPI's "format: time" (RFC 3339 full-time, which requires one)
# would not describe what the API answers ("09:00:00"). The schema says exactly that instead.
LocalTime = Annotated[
    time,
    AfterValidator(_no_offset),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?$",
            "description": "a time of day, HH:MM or HH:MM:SS, local (no UTC offset); "
            "answered as HH:MM:SS",
            "examples": ["09:00:00"],
        }
    ),
]
