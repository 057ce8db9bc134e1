"""``{{ labels|label_of:code }}``: the label people read for a stored code (the code itself
only when no label is known, never silently empty)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import template

register = template.Library()


@register.filter
def label_of(labels: Mapping[str, Any] | None, code: Any) -> str:
    if not code:
        return ""
    return str((labels or {}).get(code) or str(code).replace("_", " ").capitalize())
