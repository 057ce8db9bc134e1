"""``{% cadence_panel lead %}``: the lead page's cadence progress and persistence rule."""

from __future__ import annotations

import math
from typing import Any

from django import template

from leadrefinery.common.clock import now
from leadrefinery.leads import domain as lead_domain
from leadrefinery.leads.services import persistence_rule

from ..models import Enrollment
from ..selectors import template_steps

register = template.Library()


@register.inclusion_tag("cadences/lead_panel.html", takes_context=True)
def cadence_panel(context: Any, lead: Any) -> dict[str, Any]:
    user = context.get("user")
    enrollment = (
        Enrollment.objects.filter(lead_id=lead.pk)
        .select_related("template")
        .order_by("-started_at", "-pk")
        .first()
    )
    persistence = None
    stage = lead_domain.Stage(lead.stage)
    if stage.is_sales:
        touches_left, days_left = persistence_rule().remaining(
            touches=lead.sales_touch_count, first_touch_at=lead.first_sales_touch_at, at=now()
        )
        persistence = {
            "touches_left": touches_left,
            "days_left": math.ceil(days_left),
            "met": touches_left == 0 and days_left == 0,
        }
    return {
        "lead": lead,
        "enrollment": enrollment,
        "steps": template_steps(enrollment.template_id) if enrollment else [],
        "persistence": persistence,
        "can_accept": stage == lead_domain.Stage.SALES_READY
        and user is not None
        and lead.owner_user_id == getattr(user, "pk", None),
        "csrf_token": context.get("csrf_token"),
    }
