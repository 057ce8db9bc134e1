"""From clean inquiries to people, leads, touches and timeline: the phases of one intake
batch (``process_records`` in services.py normalizes and locks the records, then calls
``materialize``). Each phase reads and writes once for the whole batch.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from leadrefinery.common import config
from leadrefinery.common.db import build, insert_rows, read_in_bulk, read_models, update_rows
from leadrefinery.dedupe.keys import KEY_FIELDS, apply_keys, person_keys
from leadrefinery.dedupe.services import (
    AccountIndex,
    RowMatch,
    Variant,
    accounts_for,
    match_batch,
    review_pairs,
    variant_of,
    variants_store,
)
from leadrefinery.leads import custom_fields, domain
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.events import events_insert, subscribers_ready
from leadrefinery.leads.models import (
    Account,
    Consent,
    IntakeRecord,
    Lead,
    LeadEvent,
    Person,
    Queue,
    StageDefinition,
    Touch,
)
from leadrefinery.leads.services import amount_event_details
from leadrefinery.notifications.services import active_endpoints, build_messages, enqueue
from leadrefinery.routing import domain as routing_domain
from leadrefinery.routing.selectors import account_routing_fields
from leadrefinery.routing.services import Router, routing_ready
from leadrefinery.scoring.selectors import load as scoring_rules_load
from leadrefinery.scoring.services import IntakeScorer, intake_scorer
from leadrefinery.sla.services import active_policies, sla_apply_start
from leadrefinery.tracking.services import intake_identify

OUTCOME_NEW = "new_lead"
OUTCOME_ATTACHED = "attached_to_open_lead"


@dataclass
class Pending:
    record: IntakeRecord
    person: dict[str, str]
    lead: dict[str, Any]
    received_at: datetime
    consent: bool
    warnings: tuple[str, ...]
    opportunity_amount: Decimal | None = None
    currency: str = ""
    # Custom values of fields that apply to the person or to the account (the lead's own are
    # in ``lead["custom"]``).
    person_custom: dict[str, Any] = field(default_factory=dict)
    account_custom: dict[str, Any] = field(default_factory=dict)
    # The person's match keys, when the caller worked them out from ``person`` (an import's
    # matching process); None: worked out here.
    keys: dict[str, str] | None = None
    # The variant the row is kept as if it attaches to a person, made by the caller from
    # ``person`` and ``keys`` (dedupe.services.variant_of); None: made here.
    variant: Variant | None = None


def _stage_defaults() -> dict[str, tuple[str, int]]:
    return config.get(
        "leads:stage-defaults",
        lambda: {
            d.code: (d.default_next_action, d.default_due_minutes)
            for d in StageDefinition.objects.only(
                "code", "default_next_action", "default_due_minutes"
            )
        },
    )


def _queues() -> dict[int, Queue]:
    return config.get("leads:queues", lambda: {q.pk: q for q in Queue.objects.all()})


def materialize_ready() -> None:
    """Read now what a first batch reads before it can write: the configuration (stages,
    queues, routing, scoring, SLA policies, webhooks, into the per-process cache) and the
    modules of the lead-event subscribers. An import calls it while its matching process
    matches the first chunk."""
    _stage_defaults()
    _queues()
    routing_ready()
    scoring_rules_load()
    active_policies()
    active_endpoints()
    subscribers_ready()


@dataclass
class _Batch:
    """What the phases of ``_materialize`` hand on to each other. The lists run in the order
    of ``pending``: one matching result, person, lead and attached flag per inquiry."""

    pending: list[Pending]
    actor: Actor
    at: datetime
    matches: list[RowMatch] = field(default_factory=list)
    persons: list[Person] = field(default_factory=list)
    new_person_ids: set[int] = field(default_factory=set)
    lead_for: list[Lead] = field(default_factory=list)
    attached: list[bool] = field(default_factory=list)  # True: the person's open lead
    new_leads: list[Lead] = field(default_factory=list)
    routes: dict[int, routing_domain.Decision] = field(default_factory=dict)  # id(lead) ->

    def new(self) -> Iterator[tuple[Pending, Person, Lead]]:
        """The inquiries that open a new lead, in batch order."""
        for p, person, lead, was_attached in zip(
            self.pending, self.persons, self.lead_for, self.attached, strict=True
        ):
            if not was_attached:
                yield p, person, lead


def materialize(
    pending: list[Pending],
    *,
    actor: Actor,
    at: datetime,
    matches: list[RowMatch] | None,
    accounts: AccountIndex | None = None,
) -> None:
    """Turn clean inquiries into people, leads, touches and timeline, in five phases; each
    reads and writes once for the whole batch."""
    if not pending:
        return
    batch = _Batch(pending=pending, actor=actor, at=at)
    _match_people(batch, matches, accounts)
    _attach_or_open_leads(batch)
    router, scorer = _route_new_leads(batch)
    _write_timeline(batch)
    _after_effects(batch, router=router, scorer=scorer)


def _match_people(
    batch: _Batch, matches: list[RowMatch] | None, accounts: AccountIndex | None
) -> None:
    """People and accounts: dedupe matching (blocking + scoring) unless the caller decided,
    then lead-to-account. New people are inserted; every person an inquiry attaches to gets
    the blanks it fills in (one made earlier in the batch too, as when it had been stored)."""
    at = batch.at
    people = [p.person for p in batch.pending]
    batch.matches = match_batch(people) if matches is None else matches
    row_accounts = accounts_for(
        people,
        at=at,
        index=accounts,
        # The matching process worked out the company keys with the rest of the match keys.
        company_keys=[None if p.keys is None else p.keys["company_key"] for p in batch.pending],
    )
    _fill_account_custom(batch.pending, row_accounts)

    persons = batch.persons
    new_people: list[Person] = []
    enriched: dict[int, Person] = {}
    attached: list[tuple[Person, Variant]] = []  # for the variants, once all have ids
    for p, found, account in zip(batch.pending, batch.matches, row_accounts, strict=True):
        match = found.person if found.same_as_row is None else persons[found.same_as_row]
        keys = p.keys if p.keys is not None else person_keys(p.person)
        if match is not None:  # the variant reads the keys given
            attached.append((match, p.variant or variant_of({**p.person, **keys})))
        if match is None:
            match = build(
                Person,
                **p.person,
                **keys,
                account=account,
                custom=dict(p.person_custom),
                created_at=at,
                updated_at=at,
            )
            new_people.append(match)
        else:
            # Fill in what we did not know; never overwrite what we did.
            changed = False
            for name, value in p.person.items():
                if value and not getattr(match, name):
                    setattr(match, name, value)
                    changed = True
            if match.account_id is None and account is not None:
                match.account = account
                changed = True
            if any(name not in (match.custom or {}) for name in p.person_custom):
                match.custom = {**p.person_custom, **(match.custom or {})}
                changed = True
            if changed:
                apply_keys(match)
                match.updated_at = at
                if match.pk is not None:  # else inserted below, as it is now
                    enriched[match.pk] = match
        persons.append(match)
    _read_accounts(persons)
    insert_rows(Person, new_people)
    if enriched:
        update_rows(
            list(enriched.values()),
            [*batch.pending[0].person.keys(), *KEY_FIELDS, "account", "custom", "updated_at"],
        )
    batch.new_person_ids = {n.pk for n in new_people}
    variants_store(attached, at=at)


def _read_accounts(persons: list[Person]) -> None:
    """The accounts of the stored people the batch attaches to, in one query: routing and
    the new leads read ``person.account``, which was a query per person."""
    descriptor = Person.account
    wanted = {
        p.account_id for p in persons if p.account_id is not None and not descriptor.is_cached(p)
    }
    if not wanted:
        return
    found = read_in_bulk(Account, sorted(wanted))
    for person in persons:
        if person.account_id in found and not descriptor.is_cached(person):
            descriptor.field.set_cached_value(person, found[person.account_id])


def _fill_account_custom(pending: list[Pending], accounts: list[Account | None]) -> None:
    """The values of account fields go to the company the inquiry names (none: no account to
    hold them, and they stay in the raw record only); like the person's fields, they fill in
    what the account did not have and never overwrite it. One UPDATE for the batch."""
    changed: dict[int, Account] = {}
    for p, account in zip(pending, accounts, strict=True):
        if account is None or not p.account_custom:
            continue
        account = changed.get(account.pk, account)
        if any(name not in (account.custom or {}) for name in p.account_custom):
            account.custom = {**p.account_custom, **(account.custom or {})}
            changed[account.pk] = account
    if changed:
        update_rows(list(changed.values()), ["custom"])


def _attach_or_open_leads(batch: _Batch) -> None:
    """One open lead per person and product line: an inquiry attaches to the person's open
    lead (one read for the batch), or opens a lead, which a later inquiry of the batch from
    the same person for the same product line then attaches to. The new leads are not routed
    yet (``_route_new_leads``) nor stored."""
    at = batch.at
    person_ids = [p.pk for p in batch.persons if p.pk not in batch.new_person_ids]
    open_leads: dict[tuple[int, str], Lead] = {}
    if person_ids:
        for lead in read_models(
            Lead.objects.filter(
                person_id__in=person_ids, stage__in=list(domain.OPEN_STAGES)
            ).order_by("pk")
        ):
            open_leads.setdefault((lead.person_id, lead.product_interest), lead)
    for p, person in zip(batch.pending, batch.persons, strict=True):
        lead_key = (person.pk, p.lead["product_interest"])
        existing = open_leads.get(lead_key)
        if existing is not None:
            batch.lead_for.append(existing)
            batch.attached.append(True)
            continue
        record = p.record
        lead = build(
            Lead,
            person=person,
            account=person.account,
            stage=domain.Stage.INQUIRY,
            source=record.source,
            campaign=record.campaign,
            received_at=p.received_at,
            created_at=at,
            updated_at=at,
            stage_changed_at=at,
            assigned_at=at,
            last_touch_at=p.received_at,
            import_batch_id=record.import_batch_id,
            opportunity_amount=p.opportunity_amount,
            currency=p.currency,
            **p.lead,
        )
        open_leads[lead_key] = lead
        batch.new_leads.append(lead)
        batch.lead_for.append(lead)
        batch.attached.append(False)


def _custom_of(p: Pending, person: Person, account: Account | None) -> dict[str, Any]:
    """What routing and scoring see of an inquiry's custom values: the lead's, the person's
    and the account's (stored, or given with this inquiry)."""
    return custom_fields.merged(
        p.lead.get("custom"),
        {**p.person_custom, **(person.custom or {})},
        {**p.account_custom, **((account.custom if account is not None else None) or {})},
    )


