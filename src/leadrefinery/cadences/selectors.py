"""Reads for the rep's day: due and overdue cadence steps (and leads waiting to be accepted),
hot and SLA-critical first; open outcome checks for marketing. A constant number of queries
however many leads the rep has."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When

from leadrefinery.accounts.models import Role, User
from leadrefinery.leads import domain as lead_domain
from leadrefinery.leads.models import Lead
from leadrefinery.leads.services import MARKETING_QUEUE

from . import domain
from .models import CadenceStep, CadenceTemplate, Enrollment, OutcomeCheck
from .notify import email_values

SALES_OPEN = [
    lead_domain.Stage.SALES_READY,
    lead_domain.Stage.WORKING,
    lead_domain.Stage.OPPORTUNITY,
]


@dataclass(frozen=True)
class TodayRow:
    lead: Lead
    enrollment: Enrollment | None
    step: CadenceStep | None
    total_steps: int
    due_at: datetime
    overdue: bool
    hot: bool
    sla_critical: bool

    @property
    def kind(self) -> str:
        """accept (a new lead), step (a cadence step), ending (waiting for a reply), follow_up."""
        if self.lead.stage == lead_domain.Stage.SALES_READY:
            return "accept"
        if self.enrollment is not None and self.step is not None:
            return "step"
        if self.enrollment is not None:
            return "ending"
        return "follow_up"

    @property
    def action(self) -> str:
        """What to do: the step due (its channel decides the buttons), else the next action."""
        if self.step is not None:
            return f"Step {self.step.position} of {self.total_steps}: {self.step.title}"[:200]
        return self.lead.next_action

    @property
    def channel(self) -> str:
        return self.step.channel if self.step is not None else ""

    @property
    def email_preview(self) -> tuple[str, str] | None:
        """The step's email as the buyer will read it (subject blank: a reply in the thread)."""
        if self.step is None or self.step.channel != domain.Channel.EMAIL:
            return None
        values = email_values(self.lead)
        return (
            domain.render_text(self.step.email_subject, values) or "(a reply in the same thread)",
            domain.render_text(self.step.email_body, values),
        )

    @property
    def call_outcomes(self) -> list[tuple[str, str, str]]:
        keys = "1234"
        return [(o.value, o.label, keys[i]) for i, o in enumerate(domain.CallOutcome)]


def end_of_day(user: User, at: datetime) -> datetime:
    """The end of ``user``'s local day containing ``at`` ("today" in their time zone)."""
    try:
        zone = zoneinfo.ZoneInfo(user.time_zone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    tomorrow = at.astimezone(zone).date() + timedelta(days=1)
    return datetime.combine(tomorrow, time(0), tzinfo=zone)


def _sla_critical() -> Q:
    # The first-contact clock is running, or it was breached and nobody has called yet.
    return Q(sla_due_at__isnull=False) | Q(
        sla_breached_at__isnull=False, first_sales_touch_at__isnull=True
    )


def due_leads(user: User, until: datetime) -> QuerySet[Lead]:
    """The rep's open sales leads whose next action is due by ``until``, in work order."""
    return (
        Lead.objects.filter(owner_user=user, stage__in=SALES_OPEN, next_action_due_at__lte=until)
        .annotate(
            is_hot=Case(When(temperature="hot", then=Value(1)), default=Value(0)),
            is_critical=Case(
                When(_sla_critical(), then=Value(1)), default=Value(0), output_field=IntegerField()
            ),
        )
        .select_related("person", "account", "owner_user")
        .order_by("-is_hot", "-is_critical", "next_action_due_at", "pk")
    )


def today_rows(
    user: User, at: datetime, *, until: datetime | None = None, lead_id: int | None = None
) -> list[TodayRow]:
    """Everything due for ``user`` by the end of their day (or ``until``): three queries."""
    until = until or end_of_day(user, at)
    due = due_leads(user, until)
    running = Enrollment.objects.filter(
        lead__owner_user=user,
        lead__stage__in=SALES_OPEN,
        lead__next_action_due_at__lte=until,
        status__in=[Enrollment.Status.ACTIVE, Enrollment.Status.ENDING],
    )
    if lead_id is not None:
        due, running = due.filter(pk=lead_id), running.filter(lead_id=lead_id)
    leads = list(due)
    enrollments = {e.lead_id: e for e in running}
    template_ids = {e.template_id for e in enrollments.values()}
    steps: dict[int, list[CadenceStep]] = {t: [] for t in template_ids}
    for row in CadenceStep.objects.filter(template_id__in=template_ids).order_by("position"):
        steps[row.template_id].append(row)
    rows = []
    for lead in leads:
        enrollment = enrollments.get(lead.pk)
        own = steps.get(enrollment.template_id, []) if enrollment else []
        step: CadenceStep | None = None
        if enrollment is not None and enrollment.status == Enrollment.Status.ACTIVE:
            position = enrollment.step_position
            step = own[position - 1] if 0 < position <= len(own) else None
        due_at = lead.next_action_due_at
        assert due_at is not None  # filtered on it
        rows.append(
            TodayRow(
                lead=lead,
                enrollment=enrollment,
                step=step,
                total_steps=len(own),
                due_at=due_at,
                overdue=lead_domain.is_overdue(due_at, at),
                hot=bool(lead.is_hot),  # type: ignore[attr-defined]
                sla_critical=bool(lead.is_critical),  # type: ignore[attr-defined]
            )
        )
    return rows


def today_row(user: User, lead_id: int, at: datetime) -> TodayRow | None:
    """One row of the Today list (after an htmx action), or None when it is no longer due."""
    rows = today_rows(user, at, lead_id=lead_id)
    return rows[0] if rows else None


def answers_outcome_checks(user: User) -> bool:
    """Marketing owns outcome checks: marketers, admins and members of the marketing queue."""
    if not user.is_active:
        return False
    if user.is_admin_role or user.role == Role.MARKETER:
        return True
    return user.queues.filter(slug=MARKETING_QUEUE).exists()


def open_outcome_checks(user: User) -> list[OutcomeCheck]:
    if not answers_outcome_checks(user):
        return []
    return list(
        OutcomeCheck.objects.filter(status=OutcomeCheck.Status.OPEN)
        .select_related("lead__person")
        .order_by("scheduled_for", "pk")[:200]
    )


def templates_with_steps() -> list[tuple[CadenceTemplate, list[CadenceStep]]]:
    templates = list(CadenceTemplate.objects.order_by("-is_default", "name"))
    steps: dict[int, list[CadenceStep]] = {t.pk: [] for t in templates}
    for step in CadenceStep.objects.order_by("template_id", "position"):
        steps.setdefault(step.template_id, []).append(step)
    return [(t, steps[t.pk]) for t in templates]


def template_steps(template_id: int) -> list[CadenceStep]:
    return list(CadenceStep.objects.filter(template_id=template_id).order_by("position"))
