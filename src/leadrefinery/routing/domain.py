"""Routing as pure functions: which rule matches a lead, and which rep of a team gets it.

No ORM, no clock: the service passes the lead's fields, the rules, the candidates with their
counters and availability, the time, and a random generator; the result says who and why.
"""

from __future__ import annotations

import functools
import random
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Op(StrEnum):
    EQUALS = "equals"
    NOT_EQUALS = "not_equals"
    IN = "in"
    NOT_IN = "not_in"
    RANGE = "range"
    CONTAINS = "contains"
    IS_EMPTY = "is_empty"
    IS_NOT_EMPTY = "is_not_empty"
    # Any of a list of words or phrases, as whole words, ignoring case, accents and
    # punctuation: "Please send PRICING!" contains "pricing"; "demos" does not contain "demo".
    CONTAINS_ANY = "contains_any"


@functools.lru_cache(maxsize=16384)  # the rules' own words, and each inquiry's text, once
def fold_words(text: str) -> str:
    """``text`` as its words in lower case without accents or punctuation, space-padded, so
    that a phrase matches as whole words: " please send pricing "."""
    plain = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch))
    return " " + " ".join(re.sub(r"[\W_]+", " ", plain).split()) + " "


def _phrases(values: Sequence[Any]) -> tuple[tuple[str, str], ...]:
    """A ``contains_any`` condition's phrases as written and folded (the empty ones dropped):
    worked out once per rule, not once per inquiry and rule."""
    try:
        return _phrases_of(tuple(values))
    except TypeError:  # a value that is not hashable (a list in a list): not remembered
        return _phrases_of.__wrapped__(tuple(values))


@functools.lru_cache(maxsize=4096)
def _phrases_of(values: tuple[Any, ...]) -> tuple[tuple[str, str], ...]:
    return tuple((str(v).strip(), fold_words(str(v))) for v in values if fold_words(str(v)).strip())


def _folded(values: Sequence[Any]) -> frozenset[str]:
    """An ``in`` condition's values as compared."""
    try:
        return _folded_of(tuple(values))
    except TypeError:
        return _folded_of.__wrapped__(tuple(values))


@functools.lru_cache(maxsize=4096)
def _folded_of(values: tuple[Any, ...]) -> frozenset[str]:
    return frozenset(str(v).strip().casefold() for v in values)


def _text(raw: Any) -> str:
    """A field's value as conditions compare it."""
    return "" if raw is None else str(raw).strip()


def _in_range(text: str, bounds: Any) -> bool:
    try:
        number = float(text)
    except ValueError:
        return False
    low, high = bounds
    return (low is None or number >= float(low)) and (high is None or number <= float(high))


class Method(StrEnum):
    ROUND_ROBIN = "round_robin"
    WEIGHTED = "weighted"
    FEWEST_OPEN = "fewest_open"


class TargetKind(StrEnum):
    USER = "user"
    TEAM = "team"
    QUEUE = "queue"


