"""The speed-to-lead clock and its escalation ladder, pure.

A lead handed to an owner starts the clock. The ladder's steps fall due one after another:
remind the owner (at a share of the first-touch time), breach (notify the manager), reassign.
The first sales touch stops the clock. The service stores the last step done and the next
step's due time on the lead, so the sweep reads only due rows through an index.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import IntEnum

from .business_hours import BusinessCalendar, add_business_time


class Step(IntEnum):
    STARTED = 0
    REMINDED = 1
    BREACHED = 2
    REASSIGNED = 3

    @property
    def label(self) -> str:
        return {0: "clock started", 1: "owner reminded", 2: "SLA breached", 3: "reassigned"}[
            self.value
        ]


@dataclass(frozen=True)
class Terms:
    first_touch: timedelta
    accept: timedelta
    remind_share: float = 0.5
    notify_manager: bool = True
    reassign_after: timedelta | None = None
    business_hours: bool = True


@dataclass(frozen=True)
class Clock:
    started_at: datetime
    first_touch_due: datetime
    accept_due: datetime
    ladder: tuple[tuple[Step, datetime], ...]

    def next_after(self, done: Step) -> tuple[Step, datetime] | None:
        for step, due in self.ladder:
            if step > done:
                return step, due
        return None


def start_clock(terms: Terms, calendar: BusinessCalendar, at: datetime) -> Clock:
    cal = calendar if terms.business_hours else BusinessCalendar.always_open(calendar.time_zone)
    first_touch_due = add_business_time(cal, at, terms.first_touch)
    accept_due = add_business_time(cal, at, terms.accept)
    ladder: list[tuple[Step, datetime]] = [
        (Step.REMINDED, add_business_time(cal, at, terms.first_touch * terms.remind_share)),
        (Step.BREACHED, first_touch_due),
    ]
    if terms.reassign_after is not None:
        ladder.append(
            (Step.REASSIGNED, add_business_time(cal, first_touch_due, terms.reassign_after))
        )
    return Clock(
        started_at=at, first_touch_due=first_touch_due, accept_due=accept_due, ladder=tuple(ladder)
    )
