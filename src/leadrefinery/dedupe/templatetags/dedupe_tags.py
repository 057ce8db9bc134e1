"""``{% lead_duplicates person %}``: the open possible duplicates of a lead's person."""

from __future__ import annotations

from typing import Any

from django import template

from leadrefinery.dedupe import selectors

register = template.Library()


@register.inclusion_tag("dedupe/lead_duplicates_box.html", takes_context=True)
def lead_duplicates(context: dict[str, Any], person: Any) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or person is None:
        return {"pairs": []}
    pairs = selectors.pairs_for_person(user, person.pk)
    return {
        "person": person,
        "pairs": [
            {"pair": p, "other": p.person_b if p.person_a_id == person.pk else p.person_a}
            for p in pairs
        ],
    }