@dataclass(frozen=True)
class Condition:
    field: str
    op: Op
    value: Any = None

    def validate(self) -> list[str]:
        errors = []
        if not self.field:
            errors.append("a condition needs a field")
        if self.op in (Op.IN, Op.NOT_IN) and not (isinstance(self.value, list) and self.value):
            errors.append(f"'{self.op}' needs a non-empty list of values")
        if self.op == Op.RANGE:
            ok = isinstance(self.value, list | tuple) and len(self.value) == 2
            if not ok or all(v is None for v in self.value):
                errors.append("'range' needs [min, max] (either may be null)")
            else:
                try:
                    [float(v) for v in self.value if v is not None]
                except (TypeError, ValueError):
                    errors.append("'range' bounds must be numbers")
        if self.op in (Op.EQUALS, Op.NOT_EQUALS, Op.CONTAINS) and self.value in (None, ""):
            errors.append(f"'{self.op}' needs a value")
        if self.op == Op.CONTAINS_ANY and not (
            isinstance(self.value, list) and any(fold_words(str(v)).strip() for v in self.value)
        ):
            errors.append("'contains_any' needs a list of words or phrases")
        return errors

    def matched(self, fields: Mapping[str, Any]) -> list[str]:
        """The words or phrases of a ``contains_any`` condition found in the field."""
        if self.op != Op.CONTAINS_ANY or not isinstance(self.value, list):
            return []
        text = fold_words(str(fields.get(self.field) or ""))
        return [said for said, folded in _phrases(self.value) if folded in text]

    def matches(self, fields: Mapping[str, Any]) -> bool:
        return self._test(fields.get(self.field))

    @functools.cached_property
    def _test(self) -> Callable[[Any], bool]:
        """This condition as a function of the field's value, worked out once per condition:
        routing and scoring test every rule against every inquiry of an import, and choosing
        the operator and folding the condition's own value each time was most of it."""
        op, value = self.op, self.value
        if op == Op.IS_EMPTY:
            return lambda raw: not _text(raw)
        if op == Op.IS_NOT_EMPTY:
            return lambda raw: bool(_text(raw))
        if op in (Op.EQUALS, Op.NOT_EQUALS, Op.CONTAINS):
            want = str(value).strip().casefold()
            if op == Op.EQUALS:
                return lambda raw: _text(raw).casefold() == want
            if op == Op.NOT_EQUALS:
                return lambda raw: _text(raw).casefold() != want
            return lambda raw: want in _text(raw).casefold()
        if op in (Op.IN, Op.NOT_IN):
            values = _folded(value)
            if op == Op.IN:
                return lambda raw: _text(raw).casefold() in values
            return lambda raw: _text(raw).casefold() not in values
        if op == Op.CONTAINS_ANY:
            if not isinstance(value, list):
                return lambda raw: False
            phrases = [folded for _, folded in _phrases(value)]

            def contains_any(raw: Any) -> bool:  # as ``matched``
                text = fold_words(str(raw or ""))
                return any(folded in text for folded in phrases)

            return contains_any
        if op == Op.RANGE:
            return lambda raw: _in_range(_text(raw), value)
        return lambda raw: False

    def __getstate__(self) -> dict[str, Any]:
        # The worked-out test is a closure, which does not pickle; it is made again.
        return {k: v for k, v in self.__dict__.items() if k != "_test"}

    def describe(self) -> str:
        if self.op in (Op.IS_EMPTY, Op.IS_NOT_EMPTY):
            return f"{self.field} {self.op.replace('_', ' ')}"
        if self.op == Op.CONTAINS_ANY and isinstance(self.value, list):
            words = ", ".join(repr(str(v)) for v in self.value)
            return f"{self.field} contains any of {words}"
        return f"{self.field} {self.op.replace('_', ' ')} {self.value!r}"


@dataclass(frozen=True)
class Target:
    kind: TargetKind
    id: int
    name: str = ""
    method: Method = Method.ROUND_ROBIN


@dataclass(frozen=True)
class Rule:
    id: int
    name: str
    conditions: tuple[Condition, ...]
    target: Target
    account_owner_first: bool = False
    is_fallback: bool = False

    def matches(self, fields: Mapping[str, Any]) -> bool:
        return all(c.matches(fields) for c in self.conditions)


@dataclass(frozen=True)
class Candidate:
    """A rep as routing sees them at one moment."""

    user_id: int
    name: str
    active: bool = True
    away_until: datetime | None = None
    in_working_hours: bool = True
    weight: int = 1
    open_leads: int = 0
    assigned_today: int = 0
    rotation_count: int = 0  # assignments received through this team's rotation
    max_open: int | None = None
    max_per_day: int | None = None
    excluded: str = ""  # a reason this rep must not get this lead (e.g. "missed the SLA")


