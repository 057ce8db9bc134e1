"""Rule and matrix changes: validated saves, the preview of how many open leads a change
would move (writes nothing), and the rescore of every open lead's fit after a change, each
changed rule contribution logged so totals still equal the sum of the log."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction

from leadrefinery.common.clock import now
from leadrefinery.common.db import insert_rows, update_rows
from leadrefinery.leads import domain as lead_domain
from leadrefinery.leads.events import events_insert
from leadrefinery.leads.models import Lead, LeadEvent

from . import domain
from .models import LeadScore, ScoreLog, ScoringRule
from .selectors import lead_fields, load, settings_row
from .services import (
    _SCORE_FIELDS,
    ACTOR,
    HEAT_UP_STAGES,
    ScoringRefused,
    _history,
    _settle,
    _temperature_event,
    lead_heat_up,
)


def _validated(obj: Any, *, draft: bool = False) -> None:
    from django.core.exceptions import ValidationError

    try:
        obj.full_clean(exclude=["created_at", "updated_at"], validate_unique=not draft)
    except ValidationError as exc:
        raise ScoringRefused({k: [str(m) for m in v] for k, v in exc.message_dict.items()}) from exc


RULE_FIELDS = (
    "name",
    "kind",
    "active",
    "order",
    "event_type",
    "conditions",
    "points",
    "self_reported",
    "daily_cap",
    "half_life_days",
)


def _apply(rule: ScoringRule, changes: Mapping[str, Any]) -> ScoringRule:
    unknown = set(changes) - set(RULE_FIELDS)
    if unknown:
        raise ScoringRefused({k: ["cannot be set"] for k in sorted(unknown)})
    for key, value in changes.items():
        setattr(rule, key, value)
    return rule


@transaction.atomic
def scoring_rule_save(
    *, rule: ScoringRule | None = None, changes: Mapping[str, Any], at: datetime | None = None
) -> ScoringRule:
    """Create or change a rule (validated), then rescore the fit of every open lead so the
    grades follow the rules. Engagement rules apply to events from now on."""
    at = at or now()
    rule = _apply(rule or ScoringRule(created_at=at, updated_at=at), changes)
    _validated(rule)
    rule.updated_at = at
    rule.save()
    if rule.kind in (ScoringRule.Kind.FIT,) or "kind" in changes:
        scores_rescore(at=at)
    return rule


@transaction.atomic
def scoring_settings_save(*, changes: Mapping[str, Any], at: datetime | None = None):
    at = at or now()
    row = settings_row()
    allowed = {
        "grade_thresholds",
        "engagement_bands",
        "matrix",
        "self_reported_weight",
        "hand_raiser_hot_days",
    }
    unknown = set(changes) - allowed
    if unknown:
        raise ScoringRefused({k: ["cannot be set"] for k in sorted(unknown)})
    for key, value in changes.items():
        setattr(row, key, value)
    _validated(row)
    row.updated_at = at
    row.save()
    scores_rescore(at=at)
    return row


def _open_scored(chunk: int = 2000) -> Iterable[list[tuple[Lead, LeadScore]]]:
    leads = (
        Lead.objects.select_related("person", "account", "source", "campaign", "score")
        .filter(stage__in=list(lead_domain.OPEN_STAGES), score__isnull=False)
        .order_by("pk")
    )
    batch: list[tuple[Lead, LeadScore]] = []
    for lead in leads.iterator(chunk_size=chunk):
        batch.append((lead, lead.score))
        if len(batch) >= chunk:
            yield batch
            batch = []
    if batch:
        yield batch


@dataclass(frozen=True)
class Preview:
    leads: int
    grade_moves: int
    temperature_moves: int
    to_hot: int
    examples: tuple[tuple[int, str, str], ...]  # (lead id, before, after)


def preview(
    *,
    rule: ScoringRule | None = None,
    changes: Mapping[str, Any] | None = None,
    settings_changes: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> Preview:
    """How many open leads a change would move (grade, temperature), changing nothing.
    Engagement rule changes are previewed by rescaling each lead's awards of that rule."""
    at = at or now()
    loaded = load()
    rules = list(loaded.rules)
    config = loaded.config
    scale: tuple[int, float] | None = None
    if changes is not None:
        draft = _apply(
            ScoringRule(**{f: getattr(rule, f) for f in RULE_FIELDS}, pk=rule.pk)
            if rule
            else ScoringRule(created_at=at, updated_at=at),
            changes,
        )
        _validated(draft, draft=True)
        new = draft.domain_rule()
        if rule is not None and rule.pk:
            old = next((r for r in rules if r.id == rule.pk), None)
            rules = [r for r in rules if r.id != rule.pk]
            if old is not None and old.kind == domain.RuleKind.ENGAGEMENT and old.points:
                scale = (rule.pk, (new.points if draft.active else 0) / old.points)
        if draft.active:
            rules.append(new)
    if settings_changes:
        row = settings_row()
        for key, value in settings_changes.items():
            setattr(row, key, value)
        _validated(row, draft=True)
        config = row.domain_config()
    total = grade_moves = temp_moves = to_hot = 0
    examples: list[tuple[int, str, str]] = []
    for batch in _open_scored():
        history = _history(lead.pk for lead, _ in batch) if scale else {}
        for lead, score in batch:
            total += 1
            fit = domain.fit_score(rules, lead_fields(lead), config)
            engagement = score.engagement
            if scale:
                rule_id, factor = scale
                past = history.get(lead.pk, [])
                mine = [p for p in past if p.rule_id == rule_id]
                engagement = round(
                    domain.decayed(past, at)
                    - domain.decayed(mine, at)
                    + factor * domain.decayed(mine, at)
                )
            temp = domain.temperature(
                config,
                grade=fit.grade,
                engagement=engagement,
                hand_raised_at=score.hand_raised_at,
                at=at,
            ).value
            if fit.grade != score.fit_grade:
                grade_moves += 1
            if temp != score.temperature:
                temp_moves += 1
                to_hot += temp == "hot"
                if len(examples) < 10:
                    examples.append((lead.pk, score.temperature, temp))
    return Preview(total, grade_moves, temp_moves, to_hot, tuple(examples))


