"""Scoring writes: score new leads at intake, score engagement events in batches, decay,
rescore after a rule change, and hand a lead that turns hot to sales (``lead_heat_up``).

Every change of a lead's score is a ``ScoreLog`` row written in the same transaction as the
new total, so the total always equals the sum of the log. Temperature changes also go on the
lead's timeline (``LeadEvent.Kind.SCORE``).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction

from leadrefinery.common.clock import now
from leadrefinery.common.db import build, insert_rows, read_in_bulk, update_rows
from leadrefinery.leads import domain as lead_domain
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.events import events_insert
from leadrefinery.leads.models import Lead, LeadEvent
from leadrefinery.leads.services import lead_assign, lead_transition
from leadrefinery.routing import domain as routing_domain
from leadrefinery.routing.selectors import lead_routing_fields
from leadrefinery.routing.services import Router

from . import domain, queries
from .models import LeadScore, ScoreLog
from .selectors import Loaded, lead_fields, load, scoring_fields

log = logging.getLogger(__name__)

ACTOR = Actor.system("scoring")
# Stages from which a lead that turns hot goes to sales at once: marketing's and the queues'.
HEAT_UP_STAGES = frozenset({lead_domain.Stage.NURTURE, lead_domain.Stage.INQUIRY})
# Which intake channel counts as which engagement event (a list import is not behaviour).
INTAKE_EVENTS = {"form": "form_fill", "api": "inquiry", "demo": "form_fill"}


def anonymous_daily_cap() -> int | None:
    """The most engagement points anonymous events (``domain.ANONYMOUS_EVENT_TYPES``) give
    one lead per UTC day: ``REFINERY_ANONYMOUS_DAILY_POINTS`` (negative: no cap)."""
    cap = int(getattr(settings, "REFINERY_ANONYMOUS_DAILY_POINTS", 20))
    return None if cap < 0 else cap


class ScoringRefused(Exception):
    def __init__(self, errors: Mapping[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = dict(errors)


# --- intake ---------------------------------------------------------------------------------


@dataclass
class _IntakeScore:
    fit: domain.Fit
    hand_raiser: domain.Rule | None
    temperature: domain.Temperature
    raised_because: str = ""  # the hand-raiser rule and what it found (e.g. the words)


class IntakeScorer:
    """Scores a batch of inquiries inside the intake transaction with a constant number of
    queries: ``temperature()`` before routing (so a hand-raiser is routed hot), ``save()``
    after the leads and touches exist."""

    def __init__(self, *, at: datetime) -> None:
        self.at = at
        self._loaded: Loaded | None = None
        self._scores: dict[int, _IntakeScore] = {}
        self._raised: dict[int, str] = {}  # hand_raised(): why, by key

    @property
    def loaded(self) -> Loaded:
        if self._loaded is None:
            self._loaded = load()
        return self._loaded

    def temperature(self, key: int, fields: Mapping[str, Any], payload: Any) -> str:
        """The temperature of a new inquiry; ``key`` (the intake record id) links it to save()."""
        loaded = self.loaded
        data = _inquiry_data(fields, payload)
        fit = loaded.remembered.fit_score(data)
        raiser = loaded.remembered.hand_raiser(data)
        temp = domain.temperature(
            loaded.config,
            grade=fit.grade,
            engagement=0,
            hand_raised_at=self.at if raiser else None,
            at=self.at,
        )
        self._scores[key] = _IntakeScore(
            fit, raiser, temp, raiser.explain(data) if raiser is not None else ""
        )
        return temp.value

    def hand_raised(self, key: int, fields: Mapping[str, Any], payload: Any) -> None:
        """An inquiry on an open lead: only whether it raises a hand (its fit and temperature
        are the open lead's, and are not worked out)."""
        data = _inquiry_data(fields, payload)
        raiser = self.loaded.remembered.hand_raiser(data)
        if raiser is not None:
            self._raised[key] = raiser.explain(data)

    def save(
        self,
        *,
        new: Sequence[tuple[int, Lead, str]],
        attached: Sequence[tuple[int, Lead, str]],
        actor: Actor,
    ) -> None:
        """``new`` and ``attached``: (intake record id, lead, intake channel) per inquiry."""
        at = self.at
        logs: list[ScoreLog] = []
        fresh: dict[int, tuple[Lead, LeadScore]] = {}
        for key, lead, _channel in new:
            result = self._scores.get(key)
            if result is None:
                continue
            for c in result.fit.contributions:
                logs.append(_fit_log(lead.pk, c, at, "intake"))
            score = build(
                LeadScore,
                lead=lead,
                fit_points=result.fit.points,
                fit_grade=result.fit.grade,
                engagement=0,
                temperature=result.temperature.value,
                hand_raised_at=None,  # set by events_score, which records it
                reasons=_reasons(result.fit, [], result.temperature),
                computed_at=at,
                decay_due_at=None,
                predict_due_at=at,
            )
            fresh[lead.pk] = (lead, score)
        # The inquiry itself is behaviour: score it like any other event, on new and attached
        # leads alike (an attached hand-raiser can turn a nurture lead hot).
        items: list[tuple[int, domain.Event]] = []
        raised: dict[int, str] = {}
        for key, lead, channel in [*new, *attached]:
            event_type = INTAKE_EVENTS.get(channel)
            result = self._scores.get(key)
            if event_type:
                items.append((lead.pk, domain.Event(type=event_type, at=at, ref=f"intake:{key}")))
            if result is not None and result.hand_raiser is not None:
                raised[lead.pk] = result.raised_because
            elif key in self._raised:
                raised[lead.pk] = self._raised[key]
        # Inside the intake transaction already: no savepoint. The new leads' score rows are
        # written once, with their fit and engagement logs, after the events count.
        _score_events(
            items=items,
            hand_raised=raised,
            hand_raised_because=raised,
            actor=actor,
            at=at,
            loaded=self.loaded,
            just_routed={lead.pk for _, lead, _ in new},
            fresh=fresh,
            logs=logs,
        )


def _inquiry_data(fields: Mapping[str, Any], payload: Any) -> dict[str, Any]:
    """What the scoring rules read of an inquiry: its fields and its message."""
    data = scoring_fields(fields, payload if isinstance(payload, Mapping) else None)
    data["message"] = str((payload or {}).get("message") or "")
    return data


def intake_scorer(*, at: datetime) -> IntakeScorer:
    return IntakeScorer(at=at)


# --- engagement events ----------------------------------------------------------------------


def _fit_log(lead_id: int, c: domain.Contribution, at: datetime, why: str) -> ScoreLog:
    return build(
        ScoreLog,
        lead_id=lead_id,
        axis=ScoreLog.Axis.FIT,
        delta=c.points,
        rule_id=c.rule_id or None,
        event_type=why,
        event_ref="",
        points=c.points,
        half_life_days=None,
        reason=c.reason[:300],
        occurred_at=at,
    )


def _reasons(
    fit: domain.Fit | None,
    engagement: list[tuple[str, int]],
    temp: domain.Temperature,
    grade: str = "",
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"axis": "temperature", "text": t} for t in temp.reasons]
    if fit is not None:
        out += [
            {"axis": "fit", "text": c.reason, "points": c.points}
            for c in sorted(fit.contributions, key=lambda c: -abs(c.points))
        ]
    out += [{"axis": "engagement", "text": r, "points": p} for r, p in engagement]
    return out


