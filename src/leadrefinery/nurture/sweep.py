"""The periodic nurture jobs: ``nurture-enroll`` enrolls leads that meet a program's entry rules
(every ten minutes: it reads the nurture leads not yet enrolled), ``nurture-send`` sends what is
due (every minute: it reads only due rows, through an index). Both are idempotent: an
enrollment is unique per (program, lead) and a send row per (enrollment, step), and rows are
claimed before they are sent (dispatch.py)."""

from __future__ import annotations

import logging
from datetime import datetime

from django.db.models import Exists, OuterRef, Q

from leadrefinery.common.clock import now
from leadrefinery.leads.models import Lead, LeadEvent

from . import dispatch, domain, services
from .models import Enrollment, Program

log = logging.getLogger(__name__)


def candidates(program: Program, limit: int):  # type: ignore[no-untyped-def]
    """Leads that may enter ``program``: in inquiry or nurture (or lost for no decision), not
    owned by a rep, not hot, with an email address, and not enrolled in it yet."""
    rules = set(program.entry_rules)
    stage = Q(stage__in=sorted(domain.NURTURE_STAGES))
    if "lost_no_decision" in rules:
        stage |= Q(stage="lost", disposition_id="lost_no_decision")
    if rules <= {"recycled"}:
        stage = Q(stage="nurture")
    recycled = LeadEvent.objects.filter(lead_id=OuterRef("pk")).filter(
        Q(kind=LeadEvent.Kind.RECYCLED)
        | Q(
            kind=LeadEvent.Kind.STAGE_CHANGED,
            to_stage="nurture",
            from_stage__in=domain.SALES_STAGES,
        )
    )
    enrolled = Enrollment.objects.filter(program=program, lead_id=OuterRef("pk"))
    return (
        Lead.objects.filter(stage)
        .filter(Q(owner_user__isnull=True) | Q(stage="lost"))
        .exclude(temperature="hot")
        .exclude(person__email="")
        .filter(~Exists(enrolled))
        .annotate(recycled=Exists(recycled))
        .select_related("person")
        .order_by("pk")[:limit]
    )


def nurture_enroll(*, at: datetime | None = None, limit: int = 1000) -> int:
    """Enroll up to ``limit`` leads per active program; returns how many were enrolled."""
    at = at or now()
    enrolled = 0
    for program in Program.objects.filter(active=True).order_by("pk"):
        for lead in candidates(program, limit):
            snapshot = services.lead_snapshot(lead, recycled=lead.recycled)
            decision = domain.entry_decision(snapshot, program.entry_rules)
            if not decision.ok:
                continue
            try:
                if services.enrollment_create(
                    program=program, lead=lead, reason=decision.reason, at=at
                ):
                    enrolled += 1
            except Exception:  # one bad lead must not stop the others
                log.exception("enrolling lead %s in program %s failed", lead.pk, program.pk)
    return enrolled


def nurture_sweep(
    *, at: datetime | None = None, limit: int = 100, rounds: int = 50, enroll: bool = True
) -> dispatch.SendResult:
    """The periodic job: enroll, then send due rows in rounds of ``limit`` until none is due
    (at most ``rounds`` rounds, so one run stays short; the next run continues)."""
    at = at or now()
    if enroll:
        nurture_enroll(at=at)
    total = dispatch.SendResult()
    for _ in range(rounds):
        result = dispatch.nurture_dispatch(at=max(at, now()), limit=limit)
        for name in ("sent", "failed", "dead", "skipped", "deferred"):
            setattr(total, name, getattr(total, name) + getattr(result, name))
        if result.total < limit:
            break
    return total


def nurture_send_due() -> dispatch.SendResult:
    """The ``nurture-send`` job: send what is due, in rounds (enrollment is its own job)."""
    return nurture_sweep(enroll=False)
