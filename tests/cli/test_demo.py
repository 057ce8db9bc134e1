"""`refinery demo`: logins that work, a lifelike spread of leads, and sound data."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.test import RequestFactory

from leadrefinery.common import clock
from leadrefinery.demo.data import generate_inquiries
from leadrefinery.leads.models import IntakeRecord, Lead, LeadEvent, Queue, Source, Touch
from leadrefinery.leads.normalize import normalize_inquiry


def _run_demo(*args: str) -> str:
    out = StringIO()
    call_command("demo", *args, stdout=out)
    return out.getvalue()


def _printed_logins(output: str) -> list[dict[str, str]]:
    """The rows of the printed login table, read the way a person reads it."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:2] == ["Username", "Password"])
    header = lines[start].split()
    rows = []
    for line in lines[start + 2 :]:
        if not line.strip():
            break
        cells = [cell for cell in line.strip().split("  ") if cell.strip()]
        rows.append(dict(zip(header, (c.strip() for c in cells), strict=True)))
    return rows


@pytest.mark.django_db
def test_printed_demo_logins_work_and_the_leads_span_the_lifecycle():
    output = _run_demo("--leads", "60", "--seed", "1")

    logins = _printed_logins(output)
    assert {row["Role"] for row in logins} == {
        "Administrator",
        "Sales manager",
        "Sales rep",
        "Marketer",
    }
    assert sum(row["Role"] == "Sales rep" for row in logins) == 3
    for row in logins:
        # As the login form calls it (login throttling needs the request).
        user = authenticate(
            RequestFactory().post("/login/"), username=row["Username"], password=row["Password"]
        )
        assert user is not None, f"printed login {row['Username']} does not work"
        assert user.get_role_display() == row["Role"]
    assert "/login/" in output

    stages = Counter(Lead.objects.values_list("stage", flat=True))
    assert sum(stages.values()) >= 45
    assert len(stages) >= 6, stages
    assert len({"won", "lost", "disqualified"} & set(stages)) >= 2, stages
    assert {"sales_ready", "working", "opportunity"} & set(stages), stages
    assert "nurture" in stages
    # Closed leads carry their reason; work shows up as touches by the reps.
    assert not Lead.objects.filter(
        stage__in=["won", "lost", "disqualified"], disposition__isnull=True
    ).exists()
    assert Touch.objects.filter(is_sales=True, actor__role="rep").count() >= 20
    # Duplicates and invalid inquiries are part of the story.
    assert IntakeRecord.objects.filter(status="rejected").exists()
    assert LeadEvent.objects.filter(kind="inquiry").exists()
    assert Source.objects.filter(channel="trade_show", campaigns__cost__gt=0).exists()
    reps = Queue.objects.get(slug="qualifying").members.filter(role="rep")
    assert reps.count() == 3
    # The marketer's nurture program has members, and is paused (no mail server in a demo).
    from leadrefinery.nurture.models import Program

    program = Program.objects.get()
    assert not program.active and program.steps.count() == 3
    # Every lead that meets the entry rules is in: hand-raisers (hot, also those who wrote
    # "please send pricing") go to sales instead, so the count varies with the demo's clock.
    from leadrefinery.nurture import domain as nurture_domain
    from leadrefinery.nurture.services import lead_snapshot
    from leadrefinery.nurture.sweep import candidates

    left_out = [
        lead
        for lead in candidates(program, 1000)
        if nurture_domain.entry_decision(
            lead_snapshot(lead, recycled=lead.recycled), program.entry_rules
        ).ok
    ]
    assert not left_out
    assert program.enrollments.filter(status="active").count() >= 15
    assert "enrolled in the nurture program" in output

    check = StringIO()
    call_command("checkleads", stdout=check)  # raises CommandError on any violation
    assert "All lead invariants hold" in check.getvalue()


@pytest.mark.django_db
def test_a_second_run_adds_nothing():
    _run_demo("--leads", "20", "--seed", "3")
    leads = Lead.objects.count()
    again = _run_demo("--leads", "20", "--seed", "3")
    assert "loaded already" in again
    assert Lead.objects.count() == leads
    assert len(_printed_logins(again)) == 6


@pytest.mark.django_db
def test_the_demo_will_not_mix_with_real_users(users):
    # The `users` fixture created a real "admin"; the demo must not take it over.
    with pytest.raises(CommandError, match="admin"):
        _run_demo("--leads", "10")
    assert not Lead.objects.exists()


@pytest.mark.django_db
def test_the_same_seed_gives_the_same_people_and_outcomes():
    def snapshot() -> list[tuple[str, str, str, str]]:
        return sorted(
            Lead.objects.values_list("person__email", "product_interest", "stage", "source__name")
        )

    # The demo is anchored on the current minute: both runs see the same one (on a busy
    # machine the first run could end in the next minute, and a demo made a minute later
    # spreads its inquiries differently).
    at = clock.now().replace(second=30, microsecond=0)
    with transaction.atomic():
        sid = transaction.savepoint()
        with clock.frozen(at):
            _run_demo("--leads", "40", "--seed", "7")
        first = snapshot()
        transaction.savepoint_rollback(sid)
    assert not Lead.objects.exists()
    with clock.frozen(at):
        _run_demo("--leads", "40", "--seed", "7")
    assert snapshot() == first


def test_generated_inquiries_are_valid_except_the_deliberately_broken_ones():
    anchor = datetime(2026, 3, 2, 9, tzinfo=UTC)
    specs = generate_inquiries(seed=11, count=400, anchor=anchor, days=60)
    assert len(specs) == 400
    assert all(anchor - timedelta(days=60) <= s.at < anchor for s in specs)
    results = [normalize_inquiry(s.payload, default_country="US") for s in specs]
    broken = [s for s, r in zip(specs, results, strict=True) if not r.ok]
    assert 1 <= len(broken) <= 20
    assert all(s.path == "none" for s in broken)
    phones = [r.clean.person["phone"] for r in results if r.clean and r.clean.person["phone"]]
    assert len(phones) > 200  # most people leave a number, and every one of them is valid
    countries = Counter(r.clean.person["country"] for r in results if r.clean)
    assert {"US", "CA", "GB", "DE", "FR", "AU"} <= set(countries)
    # Nobody real can be reached: reserved domains only.
    assert all(r.clean.person["email"].endswith(".example") for r in results if r.clean)


@pytest.mark.django_db
def test_demo_touches_advance_the_cadence_so_the_lead_and_its_cadence_agree():
    from leadrefinery.cadences.models import Enrollment
    from leadrefinery.cadences.selectors import template_steps
    from leadrefinery.cadences.services import _step_action as step_action

    _run_demo("--leads", "80", "--seed", "3")
    running = list(
        Enrollment.objects.filter(status="active", lead__stage="working").select_related("lead")
    )
    assert running, "the demo has leads in a running cadence"
    advanced = 0
    for enrollment in running:
        lead = enrollment.lead
        steps = template_steps(enrollment.template_id)
        # The next action is the step the cadence has due: never a hand-written follow-up.
        assert lead.next_action == step_action(steps[enrollment.step_position - 1], len(steps))
        since_accepted = Touch.objects.filter(
            lead=lead, is_sales=True, occurred_at__gte=lead.accepted_at
        ).count()
        assert enrollment.steps_done == since_accepted  # every touch in sales was a step
        advanced += enrollment.steps_done > 0
    assert advanced, "some demo leads are partway through their cadence"