def _day_start(at: datetime) -> datetime:
    return datetime.combine(at.astimezone(UTC).date(), time(0), tzinfo=UTC)


def _history(lead_ids: Iterable[int]) -> dict[int, list[domain.Past]]:
    """Every engagement award of these leads (the decay baseline), in one query."""
    out: dict[int, list[domain.Past]] = defaultdict(list)
    for log in queries.engagement_logs(list(lead_ids)):
        out[log.lead_id].append(
            domain.Past(log.rule_id, log.points, log.occurred_at, log.half_life_days, log.reason)
        )
    return out


def _earned(lead_ids: Iterable[int], since: datetime) -> dict[tuple[int, Any], dict[int, int]]:
    """Points given per (lead, UTC day) and rule since ``since``: what the daily caps count."""
    out: dict[tuple[int, Any], dict[int, int]] = defaultdict(dict)
    logs = queries.engagement_logs(list(lead_ids), since=since)
    for log in logs:
        day = out[(log.lead_id, log.occurred_at.astimezone(UTC).date())]
        assert log.rule_id is not None
        day[log.rule_id] = day.get(log.rule_id, 0) + log.points
        if log.event_type in domain.ANONYMOUS_EVENT_TYPES:
            day[domain.ANONYMOUS] = day.get(domain.ANONYMOUS, 0) + log.points
    return out


