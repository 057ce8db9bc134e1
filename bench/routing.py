"""Routing benchmark: intake-to-assigned latency over HTTP with a large database and 50 reps.

1. Seeds a fresh database with N leads (default 1,000,000) and their people (with the match
   keys intake stores, so dedupe meets them as it would in production), written with
   ``common.db.insert_rows`` (one multi-row INSERT per batch), and a sales org of 50 reps in
   5 teams with routing rules (country -> team, round robin; the seeded fallback to the
   unassigned queue). Stages are spread as in a real pipeline; about 1 lead in 8 is open and
   owned by a rep, so every routing decision counts real open-lead loads.
2. Starts the real app under gunicorn and sends sequential requests, alternating between
   ``POST /api/v1/inquiries`` (the full intake, now with routing: rules, candidates, counters,
   the SLA clock, the outbox) and the Foundation benchmark's ``POST /bench/bare-insert``, in
   the same run (``bench/intake.py``'s HTTP driver). Prints p50/p90/p99 of both.
   Targets: intake p99 <= 50 ms and <= 10x the bare insert's p99.

Runs in a temporary data folder; with DATABASE_URL set, in a new PostgreSQL database on that
server (dropped afterwards). Exit status 1 when a target is missed.

    .venv/bin/python bench/routing.py [--leads 1000000] [--requests 2000]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import database_version, install, machine, percentile, table
from intake import GUNICORN_THREADS, WARMUP_REQUESTS, _ms, bench_http

TARGET_P99_MS = 50.0
TARGET_P99_RATIO = 10.0
TEAMS = {  # team -> the countries its rule matches (ISO codes, as intake normalizes them)
    "North America": ["US"],
    "Canada and Pacific": ["CA", "AU", "NZ"],
    "UK and Ireland": ["GB", "IE"],
    "DACH": ["DE", "AT", "CH"],
    "Southern Europe": ["FR", "ES", "IT", "PT"],
}
REPS_PER_TEAM = 10
CHUNK = 20_000
STAGES = {  # share of leads per stage, as in a pipeline that has run for two years
    "inquiry": 3,
    "nurture": 22,
    "qualifying": 5,
    "sales_ready": 2,
    "working": 8,
    "opportunity": 3,
    "won": 9,
    "lost": 24,
    "disqualified": 24,
}


def seed_org() -> list[int]:
    """5 teams of 10 reps, available around the clock (the bench may run at any hour), and one
    round-robin rule per team; returns the reps' ids."""
    from leadrefinery.accounts.models import Team
    from leadrefinery.accounts.services import user_create
    from leadrefinery.routing.models import RoutingRule

    always = {str(day): [["00:00", "23:59"]] for day in range(7)}
    at = datetime.now(UTC)
    rep_ids = []
    for order, (name, countries) in enumerate(TEAMS.items(), start=1):
        team = Team.objects.create(name=name)
        for i in range(REPS_PER_TEAM):
            rep = user_create(
                username=f"rep{order}{i:02d}",
                role="rep",
                team=team,
                email=f"rep{order}{i:02d}@example.com",
            )
            rep.working_hours = always
            rep.save(update_fields=["working_hours"])
            rep_ids.append(rep.pk)
        rule = RoutingRule(
            name=f"{name} by country",
            order=order * 10,
            conditions=[{"field": "country", "op": "in", "value": countries}],
            target_kind="team",
            target_team=team,
            method="round_robin",
            created_at=at,
            updated_at=at,
        )
        rule.full_clean()
        rule.save()
    return rep_ids


def seed_leads(count: int, rep_ids: list[int], rng: random.Random) -> list[str]:
    """``count`` people with one lead each; returns a sample of their emails."""
    from django.db import transaction

    from leadrefinery.common.db import insert_rows
    from leadrefinery.dedupe.keys import apply_keys
    from leadrefinery.demo.data import FIRST_NAMES, LAST_NAMES
    from leadrefinery.leads.models import DispositionReason, Lead, Person, Queue, Source

    anchor = datetime.now(UTC)
    queues = {q.slug: q.pk for q in Queue.objects.all()}
    sources = [
        Source.objects.get_or_create(name=name, defaults={"channel": channel})[0].pk
        for name, channel in (
            ("Website", "web_form"),
            ("API", "api"),
            ("Trade shows", "trade_show"),
            ("Purchased lists", "list_purchase"),
        )
    ]
    reasons: dict[str, list[str]] = {}
    for r in DispositionReason.objects.filter(system_only=False):
        reasons.setdefault(r.stage, []).append(r.code)
    stage_names, stage_weights = list(STAGES), list(STAGES.values())
    countries = [c for codes in TEAMS.values() for c in codes] + ["BR", "JP", "IN"]
    products = ["Fleet Tracking", "Warehouse Management", "Route Planning"]
    first_names, last_names = FIRST_NAMES["en"], LAST_NAMES["en"]
    sample: list[str] = []
    for start in range(0, count, CHUNK):
        size = min(CHUNK, count - start)
        people, leads = [], []
        for i in range(start, start + size):
            received = anchor - timedelta(minutes=rng.randrange(2 * 365 * 24 * 60))
            email = f"buyer{i}@company{i % 50_000}.example"
            if len(sample) < 2000 and rng.random() < 0.01:
                sample.append(email)
            people.append(
                Person(
                    email=email,
                    first_name=rng.choice(first_names),
                    last_name=rng.choice(last_names),
                    company_name=f"Company {i % 50_000}",
                    country=rng.choice(countries),
                    created_at=received,
                    updated_at=received,
                )
            )
            apply_keys(people[-1])  # the match keys intake stores, so dedupe finds them
        for person in people:
            stage = rng.choices(stage_names, stage_weights)[0]
            received = person.created_at
            closed = stage in ("won", "lost", "disqualified")
            sales = stage in ("sales_ready", "working", "opportunity", "won", "lost")
            leads.append(
                Lead(
                    person=person,
                    stage=stage,
                    owner_user_id=rng.choice(rep_ids) if sales else None,
                    owner_queue_id=None
                    if sales or stage == "disqualified"
                    else queues["marketing" if stage == "nurture" else "unassigned"],
                    next_action="" if closed else "Follow up",
                    next_action_due_at=None if closed else received + timedelta(days=2),
                    source_id=rng.choice(sources),
                    product_interest=rng.choice(products),
                    disposition_id=rng.choice(reasons[stage]) if closed else None,
                    disposed_at=received + timedelta(days=20) if closed else None,
                    received_at=received,
                    created_at=received,
                    updated_at=received,
                    stage_changed_at=received,
                    assigned_at=received,
                )
            )
        with transaction.atomic():
            insert_rows(Person, people)
            for person, lead in zip(people, leads, strict=True):
                lead.person_id = person.pk
            insert_rows(Lead, leads)
    return sample


