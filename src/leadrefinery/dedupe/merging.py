"""Merge services: merge two people (``person_merge``), decide a reviewed pair (merge it or
dismiss it as 'not a duplicate'), and refuse an unmerge.

Keyword-only and atomic; every lead the merge touches gets a MERGED timeline event with the
actor and the reason. Refusals raise ``ServiceError`` with a message fit to show the user.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

from django.db import transaction
from django.db.models import Q

from leadrefinery.common.clock import now
from leadrefinery.common.errors import ServiceError
from leadrefinery.leads import domain as lead_domain
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import Consent, Lead, LeadEvent, Person, Touch
from leadrefinery.leads.services import event_record

from . import keys
from .models import DuplicatePair

# A person's own fields a reviewer may take from either side when merging (the API's schema
# validates against the same Literal).
MergeField = Literal[
    "first_name",
    "last_name",
    "email",
    "phone",
    "title",
    "company_name",
    "website",
    "country",
    "region",
    "city",
    "postcode",
    "street",
    "language",
]


MERGE_FIELDS: tuple[str, ...] = get_args(MergeField)


@dataclass(frozen=True)
class MergeResult:
    survivor: Person
    loser: Person
    leads_moved: int
    leads_merged: int
    touches_moved: int
    consents_moved: int
    consent_withdrawn: bool


def _describe(person: Person) -> str:
    return f"{person.display_name} (person {person.pk})"


def person_unmerge(*, person: Person, actor: Actor) -> None:
    """Always refused: a merge is not undone (the loser stays as provenance)."""
    if person.merged_into_id is None:
        raise ServiceError(f"{_describe(person)} was never merged; there is nothing to undo")
    raise ServiceError(
        f"{_describe(person)} was merged into person {person.merged_into_id}"
        f"{' on ' + person.merged_at.strftime('%Y-%m-%d %H:%M') if person.merged_at else ''}; "
        "a merge cannot be undone. Its leads, touches and consents now belong to the survivor, "
        "and its own record is kept as provenance."
    )


@transaction.atomic
def person_merge(
    *,
    survivor: Person,
    loser: Person,
    actor: Actor,
    reason: str = "",
    take_from_loser: Sequence[str] = (),
    pair: DuplicatePair | None = None,
    at: datetime | None = None,
) -> MergeResult:
    """Merge ``loser`` into ``survivor``: the survivor keeps every touch, lead, consent and
    timeline event; the most restrictive consent wins; ``take_from_loser`` names the fields
    whose value the loser's record provides. The loser is kept as ``merged`` with a pointer,
    who merged it, when and why. Raises ServiceError when either was merged already."""
    at = at or now()
    unknown = sorted(set(take_from_loser) - set(MERGE_FIELDS))
    if unknown:
        raise ServiceError(f"unknown field(s) to take: {', '.join(unknown)}", field="fields")
    if survivor.pk == loser.pk:
        raise ServiceError("a person cannot be merged with itself", field="survivor")
    survivor, loser = _lock_unmerged(survivor, loser)
    merge = _Merge(survivor, loser, pair, actor, (reason or "").strip()[:300] or "duplicate", at)
    _take_fields(survivor, loser, take_from_loser, at)
    moved_leads, merged_leads = _move_leads(merge)
    touches = Touch.objects.filter(person=loser).update(person=survivor)
    consents, withdrawn = _move_consents(survivor, loser, at)
    _retire(merge)
    _decide_pairs(merge)
    return MergeResult(
        survivor=survivor,
        loser=loser,
        leads_moved=moved_leads,
        leads_merged=merged_leads,
        touches_moved=touches,
        consents_moved=consents,
        consent_withdrawn=withdrawn,
    )


@dataclass(frozen=True)
class _Merge:
    """One merge in progress: who, why and when, for the timeline events it writes."""

    survivor: Person
    loser: Person
    pair: DuplicatePair | None
    actor: Actor
    reason: str
    at: datetime

    @property
    def note(self) -> str:
        return (
            f"{_describe(self.loser)} merged into {_describe(self.survivor)} "
            f"by {self.actor.label}: {self.reason}"
        )

    def data(self, **extra: int) -> dict[str, object]:
        loser = self.loser
        return {
            "survivor_id": self.survivor.pk,
            "loser_id": loser.pk,
            "pair_id": self.pair.pk if self.pair else None,
            "reason": self.reason,
            "loser": {
                "email": loser.email,
                "phone": loser.phone,
                "name": f"{loser.first_name} {loser.last_name}".strip(),
                "company": loser.company_name,
                "created_at": loser.created_at.isoformat(),
            },
            **extra,
        }

    def event(
        self, lead: Lead, note: str, data: dict[str, object], *, from_stage: str = ""
    ) -> None:
        """A MERGED event on ``lead``; ``from_stage`` when the merge closed it."""
        event_record(
            lead=lead,
            kind=LeadEvent.Kind.MERGED,
            actor=self.actor,
            at=self.at,
            from_stage=from_stage,
            to_stage=lead_domain.Stage.MERGED if from_stage else "",
            reason="duplicate" if from_stage else "",
            note=note,
            data=data,
        )


def _lock_unmerged(survivor: Person, loser: Person) -> tuple[Person, Person]:
    """Both people, locked in primary-key order; refused when either was merged already."""
    locked = {
        p.pk: p
        for p in Person.objects.select_for_update()
        .filter(pk__in=[survivor.pk, loser.pk])
        .order_by("pk")
    }
    survivor, loser = locked[survivor.pk], locked[loser.pk]
    for person in (loser, survivor):
        if person.merged_into_id is not None:
            raise ServiceError(
                f"{_describe(person)} was already merged into person {person.merged_into_id}; "
                "merge with the survivor instead",
                field="survivor" if person is survivor else "loser",
            )
    return survivor, loser


def _take_fields(survivor: Person, loser: Person, take: Sequence[str], at: datetime) -> None:
    """The survivor's values, blanks filled from the loser, the ``take`` ones taken."""
    for name in MERGE_FIELDS:
        mine, theirs = getattr(survivor, name), getattr(loser, name)
        if theirs and (name in take or not mine) and mine != theirs:
            setattr(survivor, name, theirs)
    if survivor.account_id is None and loser.account_id is not None:
        survivor.account_id = loser.account_id
    keys.apply_keys(survivor)
    survivor.updated_at = at
    survivor.save()