def _locked_scores(lead_ids: list[int]) -> dict[int, LeadScore]:
    return {s.lead_id: s for s in queries.scores_locked(lead_ids)}


def _ensure_scores(leads: Mapping[int, Lead], scores: dict[int, LeadScore], loaded: Loaded, at):
    """Score leads that have no score row yet (made before scoring existed, or by import)."""
    missing = [lead for pk, lead in leads.items() if pk not in scores]
    if not missing:
        return
    rows, logs = [], []
    for lead in missing:
        fit = loaded.remembered.fit_score(lead_fields(lead))
        logs += [_fit_log(lead.pk, c, at, "first score") for c in fit.contributions]
        temp = domain.temperature(
            loaded.config, grade=fit.grade, engagement=0, hand_raised_at=None, at=at
        )
        rows.append(
            LeadScore(
                lead=lead,
                fit_points=fit.points,
                fit_grade=fit.grade,
                engagement=0,
                temperature=lead.temperature or temp.value,
                hand_raised_at=None,
                reasons=_reasons(fit, [], temp),
                computed_at=at,
                decay_due_at=None,
                predict_due_at=at,
            )
        )
    insert_rows(LeadScore, rows)
    insert_rows(ScoreLog, logs)
    scores.update({r.lead_id: r for r in rows})


@transaction.atomic
def events_score(
    *,
    items: Sequence[tuple[int, domain.Event]],
    actor: Actor = ACTOR,
    at: datetime | None = None,
    hand_raised: Iterable[int] = (),
    loaded: Loaded | None = None,
    just_routed: Iterable[int] = (),
) -> list[int]:
    """Score engagement events (lead id, event) in one transaction: awards within the daily
    caps, decay brought up to date, temperature recomputed; a lead that turns hot from a
    marketing stage is handed to sales (``lead_heat_up``). Returns the ids of leads that
    turned hot. A constant number of queries, plus the hand-offs. ``just_routed``: leads that
    intake routed (hot) in this transaction, which need no second routing."""
    return _score_events(
        items=items,
        actor=actor,
        at=at,
        hand_raised=hand_raised,
        loaded=loaded,
        just_routed=just_routed,
    )


def _score_events(
    *,
    items: Sequence[tuple[int, domain.Event]],
    actor: Actor,
    at: datetime | None,
    hand_raised: Iterable[int],
    loaded: Loaded | None,
    just_routed: Iterable[int],
    hand_raised_because: Mapping[int, str] | None = None,
    fresh: Mapping[int, tuple[Lead, LeadScore]] | None = None,
    logs: list[ScoreLog] | None = None,
) -> list[int]:
    """``events_score`` inside the caller's transaction. ``fresh``: leads created in this
    transaction with their score rows not yet written (no engagement yet), which are not
    read back and are inserted here; ``logs``: their fit logs, written with the rest."""
    at = at or now()
    hand_raised = set(hand_raised)
    # Every fresh score row is written at the end, whether or not an event concerns it.
    unsaved = [score for _, score in (fresh or {}).values() if score.pk is None]
    changes = _Changes(logs=[] if logs is None else logs)
    lead_ids = sorted({lead_id for lead_id, _ in items} | hand_raised)
    if not lead_ids:
        _write_changes(changes, unsaved, at)
        return []
    loaded = loaded or load()
    batch = _read_batch(lead_ids, items, fresh or {}, loaded, at)
    by_lead: dict[int, list[domain.Event]] = defaultdict(list)
    for lead_id, event in items:
        if lead_id in batch.leads:
            by_lead[lead_id].append(event)
    routed = set(just_routed)
    for lead_id in sorted(batch.leads):
        if not lead_domain.Stage(batch.leads[lead_id].stage).is_open:
            continue  # a closed lead's score stays as it was closed
        _score_lead(
            lead_id,
            by_lead.get(lead_id, []),
            batch,
            changes,
            loaded=loaded,
            raised=lead_id in hand_raised,
            raised_because=(hand_raised_because or {}).get(lead_id, ""),
            handed_off=lead_id in routed,
            actor=actor,
            at=at,
        )
    _write_changes(changes, unsaved, at)
    for lead_id in changes.turned_hot:
        lead_heat_up(lead=batch.leads[lead_id], actor=actor, at=at)
    return changes.turned_hot


