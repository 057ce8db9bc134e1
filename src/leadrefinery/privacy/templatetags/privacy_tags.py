"""``{% privacy_panel lead %}``: on the lead page, admins' export and erase links, and for
everyone a notice when the person's data was erased."""

from __future__ import annotations

from typing import Any

from django import template

from leadrefinery.leads.models import LeadEvent

register = template.Library()


@register.inclusion_tag("privacy/lead_panel.html", takes_context=True)
def privacy_panel(context: Any, lead: Any) -> dict[str, Any]:
    user = context.get("user")
    erased = (
        LeadEvent.objects.filter(lead_id=lead.pk, kind=LeadEvent.Kind.NOTE, data__privacy="erased")
        .order_by("-occurred_at", "-id")
        .first()
    )
    return {
        "lead": lead,
        "erased": erased,
        "is_admin": bool(getattr(user, "is_admin_role", False)),
    }
