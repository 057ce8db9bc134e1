"""``{% lead_flags lead %}``: the lead's standing hygiene flags with reasons, on the lead page."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.timezone import localtime

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


def _when(value: Any) -> str:
    # strftime, not Django's date filter: the same text (the pages are in English) at a tenth
    # of the cost, which counts over thousands of rows.
    local = localtime(value)
    return f"{local:%a} {local.day} {local:%b, %H:%M}"


@register.simple_tag
def agenda_rows(items: list[Any], status: str) -> SafeString:
    """The agenda's table rows. Built with format_html rather than a template loop: a team's
    agenda has thousands of rows, and this keeps the page well under 300 ms."""
    link = reverse("lead-detail", args=[987654321]).replace("987654321", "{}")
    not_decided = "not yet" if status == "open" else "carried over"
    rows = []
    for item in items:
        lead = item.lead
        company = (
            format_html('<br><small class="muted">{}</small>', lead.company) if lead.company else ""
        )
        due = (
            format_html(
                '<br><small class="{}">due {}</small>',
                "overdue" if item.overdue else "muted",
                _when(lead.next_action_due_at),
            )
            if lead.next_action_due_at
            else ""
        )
        flags = format_html_join(
            " ",
            '<span class="flag flag-{}" title="{} (since {})">{}</span>',
            ((f.kind, f.reason, _when(f.since), f.label) for f in item.flags),
        ) or format_html('<span class="muted">{}</span>', "none")
        decision = item.decision
        decided = (
            format_html(
                "<strong>{}</strong><br><small>{}</small>",
                decision.get_kind_display(),
                decision.detail,
            )
            if decision
            else format_html('<span class="muted">{}</span>', not_decided)
        )
        rows.append(
            format_html(
                '<tr class="{}"><td><a href="{}">{}</a>{}</td><td>{}</td><td>{}{}</td>'
                "<td>{}</td><td>{}</td></tr>",
                "flagged" if item.flags else "",
                link.format(lead.pk),
                lead.name,
                company,
                lead.stage_label,
                lead.next_action or "—",
                due,
                flags,
                decided,
            )
        )
    return SafeString("\n".join(rows))