@transaction.atomic
def scores_rescore(*, at: datetime | None = None) -> int:
    """Recompute the fit of every open lead after a rule or settings change; each changed
    rule contribution is logged. Returns how many leads changed grade or temperature."""
    at = at or now()
    loaded = load()
    moved = 0
    turned_hot: list[Lead] = []
    for batch in _open_scored():
        ids = [lead.pk for lead, _ in batch]
        per_rule: dict[int, dict[int | None, int]] = defaultdict(lambda: defaultdict(int))
        for lead_id, rule_id, delta in ScoreLog.objects.filter(
            lead_id__in=ids, axis=ScoreLog.Axis.FIT
        ).values_list("lead_id", "rule_id", "delta"):
            per_rule[lead_id][rule_id] += delta
        history = _history(ids)
        logs: list[ScoreLog] = []
        scores: list[LeadScore] = []
        timeline: list[LeadEvent] = []
        leads: list[Lead] = []
        for lead, score in batch:
            fit = loaded.remembered.fit_score(lead_fields(lead))
            wanted: dict[int | None, int] = defaultdict(int)
            reasons: dict[int | None, str] = {}
            for c in fit.contributions:
                wanted[c.rule_id] += c.points
                reasons[c.rule_id] = c.reason
            have = per_rule[lead.pk]
            for key in set(wanted) | set(have):
                delta = wanted.get(key, 0) - have.get(key, 0)
                if delta:
                    logs.append(
                        ScoreLog(
                            lead_id=lead.pk,
                            axis=ScoreLog.Axis.FIT,
                            delta=delta,
                            rule_id=key,
                            event_type="rescore",
                            event_ref="",
                            points=delta,
                            half_life_days=None,
                            reason=("rules changed: " + reasons.get(key, "rule no longer applies"))[
                                :300
                            ],
                            occurred_at=at,
                        )
                    )
            before = (score.fit_grade, score.temperature)
            score.fit_points = fit.points
            score.fit_grade = fit.grade
            score.reasons = [
                {"axis": "fit", "text": c.reason, "points": c.points} for c in fit.contributions
            ]
            _settle(score, history.get(lead.pk, []), score.engagement, loaded.config, at)
            scores.append(score)
            if (score.fit_grade, score.temperature) != before:
                moved += 1
            if score.temperature != before[1]:
                timeline.append(_temperature_event(lead, before[1], score, ACTOR, at))
                lead.temperature = score.temperature
                lead.updated_at = at
                leads.append(lead)
                if score.temperature == "hot" and lead.stage in HEAT_UP_STAGES:
                    turned_hot.append(lead)
        insert_rows(ScoreLog, logs)
        update_rows(scores, _SCORE_FIELDS)
        update_rows(leads, ["temperature", "updated_at"])
        events_insert(timeline)
    for lead in turned_hot:
        lead_heat_up(lead=lead, at=at)
    return moved