def _hear_attached_hand_raises(batch: _Batch, scorer: IntakeScorer) -> None:
    """An inquiry on an open lead can raise a hand too ("we need a demo", a demo request field):
    scoring reads it as for a new inquiry, and ``scorer.save`` makes the open lead hot."""
    for p, person, lead, was_attached in zip(
        batch.pending, batch.persons, batch.lead_for, batch.attached, strict=True
    ):
        if not was_attached:
            continue
        record = p.record
        fields = routing_domain.routing_fields(
            {**p.lead, "custom": _custom_of(p, person, None)},
            p.person,
            source=record.source.name,
            campaign=record.campaign.name if record.campaign else "",
            account=None,
            extra=record.payload.get("extra")
            if isinstance(record.payload.get("extra"), dict)
            else None,
        )
        fields["temperature"] = lead.temperature
        scorer.hand_raised(record.pk, fields, record.payload)


def _owners_of_review_candidates(batch: _Batch) -> dict[int, tuple[int, str]]:
    """For each new lead whose person may be a duplicate of a stored person (a pair for
    review), the rep who owns that person's open lead (same product line first, then the
    newest), and why: while the pair waits, the inquiry stays with that rep instead of
    starting a second clock with another. One query for the batch."""
    wanted: dict[int, list[tuple[Person, float]]] = {}
    for p, match in zip(batch.pending, batch.matches, strict=True):
        stored = [(t, m.score) for t, m in match.review if isinstance(t, Person)]
        if match.creates and stored:
            wanted[id(p)] = stored
    if not wanted:
        return {}
    person_ids = {t.pk for pairs in wanted.values() for t, _ in pairs}
    owned: dict[int, list[tuple[int, str]]] = {}
    for person_id, user_id, product in (
        Lead.objects.filter(
            person_id__in=person_ids,
            stage__in=sorted(domain.OPEN_STAGES),
            owner_user__isnull=False,
        )
        .order_by("-created_at", "-pk")
        .values_list("person_id", "owner_user_id", "product_interest")
    ):
        owned.setdefault(person_id, []).append((user_id, product))
    out: dict[int, tuple[int, str]] = {}
    for p in batch.pending:
        for person, score in sorted(wanted.get(id(p), ()), key=lambda ps: -ps[1]):
            leads = owned.get(person.pk)
            if not leads:
                continue
            product = p.lead["product_interest"]
            user_id = next((u for u, prod in leads if prod == product), leads[0][0])
            out[id(p)] = (
                user_id,
                f"possible duplicate of {person.display_name} (score {score:.2f}), waiting "
                "for review: kept with the owner of their open lead",
            )
            break
    return out


