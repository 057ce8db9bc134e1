"""The nurture rules as pure functions: who may enter a program, who must leave it, who may
be emailed at all (consent, suppression), when (send windows in the recipient's zone) and how
often (the frequency cap across programs).

No ORM, no clock: callers pass facts and the time in and get frozen decisions with reasons.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta

# --- Rules (data stored on Program) ----------------------------------------------------

ENTRY_RULES: dict[str, str] = {
    "warm": "temperature is warm",
    "cool": "temperature is cool",
    "recycled": "recycled from sales to nurture",
    "lost_no_decision": "lost for no decision",
    "new_inquiry": "a new inquiry that is not sales-ready",
}
EXIT_RULES: dict[str, str] = {
    "hot": "turned hot",
    "won": "won",
    "unsubscribed": "unsubscribed",
    "bounced": "bounced or complained",
    "owner_took_back": "sales took it back (a rep owns it or a sales stage)",
}
# Always applied, whatever the program says: a closed or merged lead gets no more email.
CLOSED = "closed"
WEEKDAYS = (0, 1, 2, 3, 4)
SALES_STAGES = frozenset({"qualifying", "sales_ready", "working", "opportunity"})
NURTURE_STAGES = frozenset({"inquiry", "nurture"})
CONSENT_BASES = frozenset({"opt_in", "legitimate_interest", "contract"})
WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class LeadSnapshot:
    """What the rules read about a lead."""

    stage: str
    temperature: str
    owner_is_user: bool
    recycled: bool
    disposition: str


@dataclass(frozen=True)
class Decision:
    ok: bool
    reason: str
    reasons: tuple[str, ...] = ()


def entry_decision(lead: LeadSnapshot, rules: Sequence[str]) -> Decision:
    """Does the lead meet one of the program's entry rules (and no exit condition)?"""
    lost_no_decision = lead.stage == "lost" and lead.disposition == "lost_no_decision"
    if lead.temperature == "hot":
        return Decision(False, "hot", ("hot leads go to sales, not to nurture",))
    # A lost lead keeps the rep who lost it as owner; marketing may still nurture it.
    if lead.owner_is_user and not lost_no_decision:
        return Decision(False, "owner_took_back", ("a rep owns the lead",))
    if lead.stage not in NURTURE_STAGES and not lost_no_decision:
        return Decision(False, "stage", (f"stage {lead.stage} is not nurtured",))
    for rule in rules:
        if _meets(rule, lead, lost_no_decision):
            return Decision(True, rule, (ENTRY_RULES.get(rule, rule),))
    return Decision(False, "no_rule", ("meets none of the entry rules",))


def _meets(rule: str, lead: LeadSnapshot, lost_no_decision: bool) -> bool:
    if rule in ("warm", "cool"):
        return lead.temperature == rule and not lost_no_decision
    if rule == "recycled":
        return lead.recycled and lead.stage == "nurture"
    if rule == "lost_no_decision":
        return lost_no_decision
    if rule == "new_inquiry":
        return lead.stage in NURTURE_STAGES and not lead.recycled
    return False


def exit_decision(lead: LeadSnapshot, rules: Sequence[str], *, suppression: str = "") -> Decision:
    """Must the lead leave the program now? ``ok`` True means: leave, for ``reason``.

    ``suppression`` is the reason its address is suppressed ('' when it is not)."""
    active = set(rules or EXIT_RULES)
    lost_no_decision = lead.stage == "lost" and lead.disposition == "lost_no_decision"
    if "hot" in active and lead.temperature == "hot":
        return Decision(True, "hot", ("the lead turned hot",))
    if "won" in active and lead.stage == "won":
        return Decision(True, "won", ("the lead was won",))
    took_back = (lead.owner_is_user and not lost_no_decision) or lead.stage in SALES_STAGES
    if "owner_took_back" in active and took_back:
        return Decision(True, "owner_took_back", ("sales took the lead back",))
    if suppression:
        if suppression == "unsubscribed" and "unsubscribed" in active:
            return Decision(True, "unsubscribed", ("the address unsubscribed",))
        if suppression != "unsubscribed" and "bounced" in active:
            return Decision(True, "bounced", (f"the address is suppressed: {suppression}",))
    if lead.stage not in NURTURE_STAGES and not lost_no_decision:
        return Decision(True, CLOSED, (f"the lead is {lead.stage}",))
    return Decision(False, "", ())


# --- Consent --------------------------------------------------------------------------


def consent_decision(
    *,
    country: str,
    bases: Iterable[str],
    opt_in_countries: Iterable[str],
    suppressed: str = "",
) -> Decision:
    """May we send marketing email to this person?

    ``bases`` are the consent bases recorded for the person and for everyone merged into it,
    most recent first. A withdrawal anywhere wins (the stricter consent survives a merge);
    where the country requires opt-in, a recorded basis is needed."""
    if suppressed:
        return Decision(
            False, "suppressed", (f"the address is on the suppression list ({suppressed})",)
        )
    seen = list(bases)
    if WITHDRAWN in seen:
        return Decision(False, "withdrawn", ("consent was withdrawn",))
    needs_opt_in = country.upper() in {c.upper() for c in opt_in_countries}
    if needs_opt_in and not any(b in CONSENT_BASES for b in seen):
        return Decision(
            False, "no_consent", (f"{country.upper()} requires opt-in and none is recorded",)
        )
    return Decision(True, "", ("consent recorded" if seen else "no opt-in required",))