def assigned_share(since: datetime) -> tuple[int, int]:
    """Of the leads made by the timed intake, how many a rep owns (routed by a team rule)."""
    from leadrefinery.leads.models import Lead

    made = Lead.objects.filter(created_at__gte=since)
    return made.filter(owner_user__isnull=False).count(), made.count()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=1_000_000, help="leads to seed (1000000)")
    parser.add_argument(
        "--requests", type=int, default=2000, help="timed requests per endpoint (2000)"
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed (1)")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)

    load_before = os.getloadavg()[0]
    installation = install("routing")
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        rep_ids = seed_org()
        known = seed_leads(args.leads, rep_ids, rng)
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("ANALYZE")
        else:
            with connection.cursor() as cur:
                cur.execute("PRAGMA optimize")
        seed_seconds = time.perf_counter() - started
        db = database_version()
        http_started = datetime.now(UTC)
        latencies = bench_http(installation, args.requests, rng, known)
        routed, made = assigned_share(http_started)
    finally:
        installation.cleanup()

    bare_p50, bare_p99 = percentile(latencies.bare, 50), percentile(latencies.bare, 99)
    in_p50, in_p99 = percentile(latencies.intake, 50), percentile(latencies.intake, 99)
    ratio = in_p99 / bare_p99
    absolute_ok = in_p99 * 1000 <= TARGET_P99_MS
    ratio_ok = ratio <= TARGET_P99_RATIO
    ok = absolute_ok and ratio_ok and not latencies.errors

    print(f"Lead Refinery routing benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"Machine:  {machine()}")
    print(
        f"Load average (1 min) at start / end: {load_before:.1f} / {os.getloadavg()[0]:.1f} "
        "(other work on the machine slows both sides of each comparison)"
    )
    print(f"Database: {db}")
    print(
        f"Seeded {args.leads:,} leads with their people, {len(rep_ids)} reps in {len(TEAMS)} "
        f"teams and {len(TEAMS)} routing rules + the fallback in {seed_seconds:.1f} s"
    )
    print()
    print(
        f"Intake with routing over HTTP: gunicorn, 1 worker process x {GUNICORN_THREADS} "
        f"threads; {args.requests:,} sequential requests per endpoint on one keep-alive "
        f"connection, alternating, after {WARMUP_REQUESTS} warm-up requests each"
    )
    print(
        table(
            [
                ("Endpoint", "p50 ms", "p90 ms", "p99 ms"),
                (
                    "POST /bench/bare-insert (1 INSERT)",
                    _ms(bare_p50),
                    _ms(percentile(latencies.bare, 90)),
                    _ms(bare_p99),
                ),
                (
                    "POST /api/v1/inquiries (intake + routing)",
                    _ms(in_p50),
                    _ms(percentile(latencies.intake, 90)),
                    _ms(in_p99),
                ),
            ]
        )
    )
    print(
        f"New leads given to a rep in the same request: {routed:,} of {made:,} "
        "(the rest matched no team's countries and went to the unassigned queue)"
    )
    print(
        f"Intake p99 = {in_p99 * 1000:.1f} ms; target <= {TARGET_P99_MS:.0f} ms: "
        f"{'PASS' if absolute_ok else 'FAIL'}"
    )
    print(
        f"Intake p99 / bare p99 = {ratio:.1f}x (p50: {in_p50 / bare_p50:.1f}x); "
        f"target <= {TARGET_P99_RATIO:.0f}x: {'PASS' if ratio_ok else 'FAIL'}"
    )
    for error in latencies.errors[:5]:
        print(f"  unexpected answer: {error}")
    return 0 if ok else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