def _route_new_leads(batch: _Batch) -> tuple[Router, IntakeScorer]:
    """Owners and the SLA clock: each new lead gets its temperature (scoring, before routing:
    a hand-raiser is routed hot), an owner by the routing rules, its first stage and next
    action; a lead handed to a rep is sales-ready and its speed-to-lead clock runs. Then the
    new leads are stored. The router and scorer are saved with the after-effects."""
    at = batch.at
    stage_defaults = _stage_defaults()
    queues = _queues()
    unassigned = next(q for q in queues.values() if q.slug == "unassigned")
    router = Router(at=at)
    scorer = intake_scorer(at=at)
    policies: list | None = None
    waiting = _owners_of_review_candidates(batch)
    for p, person, lead in batch.new():
        record = p.record
        person_account: Account | None = person.account
        fields = routing_domain.routing_fields(
            {**p.lead, "custom": _custom_of(p, person, person_account)},
            p.person,
            source=record.source.name,
            campaign=record.campaign.name if record.campaign else "",
            account=account_routing_fields(person_account),
            extra=record.payload.get("extra")
            if isinstance(record.payload.get("extra"), dict)
            else None,
        )
        lead.temperature = p.lead["temperature"] = fields["temperature"] = scorer.temperature(
            record.pk, fields, record.payload
        )
        decision = None
        if id(p) in waiting:  # a possible duplicate: keep it with the rep who has the person
            owner_id, why = waiting[id(p)]
            decision = router.keep_with(owner_id, why)
        if decision is None:
            decision = router.choose(
                fields, account_owner_id=person_account.owner_id if person_account else None
            )
        if decision.kind == routing_domain.TargetKind.USER:
            lead.stage = domain.Stage.SALES_READY  # handed to a rep: the speed-to-lead clock runs
        lead.next_action, minutes = stage_defaults.get(lead.stage, ("Review the lead", 60))
        lead.next_action_due_at = at + timedelta(minutes=minutes)
        if decision.kind == routing_domain.TargetKind.USER and decision.id is not None:
            lead.owner_user = router.user(decision.id)
            router.record(decision, router.team_of(decision))
            if policies is None:
                policies = active_policies()
            sla_apply_start(lead, calendar=router.calendar(decision.id), policies=policies, at=at)
            if lead.sla_first_touch_due_at is not None:
                lead.next_action_due_at = lead.sla_first_touch_due_at
        elif decision.kind == routing_domain.TargetKind.QUEUE and decision.id in queues:
            lead.owner_queue = queues[decision.id]
        else:
            lead.owner_queue = unassigned
        batch.routes[id(lead)] = decision
    _hear_attached_hand_raises(batch, scorer)
    insert_rows(Lead, batch.new_leads)
    return router, scorer


