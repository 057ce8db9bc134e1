"""The speed-to-lead clock set by the real intake and walked by the sweep, with a frozen clock,
across weekends, holidays, time zones and DST changes."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from leadrefinery.common.clock import frozen
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import Source
from leadrefinery.leads.services import touch_log
from leadrefinery.sla.models import Holiday, SlaPolicy
from leadrefinery.sla.sweep import sla_sweep

from .conftest import sent

pytestmark = pytest.mark.django_db

NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")


def test_friday_afternoon_in_new_york_is_due_monday_after_the_dst_switch(world, inquiry):
    # Friday 16:30 EST; the clocks go forward on Sunday 8 March. The default policy allows one
    # working hour: 30 minutes on Friday, 30 on Monday morning (now EDT, UTC-4).
    friday = datetime(2026, 3, 6, 16, 30, tzinfo=NEW_YORK)
    with frozen(friday) as clock:
        lead = inquiry(country="US", company="Acme")
        assert lead.owner_user == world["nina"]
        assert lead.sla_first_touch_due_at == datetime(2026, 3, 9, 13, 30, tzinfo=UTC)
        assert lead.sla_due_at == datetime(2026, 3, 6, 17, 0, tzinfo=NEW_YORK)  # the reminder

        clock.set(datetime(2026, 3, 6, 16, 59, tzinfo=NEW_YORK))
        assert sla_sweep() == 0
        clock.set(datetime(2026, 3, 6, 17, 0, tzinfo=NEW_YORK))
        assert sla_sweep() == 1
        assert sent(lead, "lead.sla_warning") == ["nina@example.com"]

        # The weekend does not count: nothing breaches on Saturday or Sunday.
        for day in (7, 8):
            clock.set(datetime(2026, 3, day, 12, tzinfo=NEW_YORK))
            assert sla_sweep() == 0
        clock.set(datetime(2026, 3, 9, 9, 29, tzinfo=NEW_YORK))
        assert sla_sweep() == 0
        clock.set(datetime(2026, 3, 9, 9, 30, tzinfo=NEW_YORK))
        assert sla_sweep() == 1
    lead.refresh_from_db()
    assert lead.sla_breached_at == datetime(2026, 3, 9, 13, 30, tzinfo=UTC)
    assert sent(lead, "lead.sla_breached") == ["nina@example.com", "nina-boss@example.com"]


def test_a_berlin_holiday_and_the_spring_forward_push_the_due_time(world, inquiry):
    Holiday.objects.create(date=date(2026, 3, 30), name="Company day off")
    friday = datetime(2026, 3, 27, 16, 30, tzinfo=BERLIN)  # CET; CEST from Sunday 29 March
    with frozen(friday) as clock:
        lead = inquiry(country="DE", email="kunde@example.de")
        assert lead.owner_user == world["bernd"]
        # 30 minutes on Friday, Monday is the holiday, 30 minutes on Tuesday (CEST, UTC+2).
        assert lead.sla_first_touch_due_at == datetime(2026, 3, 31, 7, 30, tzinfo=UTC)
        clock.set(datetime(2026, 3, 30, 12, tzinfo=BERLIN))
        assert sla_sweep() == 1  # the reminder (Friday 17:00); no breach on the holiday
        lead.refresh_from_db()
        assert lead.sla_step == 1 and lead.sla_breached_at is None
        clock.set(datetime(2026, 3, 31, 9, 30, tzinfo=BERLIN))
        assert sla_sweep() == 1
    lead.refresh_from_db()
    assert lead.sla_step == 2 and lead.sla_breached_at is not None


def test_a_team_holiday_counts_only_for_that_team(world, inquiry):
    Holiday.objects.create(date=date(2026, 3, 9), name="Regional holiday", team=world["bernd"].team)
    with frozen(datetime(2026, 3, 6, 16, 30, tzinfo=UTC)):
        german = inquiry(country="DE", email="a@example.de")
        american = inquiry(country="US", email="a@example.com")
    # Berlin: Friday 17:30 is after hours, Monday is the team's holiday -> Tuesday 10:00 CET.
    assert german.sla_first_touch_due_at == datetime(2026, 3, 10, 10, tzinfo=BERLIN)
    # New York: Friday 11:30 EST, within hours -> 12:30 the same day.
    assert american.sla_first_touch_due_at == datetime(2026, 3, 6, 12, 30, tzinfo=NEW_YORK)


def test_a_saturday_inquiry_starts_counting_on_monday_morning(world, inquiry):
    with frozen(datetime(2026, 3, 14, 12, tzinfo=NEW_YORK)) as clock:
        lead = inquiry(country="US")
        # Nobody works on Saturday, so the only rep of the team gets it, with the reason.
        assert lead.owner_user == world["nina"]
        assert lead.sla_due_at == datetime(2026, 3, 16, 9, 30, tzinfo=NEW_YORK)
        assert lead.sla_first_touch_due_at == datetime(2026, 3, 16, 10, tzinfo=NEW_YORK)
        trace = lead.events.get(kind="assigned").data["trace"]
        assert any("nobody in working hours" in step for step in trace["steps"])
        clock.set(datetime(2026, 3, 15, 23, 59, tzinfo=NEW_YORK))
        assert sla_sweep() == 0
        assert sent(lead, "lead.sla_warning") == []


def test_a_policy_for_one_source_can_count_around_the_clock(world, inquiry):
    show = Source.objects.create(name="Trade show")
    SlaPolicy.objects.create(
        name="Trade show: 4 hours, any day",
        order=1,
        source=show,
        first_touch_minutes=240,
        accept_minutes=480,
        business_hours=False,
        remind_at_percent=75,
        reassign_after_minutes=None,
    )
    saturday = datetime(2026, 3, 14, 12, tzinfo=NEW_YORK)
    with frozen(saturday) as clock:
        lead = inquiry(source="Trade show", country="US")
        regular = inquiry(country="US", email="web@example.com")
        assert lead.sla_policy.name == "Trade show: 4 hours, any day"
        assert lead.sla_first_touch_due_at == saturday + timedelta(hours=4)
        assert lead.sla_due_at == saturday + timedelta(hours=3)  # reminder at 75%
        assert regular.sla_policy.name.startswith("Every lead")
        clock.set(saturday + timedelta(hours=4))
        assert sla_sweep() == 1  # the breach of the trade-show lead; it has no reassign step
    lead.refresh_from_db()
    assert lead.sla_step == 2 and lead.sla_due_at is None
    assert sent(lead, "lead.sla_warning") == []  # the sweep came after the breach: no reminder
    assert sent(lead, "lead.sla_breached") == ["nina@example.com", "nina-boss@example.com"]


def test_speed_to_lead_is_wall_clock_time_across_the_weekend(world, inquiry):
    with frozen(datetime(2026, 3, 6, 16, 30, tzinfo=NEW_YORK)) as clock:
        lead = inquiry(country="US")
        clock.set(datetime(2026, 3, 9, 9, 10, tzinfo=NEW_YORK))
        touch_log(lead=lead, channel="call", actor=Actor.of(world["nina"]), outcome="connected")
        assert sla_sweep() == 0  # touched before any sweep ran: nothing left to escalate
    lead.refresh_from_db()
    assert sent(lead, "lead.sla_warning") == []
    # The buyer waited from Friday 16:30 EST to Monday 09:10 EDT: 2 days 15h40m of wall time.
    assert lead.speed_to_lead_seconds == int(
        timedelta(days=2, hours=15, minutes=40).total_seconds()
    )
    assert lead.sla_due_at is None
