"""``{% lead_flags lead %}``: the lead's standing hygiene flags with reasons, on the lead page."""

from __future__ import annotations

from typing import Any

from django import template

from leadrefinery.common.clock import now

from ..domain import age_words
from ..models import LeadFlag

register = template.Library()


@register.inclusion_tag("review/lead_flags.html")
def lead_flags(lead: Any) -> dict[str, Any]:
    at = now()
    flags = sorted(
        LeadFlag.objects.filter(lead_id=lead.pk, cleared_at__isnull=True), key=lambda f: f.severity
    )
    return {"flags": [(f, age_words(at - f.since)) for f in flags]}