def _move_leads(merge: _Merge) -> tuple[int, int]:
    """Give the loser's leads to the survivor; an open one of a product line the survivor
    already has open becomes 'merged' into that lead. Every lead involved gets an event.
    Returns (leads moved, leads merged)."""
    survivor_open = {
        lead.product_interest: lead
        for lead in Lead.objects.filter(
            person=merge.survivor, stage__in=list(lead_domain.OPEN_STAGES)
        ).order_by("-pk")
    }
    loser_leads = list(Lead.objects.select_for_update().filter(person=merge.loser).order_by("pk"))
    merged_leads = moved_leads = 0
    for lead in loser_leads:
        lead.person = merge.survivor
        lead.updated_at = merge.at
        keep = survivor_open.get(lead.product_interest)
        if lead.is_open and keep is not None:
            _merge_lead(merge, lead, keep)
            merged_leads += 1
        else:
            if lead.is_open:
                survivor_open.setdefault(lead.product_interest, lead)
            lead.save(update_fields=["person", "updated_at"])
            moved_leads += 1
            merge.event(
                lead,
                f"{merge.note}. This lead now belongs to {_describe(merge.survivor)}.",
                merge.data(),
            )
    # The survivor's own open leads say so too (once per lead).
    told = {lead.merged_into_id for lead in loser_leads if lead.merged_into_id}
    for lead in Lead.objects.filter(
        person=merge.survivor, stage__in=list(lead_domain.OPEN_STAGES)
    ).exclude(pk__in=[*told, *(lead.pk for lead in loser_leads)]):
        merge.event(lead, f"{merge.note}.", merge.data())
    return moved_leads, merged_leads


def _merge_lead(merge: _Merge, lead: Lead, keep: Lead) -> None:
    """Close ``lead`` (now the survivor's) as merged into ``keep``, the same product line."""
    from_stage = lead.stage
    decision = lead_domain.decide_transition(
        lead_domain.LeadFacts(stage=lead_domain.Stage(lead.stage)),
        lead_domain.Stage.MERGED,
        reason=None,
        at=merge.at,
        rule=lead_domain.PersistenceRule(),
        via_merge=True,
    )
    if not decision.allowed:  # pragma: no cover - every open stage may merge
        raise ServiceError(decision.message)
    lead.stage = lead_domain.Stage.MERGED
    lead.merged_into = keep
    lead.stage_changed_at = merge.at
    lead.disposed_at = merge.at
    lead.next_action = ""
    lead.next_action_due_at = None
    lead.sla_due_at = None
    lead.save(
        update_fields=[
            "person",
            "updated_at",
            "stage",
            "merged_into",
            "stage_changed_at",
            "disposed_at",
            "next_action",
            "next_action_due_at",
            "sla_due_at",
        ]
    )
    merge.event(
        lead,
        f"{merge.note}. This lead continues as lead {keep.pk}.",
        merge.data(surviving_lead=keep.pk),
        from_stage=from_stage,
    )
    merge.event(
        keep,
        f"{merge.note}. Lead {lead.pk} (same product line) was merged into this one.",
        merge.data(merged_lead=lead.pk),
    )


def _move_consents(survivor: Person, loser: Person, at: datetime) -> tuple[int, bool]:
    """Both consent histories go to the survivor, and a withdrawal on either side wins: when
    the survivor's latest record of that channel is not the withdrawal, a new one says so.
    Returns (consents moved, whether either side had withdrawn)."""
    withdrawn_channels = set(
        Consent.objects.filter(
            person_id__in=[loser.pk, survivor.pk], basis=Consent.Basis.WITHDRAWN
        ).values_list("channel", flat=True)
    )
    consents = Consent.objects.filter(person=loser).update(person=survivor)
    for channel in sorted(withdrawn_channels):
        latest = (
            Consent.objects.filter(person=survivor, channel=channel)
            .order_by("-recorded_at", "-pk")
            .first()
        )
        if latest is None or latest.basis != Consent.Basis.WITHDRAWN:
            Consent.objects.create(
                person=survivor,
                channel=channel,
                basis=Consent.Basis.WITHDRAWN,
                source=f"merge of person {loser.pk}: a withdrawal on either record wins",
                recorded_at=at,
            )
    return consents, bool(withdrawn_channels)


