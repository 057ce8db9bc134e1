"""`refinery cadence-sweep` and `refinery tracking-flush` do by hand what the worker does on
its schedule, say what they did, and are listed with help by `refinery help`."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from django.test import Client

from leadrefinery import cli
from leadrefinery.cadences.models import OutcomeCheck
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import Touch
from leadrefinery.leads.services import lead_assign, lead_dispose, lead_transition
from leadrefinery.tracking import links

pytestmark = pytest.mark.django_db


def refinery(*argv: str) -> None:
    """What `refinery ARGV` runs, in this process (run_from_argv would close the test DB)."""
    call_command(*cli._translate(list(argv)))


def test_both_are_listed_with_help(capsys):
    cli.main(["help"])
    overview = capsys.readouterr().out
    assert re.search(r"cadence-sweep\s+Do the cadence work due now", overview)
    assert re.search(r"tracking-flush\s+Turn buffered page visits", overview)
    with pytest.raises(SystemExit):
        cli.main(["cadence-sweep", "--help"])
    assert "outcome checks" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        cli.main(["tracking-flush", "--help"])
    assert "buffered" in capsys.readouterr().out


def test_cadence_sweep_opens_the_outcome_check_that_fell_due(users, make_lead, frozen_now, capsys):
    system = Actor.system("test")
    lead = lead_assign(lead=make_lead(), owner_user=users.rep, actor=system)
    lead = lead_transition(lead=lead, to_stage="sales_ready", actor=system)
    lead = lead_transition(lead=lead, to_stage="working", actor=Actor.of(users.rep))
    lead_dispose(lead=lead, reason_code="lost_no_decision", actor=Actor.of(users.rep))
    check = OutcomeCheck.objects.get(lead=lead)
    frozen_now.set(check.scheduled_for)

    refinery("cadence-sweep")
    assert "Cadence sweep: 1 due item(s) handled." in capsys.readouterr().out
    check.refresh_from_db()
    assert check.status == OutcomeCheck.Status.OPEN
    refinery("cadence-sweep")
    assert "Cadence sweep: 0 due item(s) handled." in capsys.readouterr().out


def test_tracking_flush_turns_a_buffered_open_into_a_touch(settings, make_lead, capsys):
    settings.REFINERY_TRACKING_FLUSH_SECONDS = -1  # buffered, as in production
    lead = make_lead()
    pixel = links.pixel_url(person_id=lead.person_id, message_ref="m")
    Client().get(re.sub(r"^https?://[^/]+", "", pixel))
    assert not Touch.objects.filter(lead=lead, channel=Touch.Channel.EMAIL_OPEN).exists()

    refinery("tracking-flush")
    assert "Tracking flush: 1 buffered hit(s) processed." in capsys.readouterr().out
    assert Touch.objects.filter(lead=lead, channel=Touch.Channel.EMAIL_OPEN).count() == 1