_TOUCH_CHANNEL: dict[str, str] = {
    IntakeRecord.Channel.FORM: Touch.Channel.FORM,
    IntakeRecord.Channel.API: Touch.Channel.API,
    IntakeRecord.Channel.IMPORT: Touch.Channel.IMPORT,
}


# "web form", "csv import": get_channel_display() rebuilds its choices dict on every call
# (a tenth of the timeline's time on an import).
_CHANNEL_LABEL = {str(value): str(label).lower() for value, label in IntakeRecord.Channel.choices}


def _write_timeline(batch: _Batch) -> None:
    """Touches, timeline events and consents, one insert each; every record gets its result
    (the response a replay of the request gets). Possible duplicates go to dedupe's review."""
    touches: list[Touch] = []
    events: list[LeadEvent] = []
    consents: list[Consent] = []
    rows = zip(batch.pending, batch.persons, batch.lead_for, batch.attached, strict=True)
    for p, person, lead, was_attached in rows:
        record = p.record
        touches.append(
            build(
                Touch,
                person=person,
                lead=lead,
                channel=_TOUCH_CHANNEL.get(record.channel, Touch.Channel.OTHER),
                direction=Touch.Direction.INBOUND,
                occurred_at=p.received_at,
                note=p.lead["message"][:2000],
                intake=record,
                import_batch_id=record.import_batch_id,
            )
        )
        events += _inquiry_events(batch, p, lead, was_attached=was_attached)
        if p.consent:
            consents.append(
                build(
                    Consent,
                    person=person,
                    channel="email",
                    basis=Consent.Basis.OPT_IN,
                    source=f"{record.channel}:{record.source.name}",
                    wording=(record.form.consent_wording if record.form else "")[:1000],
                    ip=record.ip,
                    recorded_at=p.received_at,
                )
            )
        record.status = IntakeRecord.Status.PROCESSED
        record.errors = []
        record.person = person
        record.lead = lead
        record.response = {
            "inquiry_id": record.pk,
            "lead_id": lead.pk,
            "person_id": person.pk,
            "outcome": OUTCOME_ATTACHED if was_attached else OUTCOME_NEW,
            "warnings": [*p.warnings, *_money_warnings(p, lead, was_attached=was_attached)],
        }
    events += review_pairs(
        batch.matches,
        batch.persons,
        batch.lead_for,
        responses=[p.record.response for p in batch.pending],
        found_by=["import" if p.record.channel == "import" else "intake" for p in batch.pending],
        actor=batch.actor,
        at=batch.at,
    )
    insert_rows(Touch, touches)
    events_insert(events)  # and the subscribers: cadences hear of the repeat inquiries
    insert_rows(Consent, consents)


