"""Cadence timing and rules, pure: no ORM, no clock.

A cadence is an ordered list of steps, each with a day offset from the start. Steps are timed
in the owner's business calendar (``sla/business_hours.py``): a step falls due at the first
working moment of its day, in the owner's time zone. Spacing is kept relative to the step
before: a rep who does step 3 a day late gets step 4 a day later too, so a late rep never
faces a pile of steps due at once and the buyer never gets two touches in a row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from leadrefinery.sla.business_hours import BusinessCalendar, add_business_time


class Channel(StrEnum):
    CALL = "call"
    EMAIL = "email"
    SOCIAL = "social"
    TASK = "task"

    @property
    def label(self) -> str:
        return {"call": "Call", "email": "Email", "social": "Social", "task": "Task"}[self]


class CallOutcome(StrEnum):
    CONNECTED = "connected"
    VOICEMAIL = "voicemail"
    NO_ANSWER = "no_answer"
    WRONG_NUMBER = "wrong_number"

    @property
    def label(self) -> str:
        return {
            "connected": "Connected",
            "voicemail": "Voicemail",
            "no_answer": "No answer",
            "wrong_number": "Wrong number",
        }[self]


class Answer(StrEnum):
    """The answer to an outcome check (the Rule of 45): did they buy, and from whom?"""

    US = "us"
    COMPETITOR = "competitor"
    NOBODY = "nobody"
    UNKNOWN = "unknown"

    @property
    def label(self) -> str:
        return {
            "us": "Bought from us",
            "competitor": "Bought from a competitor",
            "nobody": "Bought from nobody",
            "unknown": "Unknown",
        }[self]


# Outcomes that mean the buyer answered: the cadence has done its job and stops.
CONTACT_OUTCOMES = frozenset({"connected", "replied", "meeting_booked"})
STOP_OUTCOMES = frozenset({"replied", "meeting_booked"})
# Dispositions that schedule an outcome check 12 months later (the Rule of 45).
OUTCOME_CHECK_REASONS = frozenset({"lost_no_decision", "lost_no_response"})
OUTCOME_CHECK_MONTHS = 12

# Why a rep hands a lead back to the queue (not a stage change, so not a disposition reason).
REJECT_TO_QUEUE_REASONS = {
    "wrong_territory": "Wrong territory or product line",
    "wrong_person": "Not the right contact for sales",
    "no_capacity": "No capacity (away or full)",
    "duplicate": "Duplicate of a lead I already work",
}

PLACEHOLDERS = ("first_name", "last_name", "company", "rep_name", "rep_email", "product")
_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")


@dataclass(frozen=True)
class StepSpec:
    position: int  # 1-based
    day: int  # days after the cadence starts
    channel: Channel
    title: str
    at_time: time | None = None  # preferred local time of day; None = start of the day


@dataclass(frozen=True)
class Due:
    at: datetime
    reason: str


def first_working_moment(calendar: BusinessCalendar, at: datetime) -> datetime:
    """``at`` when it is working time, else the start of the next working window."""
    return add_business_time(calendar, at, timedelta(0))


def _local_moment(calendar: BusinessCalendar, day: date, at_time: time | None) -> datetime:
    return datetime.combine(day, at_time or time(0)).replace(tzinfo=calendar.zone)


def _on_working_day(calendar: BusinessCalendar, day: date, at_time: time | None) -> datetime:
    """``at_time`` (or the opening) on ``day``, or on the next day with working hours when
    ``day`` has none (a weekend, a holiday): Saturday's 10:30 call moves to Monday 10:30."""
    for _ in range(366):
        if calendar.windows_on(day):
            break
        day += timedelta(days=1)
    return first_working_moment(calendar, _local_moment(calendar, day, at_time))


def step_due(
    calendar: BusinessCalendar,
    step: StepSpec,
    *,
    previous: StepSpec | None,
    previous_done_at: datetime | None,
    started_at: datetime,
) -> Due:
    """When ``step`` falls due, given when the step before it was done (or the start)."""
    if previous is None or previous_done_at is None:
        anchor, gap = started_at, step.day
        what = "the cadence started"
    else:
        anchor, gap = previous_done_at, step.day - previous.day
        what = f"step {previous.position} was done"
    if gap <= 0:
        candidate = anchor
        if step.at_time is not None:
            candidate = max(
                anchor,
                _local_moment(calendar, anchor.astimezone(calendar.zone).date(), step.at_time),
            )
        due = first_working_moment(calendar, candidate)
        return Due(due, f"same day as {what}, at the next working moment")
    local_day = anchor.astimezone(calendar.zone).date() + timedelta(days=gap)
    due = _on_working_day(calendar, local_day, step.at_time)
    plural = "s" if gap != 1 else ""
    return Due(due, f"{gap} day{plural} after {what}, in working hours ({calendar.time_zone})")


# A step becomes overdue (and its owner is told, once) this much working time after it fell due.
OVERDUE_AFTER = timedelta(hours=4)
# A stopped cadence or a finished one leaves the rep a follow-up due within this working time.
FOLLOW_UP_WITHIN = timedelta(hours=1)


def overdue_at(calendar: BusinessCalendar, due_at: datetime) -> datetime:
    return add_business_time(calendar, due_at, OVERDUE_AFTER)