@dataclass
class _Batch:
    """What scoring a batch of events reads: the leads, their score rows (locked), their past
    engagement awards and the points each rule already gave per lead and UTC day."""

    leads: dict[int, Lead]
    scores: dict[int, LeadScore]
    history: dict[int, list[domain.Past]]
    earned: dict[tuple[int, Any], dict[int, int]]


@dataclass
class _Changes:
    """What scoring a batch writes, in one statement per table at the end."""

    logs: list[ScoreLog]
    scores: list[LeadScore] = field(default_factory=list)
    timeline: list[LeadEvent] = field(default_factory=list)
    temperatures: list[Lead] = field(default_factory=list)
    turned_hot: list[int] = field(default_factory=list)


def _read_batch(
    lead_ids: list[int],
    items: Sequence[tuple[int, domain.Event]],
    fresh: Mapping[int, tuple[Lead, LeadScore]],
    loaded: Loaded,
    at: datetime,
) -> _Batch:
    """The leads of ``lead_ids``: fresh ones as given, the others read with their locked
    score rows (scoring those that have none yet), their history and daily earnings."""
    wanted = set(lead_ids)
    fresh = {pk: pair for pk, pair in fresh.items() if pk in wanted}
    stored = [pk for pk in lead_ids if pk not in fresh]
    batch = _Batch(
        leads={pk: lead for pk, (lead, _) in fresh.items()},
        scores={pk: score for pk, (_, score) in fresh.items()},
        history={},
        earned=defaultdict(dict),
    )
    if not stored:
        return batch
    # Only what scoring reads and writes: a batch of visits can touch thousands of leads.
    batch.leads.update(
        read_in_bulk(Lead, stored, only=["stage", "temperature", "owner_user_id", "updated_at"])
    )
    read = [pk for pk in stored if pk in batch.leads]
    batch.scores.update(_locked_scores(read))
    unscored = [pk for pk in read if pk not in batch.scores]
    if unscored:
        full = Lead.objects.select_related("person", "account", "source", "campaign")
        _ensure_scores(
            {lead.pk: lead for lead in full.filter(pk__in=unscored)}, batch.scores, loaded, at
        )
    batch.history = _history(read)
    days = [e.at for _, e in items] or [at]
    batch.earned = _earned(read, _day_start(min(days)))
    return batch


def _score_lead(
    lead_id: int,
    events: list[domain.Event],
    batch: _Batch,
    changes: _Changes,
    *,
    loaded: Loaded,
    raised: bool,
    handed_off: bool,
    actor: Actor,
    at: datetime,
    raised_because: str = "",
) -> None:
    """Award ``events`` within the daily caps, bring decay up to date and recompute the
    temperature of one open lead; note a change of temperature, and a hand-off to sales when
    it turned hot in a marketing stage (``handed_off``: intake routed it already)."""
    lead = batch.leads[lead_id]
    score = batch.scores[lead_id]
    past = batch.history.get(lead_id, [])
    total = score.engagement + _award(lead_id, events, batch, loaded, past, changes.logs)
    newly_raised = raised and score.hand_raised_at is None
    if newly_raised:
        score.hand_raised_at = at
        if raised_because:  # the hand-raiser rule and what it found, first among the reasons
            score.reasons = [
                {"axis": "hand_raiser", "text": raised_because},
                *[r for r in score.reasons or [] if r.get("axis") != "hand_raiser"],
            ]
    target = domain.engagement_at(past, at)
    if target != total:
        changes.logs.append(_decay_log(lead_id, target - total, at))
    before = score.temperature
    _settle(score, past, target, loaded.config, at)
    changes.scores.append(score)
    if score.temperature != before or lead.temperature != score.temperature or newly_raised:
        changes.timeline.append(_temperature_event(lead, before, score, actor, at))
        lead.temperature = score.temperature
        changes.temperatures.append(lead)
        crossed = before != "hot" or newly_raised
        hand_off = lead.stage in HEAT_UP_STAGES and not handed_off
        if score.temperature == "hot" and hand_off and crossed:
            changes.turned_hot.append(lead_id)