def _money_warnings(p: Pending, lead: Lead, *, was_attached: bool) -> list[str]:
    # Like the other lead fields, a deal value only comes with the inquiry that opens a lead;
    # the open lead keeps its own (changed on its page or through the API, on its timeline).
    if was_attached and p.opportunity_amount is not None:
        return [
            f"the deal value was not applied: the inquiry joined lead {lead.pk}, which was "
            "already open; set it on that lead"
        ]
    return []


def _inquiry_events(
    batch: _Batch, p: Pending, lead: Lead, *, was_attached: bool
) -> list[LeadEvent]:
    """'inquiry' on the open lead it attached to; else 'created' and 'assigned' (with the
    routing decision's trace) on the new lead, and 'amount' when it came with a deal value."""
    actor, record = batch.actor, p.record
    common = dict(lead=lead, occurred_at=batch.at, actor=actor.user, actor_label=actor.label)
    source_name = record.source.name
    if was_attached:
        return [
            build(
                LeadEvent,
                kind=LeadEvent.Kind.INQUIRY,
                note="Another inquiry from the same person for the same product line",
                data={"intake_id": record.pk, "source": source_name},
                **common,
            )
        ]
    events = [
        build(
            LeadEvent,
            kind=LeadEvent.Kind.CREATED,
            to_stage=lead.stage,
            note=f"New inquiry via {_CHANNEL_LABEL.get(record.channel, record.channel)} "
            f"({source_name})",
            data={"intake_id": record.pk, "warnings": list(p.warnings)},
            **common,
        ),
        build(
            LeadEvent,
            kind=LeadEvent.Kind.ASSIGNED,
            data={"to": lead.owner_label, "trace": batch.routes[id(lead)].as_trace()},
            **common,
        ),
    ]
    if p.opportunity_amount is not None:
        changes: dict[str, dict[str, str | None]] = {
            "opportunity_amount": {"from": None, "to": str(p.opportunity_amount)}
        }
        if p.currency:
            changes["currency"] = {"from": "", "to": p.currency}
        note, data = amount_event_details(changes, currency_before="", currency_after=p.currency)
        events.append(build(LeadEvent, kind=LeadEvent.Kind.AMOUNT, note=note, data=data, **common))
    return events