@dataclass(frozen=True)
class Decision:
    kind: TargetKind | None
    id: int | None
    name: str
    rule_id: int | None
    steps: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...] = ()
    tie_break: str = ""

    @property
    def assigned(self) -> bool:
        return self.kind is not None

    def as_trace(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "steps": list(self.steps),
            "skipped": [{"name": n, "why": w} for n, w in self.skipped],
            "tie_break": self.tie_break,
            "owner": self.name,
        }


@dataclass
class _Trace:
    steps: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def unavailable_reason(
    candidate: Candidate, at: datetime, *, require_working_hours: bool
) -> str | None:
    if candidate.excluded:
        return candidate.excluded
    if not candidate.active:
        return "inactive"
    if candidate.away_until is not None and candidate.away_until > at:
        return f"away until {candidate.away_until:%Y-%m-%d %H:%M} UTC"
    if require_working_hours and not candidate.in_working_hours:
        return "outside working hours"
    if candidate.max_open is not None and candidate.open_leads >= candidate.max_open:
        return f"at open-lead cap ({candidate.open_leads}/{candidate.max_open})"
    if candidate.max_per_day is not None and candidate.assigned_today >= candidate.max_per_day:
        return f"at daily cap ({candidate.assigned_today}/{candidate.max_per_day})"
    return None


def distribute(
    method: Method, eligible: Sequence[Candidate], rng: random.Random
) -> tuple[Candidate, str]:
    """Pick one of ``eligible`` (non-empty) by ``method``; ties are broken at random, never by
    seniority or creation order. Returns (candidate, tie-break description)."""
    if method == Method.WEIGHTED:
        # Smooth weighted rotation: the rep furthest behind their share goes next.
        def key(c: Candidate) -> float:
            return (c.rotation_count + 1) / max(c.weight, 1)

        label = "lowest (assignments + 1) / weight"
    elif method == Method.FEWEST_OPEN:

        def key(c: Candidate) -> float:
            return c.open_leads

        label = "fewest open leads"
    else:

        def key(c: Candidate) -> float:
            return c.rotation_count

        label = "fewest assignments in this rotation"
    best = min(key(c) for c in eligible)
    tied = [c for c in eligible if key(c) == best]
    chosen = rng.choice(sorted(tied, key=lambda c: c.user_id))
    note = f"{label}: {chosen.name}"
    if len(tied) > 1:
        note += f" (random pick among {len(tied)} tied: {', '.join(sorted(c.name for c in tied))})"
    return chosen, note