def _award(
    lead_id: int,
    events: list[domain.Event],
    batch: _Batch,
    loaded: Loaded,
    past: list[domain.Past],
    logs: list[ScoreLog],
) -> int:
    """Log the awards of ``events`` in time order, each rule within its daily cap, and add
    them to ``past``; returns the points given."""
    given = 0
    for event in sorted(events, key=lambda e: e.at):
        day = (lead_id, event.at.astimezone(UTC).date())
        awards, batch.earned[day] = domain.award(
            loaded.rules, event, batch.earned[day], anonymous_cap=anonymous_daily_cap()
        )
        for a in awards:
            logs.append(
                build(
                    ScoreLog,
                    lead_id=lead_id,
                    axis=ScoreLog.Axis.ENGAGEMENT,
                    delta=a.points,
                    rule_id=a.rule_id or None,
                    event_type=a.event_type,
                    event_ref=a.event_ref[:120],
                    points=a.points,
                    half_life_days=a.half_life_days,
                    reason=a.reason[:300],
                    occurred_at=a.at,
                )
            )
            past.append(domain.Past(a.rule_id, a.points, a.at, a.half_life_days, a.reason))
            given += a.points
    return given


def _write_changes(changes: _Changes, unsaved: list[LeadScore], at: datetime) -> None:
    """Insert the new score rows and every log, update the changed scores and temperatures,
    add the timeline events: one statement each."""
    new_rows = {id(score) for score in unsaved}
    insert_rows(LeadScore, unsaved)
    insert_rows(ScoreLog, changes.logs)
    update_rows([score for score in changes.scores if id(score) not in new_rows], _SCORE_FIELDS)
    if changes.temperatures:
        for lead in changes.temperatures:
            lead.updated_at = at
        update_rows(changes.temperatures, ["temperature", "updated_at"])
    events_insert(changes.timeline)


_SCORE_FIELDS = [
    "engagement",
    "temperature",
    "hand_raised_at",
    "reasons",
    "computed_at",
    "decay_due_at",
    "fit_points",
    "fit_grade",
    "predict_due_at",
]


def _decay_log(lead_id: int, delta: int, at: datetime) -> ScoreLog:
    return build(
        ScoreLog,
        lead_id=lead_id,
        axis=ScoreLog.Axis.ENGAGEMENT,
        delta=delta,
        rule=None,
        event_type="decay",
        event_ref="",
        points=0,
        half_life_days=None,
        reason="decay: older engagement counts less (each rule's half-life)",
        occurred_at=at,
    )


def _settle(
    score: LeadScore, past: list[domain.Past], engagement: int, config: domain.Config, at
) -> None:
    """Set engagement, temperature, reasons and the next decay time of ``score`` (not saved)."""
    score.engagement = engagement
    temp = domain.temperature(
        config,
        grade=score.fit_grade,
        engagement=engagement,
        hand_raised_at=score.hand_raised_at,
        at=at,
    )
    score.temperature = temp.value
    fit_reasons = [r for r in score.reasons or [] if r.get("axis") == "fit"]
    raised = [r for r in score.reasons or [] if r.get("axis") == "hand_raiser"]
    score.reasons = (
        raised
        + [{"axis": "temperature", "text": t} for t in temp.reasons]
        + fit_reasons
        + [
            {"axis": "engagement", "text": r, "points": p}
            for r, p in domain.top_engagement(past, at)
        ]
    )
    score.computed_at = at
    score.predict_due_at = at  # the model reads engagement and fit: predict again
    due = [
        d
        for d in (
            domain.next_change(past, engagement, at),
            domain.hot_until(config, score.hand_raised_at, at),
        )
        if d is not None
    ]
    score.decay_due_at = min(due) if due else None


def _temperature_event(
    lead: Lead, before: str, score: LeadScore, actor: Actor, at: datetime
) -> LeadEvent:
    why = [r["text"] for r in score.reasons if r.get("axis") in ("hand_raiser", "temperature")]
    raised = [r["text"] for r in score.reasons if r.get("axis") == "hand_raiser"]
    note = f"Temperature {before or 'unscored'} -> {score.temperature}"
    if raised and score.temperature == "hot":
        note += f". Hand-raiser: {raised[0]}"
    return build(
        LeadEvent,
        lead=lead,
        kind=LeadEvent.Kind.SCORE,
        occurred_at=at,
        actor=actor.user,
        actor_label=actor.label,
        note=note[:2000],
        data={
            "from": before,
            "to": score.temperature,
            "fit_grade": score.fit_grade,
            "fit_points": score.fit_points,
            "engagement": score.engagement,
            "why": why,
        },
    )


# --- handing hot leads to sales -------------------------------------------------------------


