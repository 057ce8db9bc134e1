"""``{{ labels|label_of:code }}``: the label people read for a stored code (the code itself
only when no label is known, never silently empty)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from django import template

from leadrefinery.common.weburl import clickable

register = template.Library()


@register.filter
def web_href(value: Any) -> str:
    """The address when it may be a link (http or https), else "": render it as plain text."""
    return clickable(value)


@register.filter
def label_of(labels: Mapping[str, Any] | None, code: Any) -> str:
    if not code:
        return ""
    return str((labels or {}).get(code) or str(code).replace("_", " ").capitalize())


@register.filter
def minutes(value: Any) -> str:
    """90 -> "1 h 30 min", 15 -> "15 min", 1440 -> "24 h"; a timedelta in whole minutes."""
    if value is None or value == "":
        return ""
    total = int(value.total_seconds() // 60) if isinstance(value, timedelta) else int(value)
    hours, mins = divmod(total, 60)
    if not hours:
        return f"{mins} min"
    return f"{hours} h" + (f" {mins} min" if mins else "")
