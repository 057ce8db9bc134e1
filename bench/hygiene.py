"""Hygiene sweep and review agenda benchmark.

1. The flag sweep: the same number of changed leads (default 1,000) among 10,000 leads, then
   among 1,000,000. The sweep reads only due rows (an index on ``due_at``) and looks at owners,
   queues and duplicate pairs with set-based queries, so its cost should follow the changed
   leads, not the table. Target: large / small at most 2x (median of alternating rounds).
2. The review agenda of a 10-rep team with 2,000 open leads, rendered as the page a manager
   opens (``GET /review/<id>/`` through Django's test client, logged in): p95 over the runs.
   Target: under 300 ms.

Runs in a temporary data folder; with DATABASE_URL set, in new PostgreSQL databases on that
server (dropped afterwards). Exit status 1 when a target is missed.

    .venv/bin/python bench/hygiene.py [--leads 1000000] [--changed 1000] [--agenda 2000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import database_version, install, machine, percentile, table
from cadence_sweep import (
    copy_leads,
    drop_second,
    second_database,
    seed_first_lead,
    settle,
    use_database,
)

SMALL = 10_000
TARGET_RATIO = 2.0
TARGET_AGENDA_MS = 300.0
CHUNK = 50_000


def take_in_all(at: datetime) -> None:
    """A hygiene row for every lead, next checked in a week (nothing due), and the sweep's
    cursor past the last lead: the state of a database the sweep has kept up with."""
    from django.db import connection, transaction

    from leadrefinery.review.models import SweepCursor

    due = connection.ops.adapt_datetimefield_value(at + timedelta(days=7))
    with connection.cursor() as cur:
        cur.execute("SELECT id FROM leads_lead ORDER BY id")
        ids = [row[0] for row in cur.fetchall()]
    sql = "INSERT INTO review_leadhygiene (lead_id, due_at, checked_at) VALUES (%s, %s, NULL)"
    for start in range(0, len(ids), CHUNK):
        with transaction.atomic(), connection.cursor() as cur:
            cur.executemany(sql, [(pk, due) for pk in ids[start : start + CHUNK]])
    SweepCursor.objects.update_or_create(name="hygiene", defaults={"last_id": ids[-1]})


def build(count: int, at: datetime) -> tuple[int, float]:
    from django.core.management import call_command

    from leadrefinery.leads.models import Lead

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    first, _ = seed_first_lead()  # a working lead of a rep, copied below
    copy_leads(first, count - 1)
    take_in_all(at)
    settle()
    return Lead.objects.count(), time.perf_counter() - started


def make_changed(count: int, at: datetime, round_no: int) -> None:
    """``count`` leads spread over the table that something changed (as the registry's
    subscriber marks them)."""
    from django.db import connection

    from leadrefinery.review.sweep import mark_due

    with connection.cursor() as cur:
        cur.execute("SELECT MAX(id) FROM leads_lead")
        top = cur.fetchone()[0]
    step = max(1, top // count)
    mark_due([1 + (i * step + round_no) % top for i in range(count)], at)


def timed_sweep(at: datetime) -> tuple[float, int]:
    from leadrefinery.review.sweep import hygiene_sweep

    started = time.perf_counter()
    done = hygiene_sweep(at=at)
    return time.perf_counter() - started, done


def agenda_team(leads: int, at: datetime) -> int:
    """A team of 10 reps with a manager; ``leads`` open leads spread over the reps, some
    overdue; this week's review opened. Returns the review id."""
    from django.db import connection

    from leadrefinery.accounts.models import Team
    from leadrefinery.accounts.services import user_create
    from leadrefinery.review.services import review_open
    from leadrefinery.review.sweep import flags_refresh

    team = Team.objects.create(name="Agenda")
    manager = user_create(username="agenda-manager", role="manager", password="bench-pw", team=team)
    team.manager = manager
    team.save()
    reps = [user_create(username=f"agenda-rep{i}", role="rep", team=team) for i in range(10)]
    with connection.cursor() as cur:
        cur.execute("SELECT id FROM leads_lead ORDER BY id DESC LIMIT %s", [leads])
        ids = [row[0] for row in cur.fetchall()]
    from leadrefinery.leads.models import Lead

    for i, rep in enumerate(reps):
        mine = ids[i::10]
        Lead.objects.filter(pk__in=mine).update(
            owner_user=rep, next_action_due_at=at - timedelta(days=1 + i % 3)
        )
        flags_refresh(mine[: len(mine) // 2], at=at)
    return review_open(team=team, actor=manager).pk


def time_agenda(review_id: int, runs: int) -> list[float]:
    from django.test import Client

    client = Client()
    assert client.login(username="agenda-manager", password="bench-pw")
    times = []
    for _ in range(runs + 2):
        started = time.perf_counter()
        response = client.get(f"/review/{review_id}/")
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
    return times[2:]  # the first two warm the caches


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=1_000_000, help="large table (1000000)")
    parser.add_argument("--changed", type=int, default=1000, help="changed leads per sweep")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (3)")
    parser.add_argument("--agenda", type=int, default=2000, help="open leads of the team")
    parser.add_argument("--agenda-runs", type=int, default=20, help="page loads timed")
    args = parser.parse_args(argv)

    load_before = os.getloadavg()[0]
    installation = install("hygiene")
    small_name = ""
    try:
        import django

        django.setup()
        from django.conf import settings
        from django.db import connection

        settings.ALLOWED_HOSTS = ["*"]
        at = datetime.now(UTC)
        large_name = connection.settings_dict["NAME"]
        large_rows, large_seed = build(args.leads, at)
        small_name = second_database(installation)
        use_database(small_name)
        small_rows, small_seed = build(SMALL, at)
        times: dict[str, list[float]] = {"small": [], "large": []}
        handled: dict[str, list[int]] = {"small": [], "large": []}
        for round_no in range(args.rounds):
            for side, name in (("small", small_name), ("large", large_name)):
                use_database(name)
                make_changed(args.changed, at, round_no)
                seconds, done = timed_sweep(at)
                times[side].append(seconds)
                handled[side].append(done)
        use_database(large_name)
        review_id = agenda_team(args.agenda, at)
        agenda_ms = time_agenda(review_id, args.agenda_runs)
        db = database_version()
    finally:
        if small_name:
            drop_second(installation, small_name)
        installation.cleanup()

    small_time = statistics.median(times["small"])
    large_time = statistics.median(times["large"])
    ratio = large_time / small_time
    p95 = percentile(agenda_ms, 95)
    all_done = all(n == args.changed for n in handled["small"] + handled["large"])
    ok = ratio <= TARGET_RATIO and all_done and p95 < TARGET_AGENDA_MS
    print(f"Lead Refinery hygiene benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"Machine:  {machine()}")
    print(f"Load average (1 min) at start / end: {load_before:.1f} / {os.getloadavg()[0]:.1f}")
    print(f"Database: {db}")
    print(
        f"Seeded {large_rows:,} leads in {large_seed:.1f} s and {small_rows:,} in "
        f"{small_seed:.1f} s (two databases, swept alternately, {args.rounds} rounds)"
    )
    print()
    rows = [("Leads", "changed", "checked", "sweep s (median)", "each round s")]
    for side, count in (("small", small_rows), ("large", large_rows)):
        rows.append(
            (
                f"{count:,}",
                f"{args.changed:,}",
                "/".join(str(n) for n in handled[side]),
                f"{statistics.median(times[side]):.3f}",
                " ".join(f"{t:.3f}" for t in times[side]),
            )
        )
    print(table(rows))
    print()
    print(
        f"Sweep ratio large / small: {ratio:.2f} (target <= {TARGET_RATIO:.1f}): "
        f"{'ok' if ratio <= TARGET_RATIO and all_done else 'MISSED'}"
    )
    print(
        f"Review agenda page, 10 reps, {args.agenda:,} open leads, among {large_rows:,}: "
        f"p50 {percentile(agenda_ms, 50):.0f} ms, p95 {p95:.0f} ms "
        f"(target < {TARGET_AGENDA_MS:.0f} ms): {'ok' if p95 < TARGET_AGENDA_MS else 'MISSED'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