@transaction.atomic
def lead_heat_up(*, lead: Lead, actor: Actor = ACTOR, at: datetime | None = None) -> Lead:
    """A lead in marketing (nurture, or an inquiry in a queue) turned hot: route it through the
    routing rules; when a rep gets it, it becomes sales-ready and its SLA clock starts, in the
    transaction of the event that made it hot. When no rep can take it, it stays where it is
    and the timeline says why."""
    at = at or now()
    lead = Lead.objects.select_related("person", "account", "source", "campaign").get(pk=lead.pk)
    if lead.stage not in HEAT_UP_STAGES or lead.owner_user_id is not None:
        return lead
    router = Router(at=at)
    decision = router.choose(
        lead_routing_fields(lead),
        account_owner_id=lead.account.owner_id if lead.account else None,
    )
    trace = {**decision.as_trace(), "because": "turned hot (scoring)"}
    if decision.kind == routing_domain.TargetKind.USER and decision.id is not None:
        lead = lead_transition(
            lead=lead,
            to_stage=lead_domain.Stage.SALES_READY,
            actor=actor,
            note="Turned hot: handed to sales",
            at=at,
        )
        lead = lead_assign(
            lead=lead,
            owner_user=router.user(decision.id),
            actor=actor,
            trace=trace,
            note="Turned hot: handed to sales",
            at=at,
        )
        router.record(decision, router.team_of(decision))
        router.save()
        return lead
    LeadEvent.objects.create(
        lead=lead,
        kind=LeadEvent.Kind.SCORE,
        occurred_at=at,
        actor=actor.user,
        actor_label=actor.label,
        note="Hot, but no rep could take it now; it stays with " + lead.owner_label,
        data={"trace": trace},
    )
    return lead


# --- decay ----------------------------------------------------------------------------------


def decay_sweep(*, at: datetime | None = None, limit: int = 500) -> int:
    """Bring due scores up to date (decay, a hand-raiser's heat running out). Touches only
    leads whose ``decay_due_at`` has passed; each batch is claimed with a conditional UPDATE
    on the due time it read, so two workers never decay a lead twice. Returns leads updated."""
    at = at or now()
    done = 0
    while True:
        rows = list(
            LeadScore.objects.filter(decay_due_at__lte=at)
            .order_by("decay_due_at", "lead_id")
            .values_list("lead_id", "decay_due_at")[:limit]
        )
        if not rows:
            return done
        done += _decay_batch(rows, at)
        if len(rows) < limit:
            return done


@transaction.atomic
def _decay_batch(rows: list[tuple[int, datetime | None]], at: datetime) -> int:
    claimed = []
    for lead_id, due in rows:
        # Claim: move the due time past now only if it is still the one we read.
        won = LeadScore.objects.filter(lead_id=lead_id, decay_due_at=due).update(
            decay_due_at=at + timedelta(days=3650)
        )
        if won:
            claimed.append(lead_id)
    if not claimed:
        return 0
    loaded = load()
    leads = {
        lead.pk: lead
        for lead in Lead.objects.select_related("person", "account", "source", "campaign").filter(
            pk__in=claimed
        )
    }
    scores = {s.lead_id: s for s in LeadScore.objects.filter(lead_id__in=claimed)}
    history = _history(claimed)
    logs: list[ScoreLog] = []
    timeline: list[LeadEvent] = []
    temp_changed: list[Lead] = []
    turned_hot: list[int] = []
    for lead_id in claimed:
        score, lead = scores[lead_id], leads[lead_id]
        past = history.get(lead_id, [])
        target = domain.engagement_at(past, at)
        if target != score.engagement:
            logs.append(_decay_log(lead_id, target - score.engagement, at))
        before = score.temperature
        _settle(score, past, target, loaded.config, at)
        if not lead_domain.Stage(lead.stage).is_open:
            score.decay_due_at = None
        if score.temperature != before:
            timeline.append(_temperature_event(lead, before, score, ACTOR, at))
            lead.temperature = score.temperature
            lead.updated_at = at
            temp_changed.append(lead)
            if score.temperature == "hot" and lead.stage in HEAT_UP_STAGES:
                turned_hot.append(lead_id)
    insert_rows(ScoreLog, logs)
    update_rows(list(scores.values()), _SCORE_FIELDS)
    update_rows(temp_changed, ["temperature", "updated_at"])
    events_insert(timeline)
    for lead_id in turned_hot:
        lead_heat_up(lead=leads[lead_id], at=at)
    return len(claimed)
