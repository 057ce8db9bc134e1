"""Cadence sweep benchmark: 1,000 due steps among 10,000 enrolled leads, then among 1,000,000.

The sweep reads due enrollments through the index on ``next_step_due_at`` and claims each with
a conditional UPDATE, so its cost should follow the number of *due* rows, not the number of
enrolled ones. In one run, on one database:

1. Seeds two databases: 10,000 working leads with a running cadence, and N (default
   1,000,000; lead rows copied in SQL, enrollments written with executemany).
2. Alternately, for a few rounds, makes 1,000 enrollments of each overdue and times
   ``cadence_sweep()`` (each due row: claim, tell the owner through the outbox), so that
   other work on the machine weighs on both sides alike.
3. Prints both median times, the ratio (target: at most 2x), and the due-row read's plan.

Runs in a temporary data folder; with DATABASE_URL set, in a new PostgreSQL database on that
server (dropped afterwards). Exit status 1 when the ratio is missed.

    .venv/bin/python bench/cadence_sweep.py [--enrolled 1000000] [--due 1000]
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

from _common import database_version, install, machine, table

SMALL = 10_000
TARGET_RATIO = 2.0
CHUNK = 50_000


def seed_first_lead() -> tuple[int, int]:
    """One rep and one working lead made through the real services; returns (lead, template)."""
    from leadrefinery.accounts.services import user_create
    from leadrefinery.cadences.models import CadenceTemplate
    from leadrefinery.intake.services import intake_process, intake_receive
    from leadrefinery.leads.actors import Actor
    from leadrefinery.leads.models import Lead, Source
    from leadrefinery.leads.services import lead_assign, lead_transition

    rep = user_create(username="rep", role="rep", email="rep@example.com")
    record, _ = intake_receive(
        channel="api",
        payload={"email": "first@example.com", "first_name": "Pat", "company": "Bench"},
        source=Source.objects.get(name="API"),
    )
    lead = Lead.objects.get(pk=intake_process(record).lead_id)
    system = Actor.system("bench")
    lead = lead_assign(lead=lead, owner_user=rep, actor=system)
    lead = lead_transition(lead=lead, to_stage="sales_ready", actor=system)
    lead_transition(lead=lead, to_stage="working", actor=system)  # enrolls it
    return lead.pk, CadenceTemplate.objects.get(is_default=True).pk


def copy_leads(template_id: int, count: int) -> None:
    """``count`` copies of one lead row, made by the database itself."""
    from django.db import connection

    from leadrefinery.leads.models import Lead

    columns = [f.column for f in Lead._meta.concrete_fields if not f.primary_key]
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cur:
        cur.execute(
            f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %s) "
            f"INSERT INTO leads_lead ({names}) SELECT {names} FROM leads_lead, n WHERE id = %s",
            [count, template_id],
        )


def enroll_all(cadence_id: int, at: datetime) -> int:
    """A running enrollment for every lead without one (executemany in chunks), its next step
    spread over the next three weeks: nothing due yet."""
    from django.db import connection, transaction

    ops = connection.ops
    with connection.cursor() as cur:
        cur.execute("SELECT MAX(lead_id) FROM cadences_enrollment")
        enrolled_up_to = cur.fetchone()[0] or 0
        cur.execute("SELECT id FROM leads_lead WHERE id > %s ORDER BY id", [enrolled_up_to])
        ids = [row[0] for row in cur.fetchall()]
    sql = (
        "INSERT INTO cadences_enrollment (lead_id, template_id, status, step_position, "
        "step_due_at, next_step_due_at, started_at, steps_done, contacted, end_reason, "
        "thread_message_ids) VALUES (%s, %s, 'active', 1, %s, %s, %s, 0, %s, '', '[]')"
    )
    started = ops.adapt_datetimefield_value(at)
    for start in range(0, len(ids), CHUNK):
        rows = []
        for i, lead_id in enumerate(ids[start : start + CHUNK], start=start):
            due = at + timedelta(minutes=5 + (i * 37) % (21 * 24 * 60))
            value = ops.adapt_datetimefield_value(due)
            rows.append((lead_id, cadence_id, value, value, started, False))
        with transaction.atomic(), connection.cursor() as cur:
            cur.executemany(sql, rows)
    return len(ids)


def make_due(count: int, at: datetime) -> None:
    """``count`` enrollments spread over the table whose next step became overdue."""
    from leadrefinery.cadences.models import Enrollment

    waiting = list(
        Enrollment.objects.filter(next_step_due_at__isnull=False)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    ids = waiting[:: max(1, len(waiting) // count)][:count]
    Enrollment.objects.filter(pk__in=ids).update(
        next_step_due_at=at - timedelta(minutes=30), step_due_at=at - timedelta(hours=5)
    )


def settle() -> None:
    """Statistics up to date, and the seeding's writes flushed to disk, so that the timed sweep
    does not pay for the seeding (the first checkpoint after a million inserts would)."""
    from django.db import connection

    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("ANALYZE")
            cur.execute("CHECKPOINT")
        else:
            cur.execute("PRAGMA optimize")
            cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    os.sync()


def timed_sweep(at: datetime) -> tuple[float, int]:
    from leadrefinery.cadences.sweep import cadence_sweep

    started = time.perf_counter()
    done = cadence_sweep(at=at)
    return time.perf_counter() - started, done


def due_query_plan(at: datetime) -> str:
    from django.db import connection

    from leadrefinery.cadences.models import Enrollment

    qs = Enrollment.objects.filter(next_step_due_at__lte=at).order_by("next_step_due_at", "pk")
    sql, params = qs.values_list("next_step_due_at", "pk")[:500].query.sql_with_params()
    prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
    with connection.cursor() as cur:
        cur.execute(prefix + sql, params)
        return "; ".join(str(row[-1]) for row in cur.fetchall())


def use_database(name: str) -> None:
    """Point the default connection at another database of this installation."""
    from django.db import connection

    connection.close()
    connection.settings_dict["NAME"] = name


def second_database(installation) -> str:  # type: ignore[no-untyped-def]
    """A second, empty database next to the installation's (the small table lives there)."""
    if installation.database_url is None:
        return str(installation.home / "small.sqlite3")
    import psycopg

    name = f"{installation._database}_small"
    with psycopg.connect(installation._admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name


def drop_second(installation, name: str) -> None:  # type: ignore[no-untyped-def]
    if installation.database_url is None:
        return
    import psycopg

    with psycopg.connect(installation._admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def build(count: int, at: datetime) -> tuple[int, float]:
    """Migrate the current database and fill it with ``count`` enrolled leads."""
    from django.core.management import call_command

    from leadrefinery.cadences.models import Enrollment

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    lead_id, cadence_id = seed_first_lead()
    copy_leads(lead_id, count - 1)
    enroll_all(cadence_id, at)
    settle()
    return Enrollment.objects.count(), time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--enrolled", type=int, default=1_000_000, help="large table (1000000)")
    parser.add_argument("--due", type=int, default=1000, help="due rows per sweep (1000)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (3)")
    args = parser.parse_args(argv)

    load_before = os.getloadavg()[0]
    installation = install("cadence")
    small_name = ""
    try:
        import django

        django.setup()
        from django.db import connection

        at = datetime.now(UTC)
        large_name = connection.settings_dict["NAME"]
        large_rows, large_seed = build(args.enrolled, at)
        small_name = second_database(installation)
        use_database(small_name)
        small_rows, small_seed = build(SMALL, at)
        # Alternate between the two tables, so that other work on the machine weighs on both
        # sides alike; each round makes ``due`` other rows due and sweeps them.
        times: dict[str, list[float]] = {"small": [], "large": []}
        handled: dict[str, list[int]] = {"small": [], "large": []}
        plans: dict[str, str] = {}
        for _ in range(args.rounds):
            for side, name in (("small", small_name), ("large", large_name)):
                use_database(name)
                make_due(args.due, at)
                plans[side] = due_query_plan(at)
                seconds, done = timed_sweep(at)
                times[side].append(seconds)
                handled[side].append(done)
        db = database_version()
    finally:
        if small_name:
            drop_second(installation, small_name)
        installation.cleanup()

    small_time = statistics.median(times["small"])
    large_time = statistics.median(times["large"])
    ratio = large_time / small_time
    all_done = all(n == args.due for n in handled["small"] + handled["large"])
    ok = ratio <= TARGET_RATIO and all_done
    print(f"Lead Refinery cadence sweep benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"Machine:  {machine()}")
    print(
        f"Load average (1 min) at start / end: {load_before:.1f} / {os.getloadavg()[0]:.1f} "
        "(other work on the machine slows both sides of the comparison)"
    )
    print(f"Database: {db}")
    print(
        f"Seeded {large_rows:,} enrolled leads in {large_seed:.1f} s and {small_rows:,} in "
        f"{small_seed:.1f} s (two databases, swept alternately, {args.rounds} rounds)"
    )
    print()
    rows = [("Enrolled leads", "due", "handled", "sweep s (median)", "each round s", "ms/due row")]
    for side, count in (("small", small_rows), ("large", large_rows)):
        median = statistics.median(times[side])
        rows.append(
            (
                f"{count:,}",
                f"{args.due:,}",
                "/".join(str(n) for n in handled[side]),
                f"{median:.2f}",
                " ".join(f"{t:.2f}" for t in times[side]),
                f"{median * 1000 / args.due:.2f}",
            )
        )
    print(table(rows))
    print()
    print(
        f"Ratio large / small: {ratio:.2f} (target <= {TARGET_RATIO:.1f}): "
        f"{'ok' if ok else 'MISSED'}"
    )
    print(f"Due-row read plan ({small_rows:,}): {plans['small']}")
    print(f"Due-row read plan ({large_rows:,}): {plans['large']}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
