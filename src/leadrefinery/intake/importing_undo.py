"""Undo of one CSV import batch. Nothing is deleted: the still-open leads the batch created
are disqualified with the system reason ``import_undone``, the touches it added to leads that
existed before are voided, and leads someone has worked since are kept and listed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import F, OuterRef, Subquery
from django.db.models.functions import Coalesce

from leadrefinery.common.clock import now
from leadrefinery.common.errors import ServiceError
from leadrefinery.leads import domain
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.events import events_insert
from leadrefinery.leads.models import (
    DispositionReason,
    ImportBatch,
    IntakeRecord,
    Lead,
    LeadEvent,
    Touch,
)
from leadrefinery.leads.services import lead_facts, persistence_rule, reason_facts

from .import_recovery import unfinished_reason

UNDO_REASON = "import_undone"
_QUERY_CHUNK = 500  # ids per IN (...) query: well under SQLite's variable limit


# --- Undo ----------------------------------------------------------------------------


@dataclass
class UndoReport:
    batch_id: str
    leads_closed: int
    touches_voided: int
    kept: list[tuple[int, str]]  # (lead id, why it was kept open)
    records_cancelled: int = 0  # stored rows not yet processed, now never to be processed


def import_batch_undo(*, batch_id: str, actor: Actor) -> UndoReport:
    """Revert one import batch (see the module docstring). Refused for an unknown batch, one
    already undone, or one whose import has not finished (resume it first); all or nothing."""
    at = now()
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().filter(pk=batch_id.strip()).first()
        if batch is None:
            raise ServiceError(f"there is no import batch '{batch_id}'", field="batch")
        if batch.undone_at is not None:
            who = f" by {batch.undone_by}" if batch.undone_by_id else ""
            raise ServiceError(
                f"import batch {batch.pk} was already undone on "
                f"{batch.undone_at:%Y-%m-%d %H:%M} UTC{who}; nothing was changed",
                field="batch",
            )
        unfinished = unfinished_reason(batch)
        if unfinished:  # half an undo would leave the rest of the file to arrive later
            raise ServiceError(unfinished, field="batch")
        reason = DispositionReason.objects.filter(code=UNDO_REASON).first()
        if reason is None:
            raise ServiceError(f"the '{UNDO_REASON}' reason is missing; run `refinery migrate`")
        batch.undone_at = at
        batch.undone_by = actor.user
        batch.save(update_fields=["undone_at", "undone_by"])
        # Rows stored but not processed yet (an interrupted import) must never become leads.
        cancelled = IntakeRecord.objects.filter(
            import_batch=batch,
            status__in=[IntakeRecord.Status.RECEIVED, IntakeRecord.Status.FAILED],
        ).update(
            status=IntakeRecord.Status.REJECTED,
            errors=[{"field": "", "message": f"import batch {batch.pk} was undone"}],
            processed_at=at,
        )
        report = UndoReport(
            batch_id=batch.pk,
            leads_closed=0,
            touches_voided=0,
            kept=[],
            records_cancelled=cancelled,
        )
        lead_ids = list(
            Lead.objects.filter(import_batch=batch).order_by("pk").values_list("pk", flat=True)
        )
        for start in range(0, len(lead_ids), _QUERY_CHUNK):
            _close_created_leads(
                lead_ids[start : start + _QUERY_CHUNK], batch, reason, actor, at, report
            )
        _void_touches_on_existing_leads(batch, actor, at, report)
    return report


def _work_since_import(leads: list[Lead], batch: ImportBatch) -> dict[int, str]:
    """Why each lead counts as worked since the import (absent when it was not)."""
    lead_ids = [lead.pk for lead in leads]
    created_at = {lead.pk: lead.created_at for lead in leads}
    why: dict[int, str] = {}
    for lead_id, channel, is_sales in (
        Touch.objects.filter(lead_id__in=lead_ids, voided_at__isnull=True)
        .exclude(import_batch=batch)
        .order_by("pk")
        .values_list("lead_id", "channel", "is_sales")
    ):
        label = Touch.Channel(channel).label.lower() if channel in Touch.Channel else channel
        why.setdefault(
            lead_id,
            f"a sales touch ({label}) was logged since the import"
            if is_sales
            else f"another inquiry arrived since the import ({label})",
        )
    # The intake writes its events ("created", "assigned", and whatever later pipeline steps
    # add) at the lead's creation time, and an "inquiry" event for a duplicate row of the same
    # batch (its touch is checked above). Any other event is work done since the import.
    seen_creation: dict[int, set[str]] = defaultdict(set)
    labels = dict(LeadEvent.Kind.choices)
    for lead_id, kind, to_stage, actor_label, occurred_at in (
        LeadEvent.objects.filter(lead_id__in=lead_ids)
        .order_by("lead_id", "occurred_at", "pk")
        .values_list("lead_id", "kind", "to_stage", "actor_label", "occurred_at")
    ):
        intake_kinds = seen_creation[lead_id]
        if kind in (LeadEvent.Kind.CREATED, LeadEvent.Kind.ASSIGNED) and kind not in intake_kinds:
            intake_kinds.add(kind)
            continue
        if kind == LeadEvent.Kind.INQUIRY or occurred_at <= created_at[lead_id]:
            continue
        if lead_id not in why:
            what = str(labels.get(kind, kind)).lower()
            if to_stage:
                what = f"{what} to {to_stage.replace('_', ' ')}"
            why[lead_id] = f"worked since the import: {what} by {actor_label}"
    return why


def _close_created_leads(
    lead_ids: list[int],
    batch: ImportBatch,
    reason: DispositionReason,
    actor: Actor,
    at: datetime,
    report: UndoReport,
) -> None:
    leads = list(
        Lead.objects.select_for_update(of=("self",))
        .filter(pk__in=lead_ids)
        .order_by("pk")
        .only("pk", "stage", "sales_touch_count", "first_sales_touch_at", "created_at")
    )
    worked = _work_since_import(leads, batch)
    rule, facts = persistence_rule(), reason_facts(reason)
    note = f"Import batch {batch.pk} ({batch.filename}) undone"
    close: list[int] = []
    events: list[LeadEvent] = []
    for lead in leads:
        stage = domain.Stage(lead.stage)
        if not stage.is_open:
            report.kept.append((lead.pk, f"already closed ({stage.label.lower()})"))
            continue
        if lead.sales_touch_count:
            report.kept.append(
                (lead.pk, f"worked since the import: {lead.sales_touch_count} sales touch(es)")
            )
            continue
        if lead.pk in worked:
            report.kept.append((lead.pk, worked[lead.pk]))
            continue
        decision = domain.decide_transition(
            lead_facts(lead), domain.Stage.DISQUALIFIED, reason=facts, at=at, rule=rule
        )
        if not decision.allowed:
            report.kept.append((lead.pk, decision.message))
            continue
        close.append(lead.pk)
        events.append(
            LeadEvent(
                lead_id=lead.pk,
                kind=LeadEvent.Kind.IMPORT_UNDONE,
                occurred_at=at,
                actor=actor.user,
                actor_label=actor.label,
                from_stage=lead.stage,
                to_stage=domain.Stage.DISQUALIFIED,
                reason=reason.code,
                note=note,
                data={"batch": batch.pk, "why": list(decision.reasons)},
            )
        )
    if close:
        Lead.objects.filter(pk__in=close).update(
            stage=domain.Stage.DISQUALIFIED,
            disposition=reason,
            disposition_note=note,
            disposed_at=at,
            next_action="",
            next_action_due_at=None,
            stage_changed_at=at,
            updated_at=at,
        )
        events_insert(events)  # nurture and hygiene hear that these leads closed
    report.leads_closed += len(close)


def _void_touches_on_existing_leads(
    batch: ImportBatch, actor: Actor, at: datetime, report: UndoReport
) -> None:
    """Touches the batch added to leads it did not create: voided, with a timeline note."""
    rows = list(
        Touch.objects.filter(import_batch=batch, voided_at__isnull=True, lead__isnull=False)
        .exclude(lead__import_batch=batch)
        .values_list("pk", "lead_id")
    )
    if not rows:
        return
    per_lead: dict[int, int] = defaultdict(int)
    for _, lead_id in rows:
        per_lead[lead_id] += 1
    touch_ids = [pk for pk, _ in rows]
    lead_ids = sorted(per_lead)
    for start in range(0, len(touch_ids), _QUERY_CHUNK):
        Touch.objects.filter(pk__in=touch_ids[start : start + _QUERY_CHUNK]).update(voided_at=at)
    latest = (
        Touch.objects.filter(lead=OuterRef("pk"), voided_at__isnull=True)
        .order_by("-occurred_at")
        .values("occurred_at")[:1]
    )
    for start in range(0, len(lead_ids), _QUERY_CHUNK):
        ids = lead_ids[start : start + _QUERY_CHUNK]
        list(Lead.objects.select_for_update(of=("self",)).filter(pk__in=ids).values_list("pk"))
        # The last touch is again the latest one that still counts.
        Lead.objects.filter(pk__in=ids).update(
            last_touch_at=Coalesce(Subquery(latest), F("last_touch_at")), updated_at=at
        )
    events_insert(
        [
            LeadEvent(
                lead_id=lead_id,
                kind=LeadEvent.Kind.IMPORT_UNDONE,
                occurred_at=at,
                actor=actor.user,
                actor_label=actor.label,
                note=(
                    f"Import batch {batch.pk} ({batch.filename}) undone: its {count} row(s) for "
                    "this lead no longer count"
                ),
                data={"batch": batch.pk, "voided_touches": count},
            )
            for lead_id, count in per_lead.items()
        ]
    )
    report.touches_voided += len(touch_ids)
