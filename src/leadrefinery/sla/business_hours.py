"""Business-hours arithmetic: "4 working hours after this moment, in Berlin, skipping holidays".

Pure: no ORM, no clock. Times are aware datetimes; windows are local wall-clock times in the
calendar's IANA time zone, so DST changes are handled by zoneinfo (a 09:00-17:00 day is eight
working hours on both sides of a DST switch, and the instant 09:00 local moves in UTC).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# Far enough to cross any holiday season, short enough to stop on an empty calendar.
_MAX_DAYS = 3 * 366


@dataclass(frozen=True)
class BusinessCalendar:
    """Weekly working windows (weekday 0=Monday -> [(start, end), ...]) plus holidays."""

    time_zone: str = "UTC"
    weekly: dict[int, tuple[tuple[time, time], ...]] = field(
        default_factory=lambda: {d: ((time(9), time(17)),) for d in range(5)}
    )
    holidays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        ZoneInfo(self.time_zone)  # raises for an unknown zone
        for day, windows in self.weekly.items():
            if not 0 <= day <= 6:
                raise ValueError(f"weekday {day} is not 0 (Monday) to 6 (Sunday)")
            for start, end in windows:
                if not start < end:
                    raise ValueError(f"window {start}-{end} on weekday {day} ends before it starts")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @classmethod
    def always_open(cls, time_zone: str = "UTC") -> BusinessCalendar:
        return cls(time_zone=time_zone, weekly={d: ((time(0), time.max),) for d in range(7)})

    def windows_on(self, day: date) -> list[tuple[datetime, datetime]]:
        """The working windows of a local date, as aware UTC instants (empty on holidays)."""
        if day in self.holidays:
            return []
        zone = self.zone
        out = []
        for start, end in self.weekly.get(day.weekday(), ()):
            a = _local_to_utc(datetime.combine(day, start), zone)
            # time.max means "until midnight": the window ends at the next day's 00:00.
            end_at = (
                datetime.combine(day + timedelta(days=1), time(0))
                if end == time.max
                else datetime.combine(day, end)
            )
            b = _local_to_utc(end_at, zone)
            if a < b:
                out.append((a, b))
        return out


def _local_to_utc(naive_local: datetime, zone: ZoneInfo) -> datetime:
    """Wall-clock time to UTC. A time skipped by a DST jump (02:30 on the spring-forward night)
    reads with the offset before the jump, i.e. it lands just after the gap, as clocks do."""
    return naive_local.replace(tzinfo=zone).astimezone(UTC)


def add_business_time(calendar: BusinessCalendar, start: datetime, duration: timedelta) -> datetime:
    """The instant when ``duration`` of working time has passed after ``start``."""
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    if duration < timedelta(0):
        raise ValueError("duration must not be negative")
    remaining = duration
    cursor = start.astimezone(UTC)
    day = cursor.astimezone(calendar.zone).date() - timedelta(
        days=1
    )  # a window may start the day before (UTC)
    for _ in range(_MAX_DAYS):
        for a, b in calendar.windows_on(day):
            if b <= cursor:
                continue
            begin = max(a, cursor)
            available = b - begin
            if remaining <= available:
                return begin + remaining
            remaining -= available
            cursor = b
        day += timedelta(days=1)
    raise ValueError("the calendar has no working time in the next three years")


def business_time_between(calendar: BusinessCalendar, start: datetime, end: datetime) -> timedelta:
    """Working time between two instants (zero when end <= start)."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    a, b = start.astimezone(UTC), end.astimezone(UTC)
    if b <= a:
        return timedelta(0)
    total = timedelta(0)
    day = a.astimezone(calendar.zone).date() - timedelta(days=1)
    last = b.astimezone(calendar.zone).date() + timedelta(days=1)
    while day <= last:
        for wa, wb in calendar.windows_on(day):
            lo, hi = max(wa, a), min(wb, b)
            if lo < hi:
                total += hi - lo
        day += timedelta(days=1)
    return total


def is_working_time(calendar: BusinessCalendar, at: datetime) -> bool:
    day = at.astimezone(calendar.zone).date()
    return any(
        a <= at < b for d in (day - timedelta(days=1), day) for a, b in calendar.windows_on(d)
    )