def follow_up_due(calendar: BusinessCalendar, at: datetime) -> datetime:
    return add_business_time(calendar, at, FOLLOW_UP_WITHIN)


# Outcomes of an outbound touch that leave the buyer unreached: try again soon.
UNREACHED_OUTCOMES = frozenset({"no_answer", "voicemail", "wrong_number", "bounced"})


def follow_up_after_touch(
    calendar: BusinessCalendar, *, channel: str, direction: str, outcome: str, at: datetime
) -> tuple[str, Due]:
    """The next step a touch leaves when no cadence runs (a rep may change both): answer an
    inbound touch within a working hour; try an unreached buyer again the next working day;
    otherwise follow up two working days later, at the opening."""
    if direction == "inbound":
        return "Answer them", Due(follow_up_due(calendar, at), "they reached us: answer today")
    if outcome == "meeting_booked":
        what, gap = "Prepare the meeting and qualify (need, budget, authority, timeline)", 1
    elif outcome in UNREACHED_OUTCOMES:
        what, gap = ("Call again" if channel == "call" else "Try another channel"), 1
    else:
        what, gap = "Follow up", 2
    local_day = at.astimezone(calendar.zone).date() + timedelta(days=gap)
    due = _on_working_day(calendar, local_day, None)
    plural = "s" if gap != 1 else ""
    return what, Due(due, f"{gap} day{plural} after the touch, in working hours")


def end_due(calendar: BusinessCalendar, *, last_done_at: datetime, wait_days: int) -> Due:
    """When a cadence whose steps are all done ends (time for a reply to the last touch)."""
    local_day = last_done_at.astimezone(calendar.zone).date() + timedelta(days=wait_days)
    at = _on_working_day(calendar, local_day, None)
    if wait_days <= 0:
        at = last_done_at
    return Due(at, f"{wait_days} days after the last step, for a reply to arrive")


def add_months(at: datetime, months: int) -> datetime:
    """The same day and time ``months`` later (the last day of the month when it is shorter)."""
    month0 = at.month - 1 + months
    year, month = at.year + month0 // 12, month0 % 12 + 1
    for day in (at.day, 30, 29, 28):
        try:
            return at.replace(year=year, month=month, day=min(at.day, day))
        except ValueError:
            continue
    raise ValueError("unreachable")  # pragma: no cover


def outcome_check_due(*, reason_code: str, recycled: bool, at: datetime) -> datetime | None:
    """12 months after a lead was lost for no decision, closed as no response or recycled."""
    if recycled or reason_code in OUTCOME_CHECK_REASONS:
        return add_months(at, OUTCOME_CHECK_MONTHS)
    return None


@dataclass(frozen=True)
class EndDecision:
    recycle: bool
    reason: str


def decide_end(*, contacted: bool, persistence_problems: list[str], touches: int) -> EndDecision:
    """What happens when every step is done: recycle to nurture when nobody answered and the
    persistence rule is met; otherwise the rep decides (with the reason why)."""
    if contacted:
        return EndDecision(False, "the buyer answered during the cadence: decide the outcome")
    if persistence_problems:
        return EndDecision(
            False,
            "cadence ended but 'no response' is not allowed yet: "
            + "; ".join(persistence_problems),
        )
    return EndDecision(True, f"no response after {touches} touches")


def render_text(text: str, values: dict[str, str]) -> str:
    """Fill ``{{ name }}`` placeholders; unknown ones are refused when the template is saved."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), ""), text)


def unknown_placeholders(text: str) -> list[str]:
    return sorted({m.group(1) for m in _PLACEHOLDER.finditer(text)} - set(PLACEHOLDERS))


def template_problems(
    steps: list[tuple[int, str, str, str]], *, min_touches: int, min_days: int
) -> dict[str, list[str]]:
    """Problems with a cadence's steps, as (day, channel, subject, body) in order: empty when
    it can be saved. A cadence must at least meet the persistence rule, or it would end
    before 'no response' may be recorded and leave the rep with nowhere to go."""
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if not steps:
        add("steps", "a cadence needs at least one step")
        return errors
    previous = 0
    for i, (day, channel, subject, body) in enumerate(steps, start=1):
        if day < 0:
            add("steps", f"step {i}: the day offset cannot be negative")
        if day < previous:
            add("steps", f"step {i}: day {day} comes before the step above it (day {previous})")
        previous = max(previous, day)
        if channel not in {c.value for c in Channel}:
            add("steps", f"step {i}: unknown channel '{channel}'")
        if channel == Channel.EMAIL and not body.strip():
            add("steps", f"step {i}: an email step needs a body")
        for name in unknown_placeholders(subject + " " + body):
            add("steps", f"step {i}: unknown placeholder '{{{{ {name} }}}}'")
    if len(steps) < min_touches:
        add(
            "steps",
            f"the persistence rule needs {min_touches} touches before 'no response'; "
            f"this cadence has {len(steps)} steps",
        )
    span = steps[-1][0] - steps[0][0]
    if span < min_days:
        add(
            "steps",
            f"the persistence rule needs {min_days} days of follow-up; "
            f"this cadence spans {span} days",
        )
    return errors
