"""Scoring as pure functions: fit from profile fields, engagement from events with caps and
half-life decay, temperature from the admin's matrix, each answer with its reasons.

No ORM, no clock: services pass rules, fields, history and the time in. Points are whole
numbers, so a lead's total is exactly the sum of its ledger rows (decay is a ledger row too).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

from leadrefinery.routing.domain import Condition, Op

EVENT_TYPE = re.compile(r"[a-z][a-z0-9_]{0,39}")
TEMPERATURES = ("hot", "warm", "cool", "cold")
GRADES = ("A", "B", "C", "D")
BANDS = ("high", "medium", "low", "none")
_HORIZON_DAYS = 400
# Events anyone can cause without credentials: page visits and email opens and clicks (the
# public tracking endpoints) and public form fills. Together they add at most the anonymous
# daily cap to one lead per UTC day, whatever each rule's own cap, so that a stranger
# posting forms and loading pages cannot heat up someone else's lead.
ANONYMOUS_EVENT_TYPES = frozenset({"page_visit", "email_open", "email_click", "form_fill"})
ANONYMOUS = -1  # the key of the anonymous total in a day's earnings (rule ids are positive)


class RuleKind(StrEnum):
    FIT = "fit"
    ENGAGEMENT = "engagement"
    HAND_RAISER = "hand_raiser"


def parse_conditions(raw: Sequence[Any]) -> tuple[Condition, ...]:
    """[{"field", "op", "value"}] -> Conditions. Raises ValueError naming what is wrong."""
    if not isinstance(raw, list | tuple):
        raise ValueError("conditions must be a list")
    out = []
    for item in raw:
        if not isinstance(item, Mapping):
            raise ValueError('each condition is {"field": ..., "op": ..., "value": ...}')
        try:
            op = Op(str(item.get("op", "")))
        except ValueError:
            raise ValueError(
                f"unknown op {item.get('op')!r}; use one of {', '.join(o.value for o in Op)}"
            ) from None
        out.append(Condition(field=str(item.get("field", "")), op=op, value=item.get("value")))
    return tuple(out)


@dataclass(frozen=True)
class Rule:
    id: int
    name: str
    kind: RuleKind
    points: int
    conditions: tuple[Condition, ...] = ()
    event_type: str = ""
    self_reported: bool = False
    daily_cap: int | None = None
    half_life_days: int | None = None

    def matches(self, fields: Mapping[str, Any]) -> bool:
        conditions = self.conditions
        if len(conditions) == 1:  # most rules: no generator per inquiry and rule
            return conditions[0].matches(fields)
        return all(c.matches(fields) for c in conditions)

    def describe(self) -> str:
        return self._description

    @functools.cached_property
    def _description(self) -> str:
        # Worked out once per rule: every fit contribution of every inquiry quotes it.
        if not self.conditions:
            return self.name
        return f"{self.name} ({' and '.join(c.describe() for c in self.conditions)})"

    def explain(self, fields: Mapping[str, Any]) -> str:
        """Why the rule matched these fields: the words it found where it looks for words
        ("Demo or pricing request: message mentions 'send pricing'"), else its conditions."""
        found = [(c.field, w) for c in self.conditions for w in c.matched(fields)]
        if not found:
            return self.describe()
        said = "; ".join(
            f"{name} mentions {', '.join(repr(w) for f, w in found if f == name)}"
            for name in dict.fromkeys(f for f, _ in found)
        )
        return f"{self.name}: {said}"


# --- configuration: grades, bands, the matrix ------------------------------------------------


@dataclass(frozen=True)
class Thresholds:
    """Ordered (label, minimum) pairs, highest first; below the last is the final label."""

    steps: tuple[tuple[str, int], ...]
    floor: str

    def label(self, value: int) -> str:
        for name, minimum in self.steps:
            if value >= minimum:
                return name
        return self.floor

    @property
    def as_json(self) -> dict[str, int]:
        return dict(self.steps)


DEFAULT_GRADES = Thresholds((("A", 60), ("B", 40), ("C", 20)), "D")
DEFAULT_BANDS = Thresholds((("high", 60), ("medium", 30), ("low", 10)), "none")


@dataclass(frozen=True)
class Matrix:
    cells: Mapping[str, Mapping[str, str]]

    def temperature(self, grade: str, band: str) -> str:
        return self.cells[grade][band]

    @property
    def as_json(self) -> dict[str, dict[str, str]]:
        return {g: dict(self.cells[g]) for g in GRADES}


DEFAULT_MATRIX = Matrix(
    {
        "A": {"high": "hot", "medium": "hot", "low": "warm", "none": "cool"},
        "B": {"high": "hot", "medium": "warm", "low": "cool", "none": "cool"},
        "C": {"high": "warm", "medium": "cool", "low": "cold", "none": "cold"},
        "D": {"high": "cool", "medium": "cold", "low": "cold", "none": "cold"},
    }
)


def _thresholds(raw: Any, labels: tuple[str, ...], what: str) -> Thresholds:
    if not isinstance(raw, Mapping) or set(raw) != set(labels[:-1]):
        raise ValueError(f"{what} needs exactly {', '.join(labels[:-1])}")
    try:
        values = [int(raw[label]) for label in labels[:-1]]
    except (TypeError, ValueError):
        raise ValueError(f"{what}: whole numbers only") from None
    if values != sorted(values, reverse=True) or len(set(values)) != len(values):
        raise ValueError(f"{what} must fall strictly from {labels[0]} to {labels[-2]}")
    return Thresholds(tuple(zip(labels[:-1], values, strict=True)), labels[-1])


@dataclass(frozen=True)
class Config:
    grades: Thresholds = DEFAULT_GRADES
    bands: Thresholds = DEFAULT_BANDS
    matrix: Matrix = DEFAULT_MATRIX
    self_reported_weight: float = 0.5
    hand_raiser_hot_days: int = 30

    @classmethod
    def from_json(
        cls,
        *,
        grades: Any,
        bands: Any,
        matrix: Any,
        self_reported_weight: float = 0.5,
        hand_raiser_hot_days: int = 30,
    ) -> Config:
        if not isinstance(matrix, Mapping) or set(matrix) != set(GRADES):
            raise ValueError("the matrix needs a row for each grade A, B, C, D")
        for grade in GRADES:
            row = matrix[grade]
            if not isinstance(row, Mapping) or set(row) != set(BANDS):
                raise ValueError(f"matrix row {grade} needs high, medium, low, none")
            bad = [v for v in row.values() if v not in TEMPERATURES]
            if bad:
                raise ValueError(f"matrix row {grade}: {bad[0]!r} is not hot, warm, cool or cold")
        return cls(
            grades=_thresholds(grades, GRADES, "grade thresholds"),
            bands=_thresholds(bands, BANDS, "engagement bands"),
            matrix=Matrix({g: dict(matrix[g]) for g in GRADES}),
            self_reported_weight=float(self_reported_weight),
            hand_raiser_hot_days=int(hand_raiser_hot_days),
        )


# --- fit ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Contribution:
    rule_id: int
    points: int
    reason: str


@dataclass(frozen=True)
class Fit:
    points: int
    grade: str
    contributions: tuple[Contribution, ...]


def weighted(rule: Rule, config: Config) -> int:
    if rule.self_reported:
        return round(rule.points * config.self_reported_weight)
    return rule.points


def fit_score(rules: Iterable[Rule], fields: Mapping[str, Any], config: Config) -> Fit:
    """Every matching fit rule adds its points (self-reported ones at a reduced weight)."""
    contributions = []
    for rule in rules:
        if rule.kind != RuleKind.FIT or not rule.matches(fields):
            continue
        points = weighted(rule, config)
        note = " (self-reported, reduced weight)" if rule.self_reported else ""
        contributions.append(Contribution(rule.id, points, f"{rule.describe()}{note}"))
    total = sum(c.points for c in contributions)
    return Fit(total, config.grades.label(total), tuple(contributions))


def hand_raiser(rules: Iterable[Rule], fields: Mapping[str, Any]) -> Rule | None:
    """The first hand-raiser rule the inquiry matches (a demo or pricing request)."""
    for rule in rules:
        if rule.kind == RuleKind.HAND_RAISER and rule.matches(fields):
            return rule
    return None


A = TypeVar("A")


class Remembered:
    """``fit_score`` and ``hand_raiser`` for one set of rules, remembered by the values of the
    fields those rules read. Every condition reads one named field, so two inquiries that
    agree on those fields get the same fit and the same hand-raiser; the inquiries of a list
    share their titles, countries and mail domains, and each was tested against every rule
    (a ninth of the Python calls of FEBRL 4's import and scan). A value that is not a string
    is told apart by its type too (1, 1.0 and True are equal keys, but "1", "1.0" and "True"
    as conditions read them).
    At most ``size`` answers of each kind are kept (then it starts over)."""

    def __init__(self, rules: Sequence[Rule], config: Config, *, size: int = 4096) -> None:
        self.rules, self.config, self.size = tuple(rules), config, size
        self._fit_fields = _fields_read(self.rules, RuleKind.FIT)
        self._raiser_fields = _fields_read(self.rules, RuleKind.HAND_RAISER)
        self._fits: dict[tuple[Any, ...], Fit] = {}
        self._raisers: dict[tuple[Any, ...], Rule | None] = {}

    def fit_score(self, fields: Mapping[str, Any]) -> Fit:
        return self._answer(
            self._fits, self._fit_fields, fields, lambda: fit_score(self.rules, fields, self.config)
        )

    def hand_raiser(self, fields: Mapping[str, Any]) -> Rule | None:
        return self._answer(
            self._raisers, self._raiser_fields, fields, lambda: hand_raiser(self.rules, fields)
        )

    def _answer(
        self,
        answers: dict[tuple[Any, ...], A],
        names: tuple[str, ...],
        fields: Mapping[str, Any],
        work_out: Callable[[], A],
    ) -> A:
        key = _key(names, fields)
        if key is None:
            return work_out()
        # One lookup, never a test then a read: the web server's threads share these answers,
        # and another may start them over in between.
        known = answers.get(key, _UNKNOWN)
        if known is not _UNKNOWN:
            return known  # type: ignore[return-value]
        if len(answers) >= self.size:
            answers.clear()
        answer = answers[key] = work_out()
        return answer


_UNKNOWN = object()


def _fields_read(rules: Iterable[Rule], kind: RuleKind) -> tuple[str, ...]:
    return tuple(sorted({c.field for r in rules if r.kind == kind for c in r.conditions}))


def _key(names: tuple[str, ...], fields: Mapping[str, Any]) -> tuple[Any, ...] | None:
    """The values of ``names`` in ``fields`` as a key (None when one cannot be a key)."""
    key = tuple(
        value if value.__class__ is str else (value.__class__, value)
        for value in map(fields.get, names)
    )
    try:
        hash(key)
    except TypeError:
        return None
    return key


# --- engagement -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    type: str
    at: datetime
    ref: str = ""
    properties: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Award:
    rule_id: int
    points: int
    half_life_days: int | None
    event_type: str
    event_ref: str
    at: datetime
    reason: str


def award(
    rules: Iterable[Rule],
    event: Event,
    earned_today: Mapping[int, int],
    *,
    anonymous_cap: int | None = None,
) -> tuple[list[Award], dict[int, int]]:
    """Points for one event from every matching engagement rule, within each rule's daily cap
    and, for an anonymous event type (``ANONYMOUS_EVENT_TYPES``), within ``anonymous_cap``
    for all of them together.

    ``earned_today`` maps rule ids (and ``ANONYMOUS``) to points already given today (the
    event's UTC day); the updated map is returned so a batch of events can be scored in
    order."""
    earned = dict(earned_today)
    fields = {"type": event.type, **{k: v for k, v in event.properties.items()}}
    anonymous = anonymous_cap is not None and event.type in ANONYMOUS_EVENT_TYPES
    out: list[Award] = []
    for rule in rules:
        if rule.kind != RuleKind.ENGAGEMENT or rule.event_type != event.type:
            continue
        if not rule.matches(fields):
            continue
        points = rule.points
        reason = rule.describe()
        if rule.daily_cap is not None and points > 0:
            room = max(0, rule.daily_cap - earned.get(rule.id, 0))
            if room <= 0:
                continue  # capped: nothing to record
            if points > room:
                points = room
                reason += f" (capped at {rule.daily_cap} a day)"
        if anonymous and anonymous_cap is not None and points > 0:
            room = max(0, anonymous_cap - earned.get(ANONYMOUS, 0))
            if room <= 0:
                continue
            if points > room:
                points = room
                reason += f" (visits, opens, clicks and forms capped at {anonymous_cap} a day)"
            earned[ANONYMOUS] = earned.get(ANONYMOUS, 0) + points
        earned[rule.id] = earned.get(rule.id, 0) + points
        out.append(
            Award(rule.id, points, rule.half_life_days, event.type, event.ref, event.at, reason)
        )
    return out, earned


@dataclass(frozen=True)
class Past:
    """An engagement award as the ledger remembers it: the decay baseline."""

    rule_id: int | None
    points: int
    at: datetime
    half_life_days: int | None
    reason: str = ""


def decayed(past: Iterable[Past], at: datetime) -> float:
    total = 0.0
    for item in past:
        total += _value(item, at)
    return total


def _value(item: Past, at: datetime) -> float:
    if item.half_life_days is None or at <= item.at:
        return float(item.points)
    age_days = (at - item.at).total_seconds() / 86400
    return item.points * math.pow(0.5, age_days / item.half_life_days)


def engagement_at(past: Iterable[Past], at: datetime) -> int:
    """The engagement score at ``at``: every award decayed by its own half-life, rounded."""
    return round(decayed(past, at))


def next_change(past: Sequence[Past], current: int, at: datetime) -> datetime | None:
    """The first whole day after ``at`` on which the rounded engagement differs from
    ``current``; None when it never will (nothing decays, or all has decayed away)."""
    decaying = [p for p in past if p.half_life_days is not None]
    fixed = sum(p.points for p in past if p.half_life_days is None)
    if sum(abs(_value(p, at)) for p in decaying) < 0.5 and round(fixed) == current:
        return None  # what is left can never move the rounded score again
    for day in range(1, _HORIZON_DAYS + 1):
        when = at + timedelta(days=day)
        if round(fixed + decayed(decaying, when)) != current:
            return when
    return None


def top_engagement(past: Iterable[Past], at: datetime, limit: int = 5) -> list[tuple[str, int]]:
    """The largest current contributions, by reason, for the lead page."""
    by_reason: dict[str, float] = {}
    for item in past:
        by_reason[item.reason] = by_reason.get(item.reason, 0.0) + _value(item, at)
    ranked = sorted(by_reason.items(), key=lambda kv: -abs(kv[1]))
    return [(reason, round(v)) for reason, v in ranked[:limit] if round(v)]


# --- temperature ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Temperature:
    value: str
    band: str
    reasons: tuple[str, ...]


def temperature(
    config: Config,
    *,
    grade: str,
    engagement: int,
    hand_raised_at: datetime | None,
    at: datetime,
) -> Temperature:
    band = config.bands.label(engagement)
    if hand_raised_at is not None and at < hand_raised_at + timedelta(
        days=config.hand_raiser_hot_days
    ):
        return Temperature(
            "hot",
            band,
            (
                f"hand-raiser on {hand_raised_at:%Y-%m-%d}: hot for "
                f"{config.hand_raiser_hot_days} days whatever the score",
            ),
        )
    value = config.matrix.temperature(grade, band)
    return Temperature(
        value, band, (f"fit grade {grade} x engagement {engagement} ({band}) -> {value}",)
    )


def hot_until(config: Config, hand_raised_at: datetime | None, at: datetime) -> datetime | None:
    if hand_raised_at is None:
        return None
    until = hand_raised_at + timedelta(days=config.hand_raiser_hot_days)
    return until if until > at else None
