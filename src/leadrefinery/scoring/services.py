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
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from django.db import connection, transaction

from leadrefinery.common import config
from leadrefinery.common.clock import now
from leadrefinery.common.db import (
    insert_rows,
    placeholders,
    read_in_bulk,
    read_where,
    update_rows,
)
from leadrefinery.leads import domain as lead_domain
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import Lead, LeadEvent
from leadrefinery.leads.normalize import INTAKE_FIELDS
from leadrefinery.routing import domain as routing_domain

from . import domain
from .models import LeadScore, ScoreLog, ScoringRule, ScoringSettings

log = logging.getLogger(__name__)

ACTOR = Actor.system("scoring")
# Stages from which a lead that turns hot goes to sales at once: marketing's and the queues'.
HEAT_UP_STAGES = frozenset({lead_domain.Stage.NURTURE, lead_domain.Stage.INQUIRY})
# Which intake channel counts as which engagement event (a list import is not behaviour).
INTAKE_EVENTS = {"form": "form_fill", "api": "inquiry", "demo": "form_fill"}


class ScoringRefused(Exception):
    def __init__(self, errors: Mapping[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = dict(errors)


def settings_row() -> ScoringSettings:
    row = ScoringSettings.objects.order_by("pk").first()
    if row is None:
        row = ScoringSettings.objects.create(updated_at=now())
    return row


@dataclass(frozen=True)
class Loaded:
    rules: tuple[domain.Rule, ...]
    config: domain.Config


def load() -> Loaded:
    """The active rules and the settings, from the per-process configuration cache (two
    queries when a rule or the settings changed since the last load)."""
    return config.get("scoring:loaded", _load)


def _load() -> Loaded:
    rules = tuple(
        r.domain_rule() for r in ScoringRule.objects.filter(active=True).order_by("order", "id")
    )
    return Loaded(rules=rules, config=settings_row().domain_config())


def scoring_fields(
    routing_fields: Mapping[str, Any], payload: Mapping[str, Any] | None, message: str = ""
) -> dict[str, Any]:
    """What fit and hand-raiser conditions test: the routing fields, the message, and the
    payload's own fields that intake does not know (e.g. a form's ``request_type``)."""
    fields: dict[str, Any] = {}
    payload = payload or {}
    for key, value in payload.items():
        if key not in INTAKE_FIELDS and isinstance(value, str | int | float):
            fields[key] = value
    extra = payload.get("extra")
    if isinstance(extra, Mapping):
        fields.update({k: v for k, v in extra.items() if isinstance(v, str | int | float)})
    fields.update(routing_fields)
    fields["message"] = message
    return fields


def lead_fields(lead: Lead, payload: Mapping[str, Any] | None = None) -> dict[str, Any]:
    from leadrefinery.routing.services import lead_routing_fields

    return scoring_fields(lead_routing_fields(lead), payload, lead.message)


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

    @property
    def loaded(self) -> Loaded:
        if self._loaded is None:
            self._loaded = load()
        return self._loaded

    def temperature(self, key: int, fields: Mapping[str, Any], payload: Any) -> str:
        """The temperature of a new inquiry; ``key`` (the intake record id) links it to save()."""
        loaded = self.loaded
        data = scoring_fields(fields, payload if isinstance(payload, Mapping) else None)
        data["message"] = str((payload or {}).get("message") or "")
        fit = domain.fit_score(loaded.rules, data, loaded.config)
        raiser = domain.hand_raiser(loaded.rules, data)
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
            score = LeadScore(
                lead=lead,
                fit_points=result.fit.points,
                fit_grade=result.fit.grade,
                engagement=0,
                temperature=result.temperature.value,
                hand_raised_at=None,  # set by score_events, which records it
                reasons=_reasons(result.fit, [], result.temperature),
                computed_at=at,
                decay_due_at=None,
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


def intake_scorer(*, at: datetime) -> IntakeScorer:
    return IntakeScorer(at=at)


# --- engagement events ----------------------------------------------------------------------


def _fit_log(lead_id: int, c: domain.Contribution, at: datetime, why: str) -> ScoreLog:
    return ScoreLog(
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
    for log in _engagement_logs(lead_ids):
        out[log.lead_id].append(
            domain.Past(log.rule_id, log.points, log.occurred_at, log.half_life_days, log.reason)
        )
    return out


def _engagement_logs(lead_ids: Iterable[int], where: str = "", *params: Any) -> list[ScoreLog]:
    """The engagement awards (not decay) of these leads, newest first, matching the extra SQL
    condition ``where`` on ScoreLog ``t``. Read raw: this runs in every intake from a known
    person and every tracking batch (see common.db.read_models)."""
    ids = list(lead_ids)
    if not ids:
        return []
    return read_where(
        ScoreLog,
        f"t.lead_id IN ({placeholders(ids)}) AND t.axis = %s AND t.event_type <> %s {where}",
        [*ids, ScoreLog.Axis.ENGAGEMENT.value, "decay", *params],
        suffix="ORDER BY t.occurred_at DESC, t.id DESC",
    )


def _earned(lead_ids: Iterable[int], since: datetime) -> dict[tuple[int, Any], dict[int, int]]:
    """Points given per (lead, UTC day) and rule since ``since``: what the daily caps count."""
    out: dict[tuple[int, Any], dict[int, int]] = defaultdict(dict)
    logs = _engagement_logs(
        lead_ids,
        "AND t.occurred_at >= %s AND t.rule_id IS NOT NULL AND t.delta > 0",
        connection.ops.adapt_datetimefield_value(since),
    )
    for log in logs:
        day = out[(log.lead_id, log.occurred_at.astimezone(UTC).date())]
        assert log.rule_id is not None
        day[log.rule_id] = day.get(log.rule_id, 0) + log.points
    return out


def _locked_scores(lead_ids: list[int]) -> dict[int, LeadScore]:
    if not lead_ids:
        return {}
    scores = read_where(
        LeadScore,
        f"t.lead_id IN ({placeholders(lead_ids)})",
        lead_ids,
        # In one order, so two batches sharing leads cannot deadlock.
        suffix="ORDER BY t.lead_id FOR UPDATE" if connection.vendor == "postgresql" else "",
    )
    return {s.lead_id: s for s in scores}


def _ensure_scores(leads: Mapping[int, Lead], scores: dict[int, LeadScore], loaded: Loaded, at):
    """Score leads that have no score row yet (made before scoring existed, or by import)."""
    missing = [lead for pk, lead in leads.items() if pk not in scores]
    if not missing:
        return
    rows, logs = [], []
    for lead in missing:
        fit = domain.fit_score(loaded.rules, lead_fields(lead), loaded.config)
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
            )
        )
    insert_rows(LeadScore, rows)
    insert_rows(ScoreLog, logs)
    scores.update({r.lead_id: r for r in rows})


@transaction.atomic
def score_events(
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
    """``score_events`` inside the caller's transaction. ``fresh``: leads created in this
    transaction with their score rows not yet written (no engagement yet), which are not
    read back and are inserted here; ``logs``: their fit logs, written with the rest."""
    at = at or now()
    hand_raised = set(hand_raised)
    routed = set(just_routed)
    # Every fresh score row is written at the end, whether or not an event concerns it.
    unsaved = [score for _, score in (fresh or {}).values() if score.pk is None]
    logs = [] if logs is None else logs
    lead_ids = sorted({lead_id for lead_id, _ in items} | hand_raised)
    if not lead_ids:
        insert_rows(LeadScore, unsaved)
        insert_rows(ScoreLog, logs)
        return []
    loaded = loaded or load()
    wanted = set(lead_ids)
    fresh = {pk: pair for pk, pair in (fresh or {}).items() if pk in wanted}
    stored = [pk for pk in lead_ids if pk not in fresh]
    leads = {pk: lead for pk, (lead, _) in fresh.items()}
    scores = {pk: score for pk, (_, score) in fresh.items()}
    history: dict[int, list[domain.Past]] = {}
    earned_all: dict[tuple[int, Any], dict[int, int]] = defaultdict(dict)
    if stored:
        # Only what this function reads and writes: a batch of visits can touch thousands
        # of leads.
        leads.update(
            read_in_bulk(Lead, stored, only=["stage", "temperature", "owner_user_id", "updated_at"])
        )
        read = [pk for pk in stored if pk in leads]
        scores.update(_locked_scores(read))
        unscored = [pk for pk in read if pk not in scores]
        if unscored:
            full = Lead.objects.select_related("person", "account", "source", "campaign")
            _ensure_scores(
                {lead.pk: lead for lead in full.filter(pk__in=unscored)}, scores, loaded, at
            )
        history = _history(read)
        days = [e.at for _, e in items] or [at]
        earned_all = _earned(read, _day_start(min(days)))
    by_lead: dict[int, list[domain.Event]] = defaultdict(list)
    for lead_id, event in items:
        if lead_id in leads:
            by_lead[lead_id].append(event)
    changed: list[LeadScore] = []
    timeline: list[LeadEvent] = []
    turned_hot: list[int] = []
    temp_changed: list[Lead] = []
    for lead_id in sorted(leads):
        lead = leads[lead_id]
        score = scores[lead_id]
        if not lead_domain.Stage(lead.stage).is_open:
            continue  # a closed lead's score stays as it was closed
        past = history.get(lead_id, [])
        total = score.engagement
        for event in sorted(by_lead.get(lead_id, []), key=lambda e: e.at):
            day = (lead_id, event.at.astimezone(UTC).date())
            awards, earned_all[day] = domain.award(loaded.rules, event, earned_all[day])
            for a in awards:
                logs.append(
                    ScoreLog(
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
                total += a.points
        newly_raised = lead_id in hand_raised and score.hand_raised_at is None
        if newly_raised:
            score.hand_raised_at = at
            because = hand_raised_because.get(lead_id) if hand_raised_because else ""
            if because:
                score.reasons = [
                    {"axis": "hand_raiser", "text": because},
                    *[r for r in score.reasons or [] if r.get("axis") != "hand_raiser"],
                ]
        target = domain.engagement_at(past, at)
        if target != total:
            logs.append(_decay_log(lead_id, target - total, at))
        before = score.temperature
        _settle(score, past, target, loaded.config, at)
        changed.append(score)
        if score.temperature != before or lead.temperature != score.temperature or newly_raised:
            timeline.append(_temperature_event(lead, before, score, actor, at))
            lead.temperature = score.temperature
            temp_changed.append(lead)
            crossed = before != "hot" or newly_raised
            hand_off = lead.stage in HEAT_UP_STAGES and lead_id not in routed
            if score.temperature == "hot" and hand_off and crossed:
                turned_hot.append(lead_id)
    new_rows = {id(score) for score in unsaved}
    insert_rows(LeadScore, unsaved)
    insert_rows(ScoreLog, logs)
    update_rows([score for score in changed if id(score) not in new_rows], _SCORE_FIELDS)
    if temp_changed:
        for lead in temp_changed:
            lead.updated_at = at
        update_rows(temp_changed, ["temperature", "updated_at"])
    insert_rows(LeadEvent, timeline)
    for lead_id in turned_hot:
        lead_heat_up(lead=leads[lead_id], actor=actor, at=at)
    return turned_hot


_SCORE_FIELDS = [
    "engagement",
    "temperature",
    "hand_raised_at",
    "reasons",
    "computed_at",
    "decay_due_at",
    "fit_points",
    "fit_grade",
]


def _decay_log(lead_id: int, delta: int, at: datetime) -> ScoreLog:
    return ScoreLog(
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
    return LeadEvent(
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
    from leadrefinery.leads.services import lead_assign, lead_transition
    from leadrefinery.routing.services import Router, lead_routing_fields

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
    insert_rows(LeadEvent, timeline)
    for lead_id in turned_hot:
        lead_heat_up(lead=leads[lead_id], at=at)
    return len(claimed)


# --- reads ----------------------------------------------------------------------------------


def lead_score_summary(lead: Lead) -> dict[str, Any]:
    """Score, temperature and reasons of a lead, for the API and the lead page."""
    score = LeadScore.objects.filter(lead_id=lead.pk).first()
    if score is None:
        return {
            "fit_grade": None,
            "fit_points": None,
            "engagement": None,
            "temperature": lead.temperature or None,
            "predicted_readiness": None,
            "reasons": [],
            "predicted_reasons": [],
        }
    return {
        "fit_grade": score.fit_grade,
        "fit_points": score.fit_points,
        "engagement": score.engagement,
        "temperature": score.temperature or None,
        "predicted_readiness": score.predicted,
        "reasons": list(score.reasons or []),
        "predicted_reasons": list(score.predicted_reasons or []),
    }