def _retire(merge: _Merge) -> None:
    """The loser stays as provenance: merged, pointing at the survivor, with who, when, why."""
    loser = merge.loser
    loser.status = "merged"
    loser.merged_into = merge.survivor
    loser.merged_at = merge.at
    loser.merged_by = merge.actor.user
    loser.merge_reason = merge.reason
    loser.updated_at = merge.at
    loser.save(
        update_fields=[
            "status",
            "merged_into",
            "merged_at",
            "merged_by",
            "merge_reason",
            "updated_at",
        ]
    )


def _decide_pairs(merge: _Merge) -> None:
    """The pair (if any) records the decision; other open pairs of the loser are closed."""
    survivor, loser = merge.survivor, merge.loser
    low, high = sorted((survivor.pk, loser.pk))
    DuplicatePair.objects.filter(person_a_id=low, person_b_id=high).update(
        status=DuplicatePair.Status.MERGED,
        decided_at=merge.at,
        decided_by=merge.actor.user,
        decision_note=merge.reason,
        survivor=survivor,
    )
    DuplicatePair.objects.filter(
        Q(person_a=loser) | Q(person_b=loser), status=DuplicatePair.Status.OPEN
    ).update(
        status=DuplicatePair.Status.CLOSED,
        decided_at=merge.at,
        decision_note=f"person {loser.pk} was merged into person {survivor.pk}",
    )


def _locked_pair(pair: DuplicatePair) -> DuplicatePair:
    return (
        DuplicatePair.objects.select_for_update()
        .select_related("person_a", "person_b")
        .get(pk=pair.pk)
    )


def _refuse_decided(pair: DuplicatePair, doing: str) -> None:
    if pair.status == DuplicatePair.Status.MERGED:
        raise ServiceError(
            f"this pair was merged already (person {pair.survivor_id} survived); "
            f"it cannot be {doing}, and a merge cannot be undone",
            field="pair",
        )
    if pair.status == DuplicatePair.Status.DISMISSED:
        raise ServiceError(
            f"this pair was marked 'not a duplicate' by "
            f"{pair.decided_by or 'the system'}; it cannot be {doing}",
            field="pair",
        )
    if pair.status == DuplicatePair.Status.CLOSED:
        raise ServiceError(f"this pair is closed: {pair.decision_note}", field="pair")


@transaction.atomic
def duplicate_merge(
    *,
    pair: DuplicatePair,
    actor: Actor,
    survivor_id: int | None = None,
    take_from_loser: Sequence[str] = (),
    reason: str = "",
    at: datetime | None = None,
) -> MergeResult:
    """Merge the two people of a reviewed pair; by default the older one survives."""
    pair = _locked_pair(pair)
    _refuse_decided(pair, "merged again")
    survivor_id = survivor_id or pair.person_a_id
    if survivor_id not in (pair.person_a_id, pair.person_b_id):
        raise ServiceError(
            f"the survivor must be person {pair.person_a_id} or {pair.person_b_id}",
            field="survivor_id",
        )
    survivor, loser = (
        (pair.person_a, pair.person_b)
        if survivor_id == pair.person_a_id
        else (pair.person_b, pair.person_a)
    )
    return person_merge(
        survivor=survivor,
        loser=loser,
        actor=actor,
        reason=reason or f"reviewed as a duplicate (score {pair.score:.2f})",
        take_from_loser=take_from_loser,
        pair=pair,
        at=at,
    )


@transaction.atomic
def duplicate_dismiss(
    *, pair: DuplicatePair, actor: Actor, note: str = "", at: datetime | None = None
) -> DuplicatePair:
    """'Not a duplicate': remembered, so intake, import and dedupe-scan never propose the pair
    again. Recorded on the open leads of both people."""
    at = at or now()
    pair = _locked_pair(pair)
    _refuse_decided(pair, "dismissed")
    pair.status = DuplicatePair.Status.DISMISSED
    pair.decided_at = at
    pair.decided_by = actor.user
    pair.decision_note = (note or "").strip()[:300]
    pair.save(update_fields=["status", "decided_at", "decided_by", "decision_note"])
    for lead in Lead.objects.filter(
        person_id__in=[pair.person_a_id, pair.person_b_id],
        stage__in=list(lead_domain.OPEN_STAGES),
    ):
        other = pair.person_b_id if lead.person_id == pair.person_a_id else pair.person_a_id
        event_record(
            lead=lead,
            kind=LeadEvent.Kind.DUPLICATE,
            actor=actor,
            at=at,
            note=f"Not a duplicate of person {other} (decided by {actor.label})"
            + (f": {pair.decision_note}" if pair.decision_note else ""),
            data={"pair_id": pair.pk, "other_person_id": other, "decision": "dismissed"},
        )
    return pair