def _after_effects(batch: _Batch, *, router: Router, scorer: IntakeScorer) -> None:
    """Routing counters, scores, tracking's visitor link, 'lead.assigned' in the outbox, and
    the owners of open leads told of the new inquiry (the cadences hook)."""
    at = batch.at
    router.save()
    scored = [
        (p.record.pk, lead, p.record.channel)
        for p, lead in zip(batch.pending, batch.lead_for, strict=True)
    ]
    scorer.save(
        new=[s for s, was in zip(scored, batch.attached, strict=True) if not was],
        attached=[s for s, was in zip(scored, batch.attached, strict=True) if was],
        actor=batch.actor,
    )
    intake_identify(
        records=[p.record for p in batch.pending],
        persons=batch.persons,
        leads=batch.lead_for,
        at=at,
    )
    _notify_new_leads(
        batch.new_leads,
        pending_by_lead={
            id(lead): p for p, lead in zip(batch.pending, batch.lead_for, strict=True)
        },
        at=at,
    )
    attached_leads = {
        lead.pk: lead for lead, was in zip(batch.lead_for, batch.attached, strict=True) if was
    }
    # An inquiry on an open lead fills in the custom fields it did not have yet.
    for p, lead, was in zip(batch.pending, batch.lead_for, batch.attached, strict=True):
        given = p.lead.get("custom") or {}
        if was and any(k not in (lead.custom or {}) for k in given):
            lead.custom = {**given, **(lead.custom or {})}
    if attached_leads:
        for lead in attached_leads.values():
            lead.last_touch_at = max(filter(None, [lead.last_touch_at, at]))
            lead.updated_at = at
        update_rows(list(attached_leads.values()), ["last_touch_at", "updated_at", "custom"])


def _notify_new_leads(
    leads: list[Lead], *, pending_by_lead: dict[int, Pending], at: datetime
) -> None:
    """Queue 'lead.assigned' for every new lead, in this transaction (sent after commit by the
    outbox). Reps get an email for live inquiries; a CSV import notifies webhooks only, so a
    list of 2,000 rows does not become 2,000 emails."""
    if not leads:
        return
    endpoints = active_endpoints()
    messages = []
    for lead in leads:
        live = pending_by_lead[id(lead)].record.channel != IntakeRecord.Channel.IMPORT
        messages += build_messages(
            event="lead.assigned",
            lead=lead,
            fact="created",
            recipients=None if live else [],
            endpoints=endpoints,
            at=at,
        )
    enqueue(messages, new_leads=True)