def choose_owner(
    fields: Mapping[str, Any],
    rules: Sequence[Rule],
    *,
    team_candidates: Mapping[int, Sequence[Candidate]],
    users: Mapping[int, Candidate],
    account_owner: Candidate | None,
    at: datetime,
    rng: random.Random,
    require_working_hours: bool = False,
) -> Decision:
    """First matching rule wins; if its target has nobody available, the next rule is tried."""
    trace = _Trace()
    for rule in rules:
        if not rule.matches(fields):
            if rule.conditions:
                failed = next(c for c in rule.conditions if not c.matches(fields))
                trace.steps.append(f"rule '{rule.name}': no match ({failed.describe()} is false)")
            continue
        trace.steps.append(f"rule '{rule.name}': match")
        if rule.account_owner_first and account_owner is not None:
            why = unavailable_reason(account_owner, at, require_working_hours=require_working_hours)
            if why is None:
                trace.steps.append(f"account owner first: {account_owner.name}")
                return Decision(
                    TargetKind.USER,
                    account_owner.user_id,
                    account_owner.name,
                    rule.id,
                    tuple(trace.steps),
                    tuple(trace.skipped),
                )
            trace.skipped.append((account_owner.name, f"account owner {why}"))
        target = rule.target
        if target.kind == TargetKind.QUEUE:
            trace.steps.append(f"to queue {target.name}")
            return Decision(
                TargetKind.QUEUE,
                target.id,
                target.name,
                rule.id,
                tuple(trace.steps),
                tuple(trace.skipped),
            )
        if target.kind == TargetKind.USER:
            candidate = users.get(target.id)
            why = (
                "unknown user"
                if candidate is None
                else unavailable_reason(candidate, at, require_working_hours=require_working_hours)
            )
            if candidate is not None and why is None:
                trace.steps.append(f"to {candidate.name}")
                return Decision(
                    TargetKind.USER,
                    candidate.user_id,
                    candidate.name,
                    rule.id,
                    tuple(trace.steps),
                    tuple(trace.skipped),
                )
            trace.skipped.append((target.name or str(target.id), str(why)))
            trace.steps.append(f"rule '{rule.name}': its rep is unavailable; trying the next rule")
            continue
        members = list(team_candidates.get(target.id, ()))
        eligible = [
            m for m in members if unavailable_reason(m, at, require_working_hours=True) is None
        ]
        if not eligible and require_working_hours:
            # Out of hours is a soft skip: at night the whole team is out of hours, and the
            # SLA clock counts business hours anyway, so any available rep beats a queue.
            eligible = [
                m for m in members if unavailable_reason(m, at, require_working_hours=False) is None
            ]
            if eligible:
                trace.steps.append(
                    f"team {target.name}: nobody in working hours; choosing among available reps"
                )
        elif not require_working_hours:
            eligible = [
                m for m in members if unavailable_reason(m, at, require_working_hours=False) is None
            ]
        chosen_ids = {m.user_id for m in eligible}
        for member in members:
            if member.user_id not in chosen_ids:
                # A hard reason (inactive, away, a cap) explains a skip better than the hours.
                why = unavailable_reason(member, at, require_working_hours=False)
                trace.skipped.append((member.name, why or "outside working hours"))
        if not eligible:
            trace.steps.append(f"team {target.name}: nobody available; trying the next rule")
            continue
        chosen, note = distribute(target.method, eligible, rng)
        trace.steps.append(
            f"team {target.name} by {target.method.replace('_', ' ')}: {chosen.name}"
        )
        return Decision(
            TargetKind.USER,
            chosen.user_id,
            chosen.name,
            rule.id,
            tuple(trace.steps),
            tuple(trace.skipped),
            note,
        )
    trace.steps.append("no rule could place the lead")
    return Decision(None, None, "", None, tuple(trace.steps), tuple(trace.skipped))


def routing_fields(
    lead: Mapping[str, Any],
    person: Mapping[str, Any],
    *,
    source: str,
    campaign: str = "",
    account: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The flat field map routing conditions test, for new and existing leads alike.

    Fields of the original payload (``extra``), then the lead's custom fields, come first so
    that neither can shadow a built-in field (custom field names never take one)."""
    fields: dict[str, Any] = {
        k: v for k, v in (extra or {}).items() if isinstance(v, str | int | float)
    }
    # The lead's custom fields (leads/custom_fields.py), under their names.
    custom = lead.get("custom")
    if isinstance(custom, Mapping):
        fields.update((k, v) for k, v in custom.items() if isinstance(v, str | int | float))
    account = account or {}
    email = str(person.get("email") or "")
    fields.update(
        {
            "country": person.get("country", ""),
            "region": person.get("region", ""),
            "city": person.get("city", ""),
            "postcode": person.get("postcode", ""),
            "language": person.get("language", ""),
            "title": person.get("title", ""),
            "company": account.get("name") or person.get("company_name", ""),
            "industry": account.get("industry", ""),
            "employee_band": account.get("employee_band", ""),
            "email_domain": email.rpartition("@")[2],
            "source": source,
            "campaign": campaign,
            "product_interest": lead.get("product_interest", ""),
            "temperature": lead.get("temperature", ""),
            "utm_source": lead.get("utm_source", ""),
            "utm_medium": lead.get("utm_medium", ""),
            "utm_campaign": lead.get("utm_campaign", ""),
            "budget": lead.get("budget", ""),
            "timeline": lead.get("timeline", ""),
        }
    )
    return fields