# --- When: windows in the recipient's zone, and the frequency cap ---------------------


@dataclass(frozen=True)
class SendWindow:
    start: time
    end: time
    weekdays: tuple[int, ...] = WEEKDAYS


def zone_for(country: str, default: str, country_zones: dict[str, list[str]]) -> str:
    """The recipient's time zone: the first zone of their country, else the program's."""
    zones = country_zones.get(country.upper()) if country else None
    return zones[0] if zones else default


def next_in_window(at: datetime, window: SendWindow, zone: str) -> datetime:
    """The first moment at or after ``at`` inside the window, in ``zone`` local time (aware,
    returned in UTC terms of ``at``'s zone)."""
    if at.tzinfo is None:
        raise ValueError("next_in_window needs an aware datetime")
    tz = zoneinfo.ZoneInfo(zone)
    local = at.astimezone(tz)
    for offset in range(8):
        day = (local + timedelta(days=offset)).date()
        if day.weekday() not in window.weekdays:
            continue
        opens = datetime.combine(day, window.start, tzinfo=tz)
        closes = datetime.combine(day, window.end, tzinfo=tz)
        if offset == 0 and local >= closes:
            continue
        candidate = max(opens, local) if offset == 0 else opens
        if candidate < closes:
            return candidate.astimezone(at.tzinfo)
    raise ValueError("the send window has no weekday")


@dataclass(frozen=True)
class Cap:
    messages: int
    days: int


def cap_decision(sent_at: Sequence[datetime], at: datetime, cap: Cap) -> tuple[Decision, datetime]:
    """May one more nurture email go to this person at ``at``, given the times of the emails
    already sent to them (any program)? Returns the decision and the earliest allowed time."""
    span = timedelta(days=cap.days)
    recent = sorted(t for t in sent_at if t > at - span)
    if cap.messages <= 0 or len(recent) < cap.messages:
        return Decision(True, "", ()), at
    # The oldest email in the window must age out before one more may go.
    free_at = recent[len(recent) - cap.messages] + span
    return (
        Decision(
            False,
            "frequency_cap",
            (f"already {len(recent)} email(s) in {cap.days} day(s); cap is {cap.messages}",),
        ),
        free_at,
    )


def parse_cap(text: str) -> Cap:
    """'2/7' -> at most 2 emails per 7 days."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not match:
        raise ValueError(f"a cap is 'MESSAGES/DAYS', like '2/7', not {text!r}")
    return Cap(messages=int(match[1]), days=int(match[2]))


# --- Retries --------------------------------------------------------------------------

MAX_ATTEMPTS = 6


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failure: 5, 10, 20, 40 ... minutes, at most 6 hours."""
    return min(timedelta(minutes=5 * 2 ** max(attempts - 1, 0)), timedelta(hours=6))


# --- Validation of rules and content --------------------------------------------------

MERGE_FIELDS = ("first_name", "last_name", "full_name", "company", "email", "country")
_MERGE = re.compile(r"\{\{\s*([a-zA-Z_]+)(?:\s*\|\s*default:\s*\"([^\"]*)\")?\s*\}\}")


def merge(text: str, values: dict[str, str]) -> str:
    """Replace ``{{ field }}`` and ``{{ field | default:"there" }}`` with the recipient's data."""

    def one(match: re.Match[str]) -> str:
        value = values.get(match[1], "")
        return value or (match[2] or "")

    return _MERGE.sub(one, text)


def message_problems(subject: str, body: str) -> list[str]:
    problems = []
    if not subject.strip():
        problems.append("the subject is empty")
    if not body.strip():
        problems.append("the body is empty")
    for text in (subject, body):
        for match in _MERGE.finditer(text):
            if match[1] not in MERGE_FIELDS:
                problems.append(
                    f"unknown merge field '{match[1]}'; use one of {', '.join(MERGE_FIELDS)}"
                )
    return problems


def program_problems(
    *,
    entry_rules: object,
    exit_rules: object,
    weekdays: object,
    window_start: time | None,
    window_end: time | None,
    time_zone: str,
    interval_days: int,
) -> list[str]:
    problems = []
    if not isinstance(entry_rules, list) or not entry_rules:
        problems.append(f"entry rules: choose one or more of {', '.join(ENTRY_RULES)}")
    else:
        problems += [f"unknown entry rule '{r}'" for r in entry_rules if r not in ENTRY_RULES]
    if not isinstance(exit_rules, list):
        problems.append(f"exit rules: a list of {', '.join(EXIT_RULES)}")
    else:
        problems += [f"unknown exit rule '{r}'" for r in exit_rules if r not in EXIT_RULES]
    if not isinstance(weekdays, list) or any(
        not isinstance(d, int) or isinstance(d, bool) or not 0 <= d <= 6 for d in weekdays
    ):
        problems.append("weekdays are numbers from 0 (Monday) to 6 (Sunday)")
    if window_start is not None and window_end is not None and window_start >= window_end:
        problems.append("the send window must end after it starts")
    try:
        zoneinfo.ZoneInfo(time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        problems.append(f"unknown time zone '{time_zone}'")
    if interval_days < 1:
        problems.append("the interval is at least one day")
    return problems


def normalize_address(address: str) -> str:
    return address.strip().lower()


def send_for_ref(message_ref: str) -> int | None:
    prefix, _, number = (message_ref or "").partition("-")
    return int(number) if prefix == "nurture" and number.isdigit() else None
