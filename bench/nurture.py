"""Nurture benchmark: the dispatch sweep's cost does not grow with the number of people
enrolled, and how many nurture emails per second go to a local SMTP server.

1. **Sweep cost.** A two-step program. First 10,000 enrolled, all 10,000 due now: the sweep
   (``nurture_dispatch`` in rounds of 100, email to Django's in-memory backend so that only
   our own work is measured: claim, checks, render, record, schedule the next step) is timed.
   Then 990,000 more are enrolled whose next message is due next month, and 10,000 new ones
   are due now: the same sweep is timed again. Prints both, the ratio (target <= 1.5: the
   due rows are read through the partial index ``nurture_send_due``, never by scanning
   everyone) and the query plan of the claim.
2. **Sends per second** to a real SMTP server on loopback (aiosmtpd, in this process): the
   full sweep over N due rows, against a baseline measured in the same run: the same number of
   pre-built messages sent with ``smtplib`` over one connection.

Runs in a temporary data folder; with DATABASE_URL set, in a new PostgreSQL database on that
server (dropped afterwards). Exit status 1 when the ratio target is missed.

    .venv/bin/python bench/nurture.py [--enrolled 1000000] [--due 10000] [--smtp 2000]
"""

from __future__ import annotations

import argparse
import os
import smtplib
import socket
import sys
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import database_version, install, machine, table

TARGET_RATIO = 1.5
CHUNK = 20_000


def seed(start: int, count: int, *, due_at: datetime, program, steps) -> None:  # type: ignore[no-untyped-def]
    """``count`` people, each with a lead in nurture, an enrollment and the send row of step 1
    due at ``due_at`` (insert_rows: one multi-row INSERT per batch)."""
    from django.db import transaction

    from leadrefinery.common.db import insert_rows
    from leadrefinery.leads.models import Lead, Person, Queue, Source
    from leadrefinery.nurture.models import Enrollment, NurtureSend

    at = datetime.now(UTC) - timedelta(days=1)
    marketing = Queue.objects.get(slug="marketing").pk
    source = Source.objects.get_or_create(name="Bench")[0].pk
    for first in range(start, start + count, CHUNK):
        size = min(CHUNK, start + count - first)
        people = [
            Person(
                email=f"n{i}@bench{i % 997}.example",
                first_name=f"N{i}",
                country="US",
                created_at=at,
                updated_at=at,
            )
            for i in range(first, first + size)
        ]
        with transaction.atomic():
            insert_rows(Person, people)
            leads = [
                Lead(
                    person_id=p.pk,
                    stage="nurture",
                    owner_queue_id=marketing,
                    source_id=source,
                    next_action="Nurture",
                    next_action_due_at=at,
                    temperature="warm",
                    received_at=at,
                    created_at=at,
                    updated_at=at,
                    stage_changed_at=at,
                )
                for p in people
            ]
            insert_rows(Lead, leads)
            enrollments = [
                Enrollment(
                    program_id=program.pk,
                    lead_id=lead.pk,
                    person_id=lead.person_id,
                    status="active",
                    entry_reason="warm",
                    enrolled_at=at,
                    ended_at=None,
                    exit_reason="",
                )
                for lead in leads
            ]
            insert_rows(Enrollment, enrollments)
            insert_rows(
                NurtureSend,
                [
                    NurtureSend(
                        enrollment_id=e.pk,
                        step_id=steps[0].pk,
                        lead_id=e.lead_id,
                        person_id=e.person_id,
                        token=f"b{e.pk}",
                        status="scheduled",
                        send_after=due_at,
                        claim="",
                        attempts=0,
                        recipient="",
                        message_id="",
                        sent_at=None,
                        last_error="",
                        skip_reason="",
                        opens=0,
                        clicks=0,
                        first_opened_at=None,
                        first_clicked_at=None,
                        unsubscribed_at=None,
                        turned_hot_at=None,
                        created_at=at,
                    )
                    for e in enrollments
                ],
            )


def sweep(limit: int = 100) -> tuple[float, int, int]:
    """Run the dispatch in rounds until nothing is due; (seconds, rows handled, queries)."""
    from django.db import connection

    from leadrefinery.nurture.dispatch import nurture_dispatch

    queries = 0

    def count(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        nonlocal queries
        queries += 1
        return execute(sql, params, many, context)

    handled = 0
    started = time.perf_counter()
    with connection.execute_wrapper(count):
        while True:
            result = nurture_dispatch(limit=limit)
            handled += result.total
            if result.total == 0:
                break
    return time.perf_counter() - started, handled, queries


def claim_plan() -> str:
    from django.db import connection

    from leadrefinery.common.clock import now
    from leadrefinery.nurture.dispatch import due

    query = due(now()).order_by("send_after", "id").values("pk")[:100]
    sql, params = query.query.sql_with_params()
    prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
    with connection.cursor() as cursor:
        cursor.execute(prefix + sql, params)
        return " | ".join(" ".join(str(c) for c in row[-1:]) for row in cursor.fetchall())


def smtp_rates(count: int, program, steps) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Nurture sends per second to aiosmtpd, and raw smtplib sends per second (baseline)."""
    from aiosmtpd.controller import Controller
    from django.conf import settings

    from leadrefinery.nurture.models import NurtureSend

    class Sink:
        received = 0

        async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
            Sink.received += 1
            return "250 OK"

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        NurtureSend.objects.filter(status="scheduled").update(
            send_after=datetime.now(UTC) + timedelta(days=60)
        )
        base = NurtureSend.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        seed(
            10_000_000 + base,
            count,
            due_at=datetime.now(UTC) - timedelta(minutes=1),
            program=program,
            steps=steps,
        )
        seconds, handled, _ = sweep()
        nurture_rate = handled / seconds

        body = "Hello,\n\n" + "A useful tip about speed to lead. " * 20
        started = time.perf_counter()
        with smtplib.SMTP("127.0.0.1", port) as smtp:
            for i in range(count):
                msg = EmailMessage()
                msg["From"], msg["To"], msg["Subject"] = "a@example.com", f"r{i}@example.com", "Tip"
                msg.set_content(body)
                smtp.send_message(msg)
        raw_rate = count / (time.perf_counter() - started)
    finally:
        controller.stop()
    return nurture_rate, raw_rate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--enrolled", type=int, default=1_000_000, help="people enrolled (1M)")
    parser.add_argument("--due", type=int, default=10_000, help="rows due in each sweep (10k)")
    parser.add_argument("--smtp", type=int, default=2_000, help="emails for the SMTP rate (2k)")
    args = parser.parse_args(argv)

    installation = install("nurture")
    try:
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        from datetime import time as clock

        from leadrefinery.nurture import services

        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        settings.REFINERY_NURTURE_CAP = "10/7"
        messages = [
            services.message_create(
                name=f"Tip {n}",
                subject=f"Tip {n} for {{{{ first_name }}}}",
                body_markdown=f"Hello {{{{ first_name }}}},\n\nTip {n}: answer within the hour. "
                "[The study](https://example.com/study)\n\n" + "More useful text. " * 30,
            )
            for n in (1, 2)
        ]
        program = services.program_create(
            name="Bench",
            steps=[services.StepSpec(m.pk) for m in messages],
            entry_rules=["warm"],
            window_start=clock(0, 0),
            window_end=clock(23, 59, 59),
            window_weekdays=list(range(7)),
        )
        steps = list(program.steps.order_by("position"))
        now = datetime.now(UTC)
        due_at = now - timedelta(minutes=1)

        seed(0, args.due, due_at=due_at, program=program, steps=steps)
        small_seconds, small_rows, small_queries = sweep()

        started = time.perf_counter()
        seed(
            args.due,
            args.enrolled - 2 * args.due,
            due_at=now + timedelta(days=30),
            program=program,
            steps=steps,
        )
        seed(args.enrolled - args.due, args.due, due_at=due_at, program=program, steps=steps)
        seeded = time.perf_counter() - started
        from leadrefinery.nurture.models import Enrollment

        enrolled = Enrollment.objects.count()
        if installation.vendor == "sqlite":
            from django.db import connection

            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        big_seconds, big_rows, big_queries = sweep()
        plan = claim_plan()
        nurture_rate, raw_rate = smtp_rates(args.smtp, program, steps)
        versions = f"{machine()}, {database_version()}"
    finally:
        installation.cleanup()

    ratio = big_seconds / small_seconds
    print(f"\nNurture benchmark on {versions}")
    print(
        f"(seeding {args.enrolled - args.due:,} more took {seeded:.0f} s; load {os.getloadavg()[0]:.1f})\n"
    )
    print(
        table(
            [
                ("case", "enrolled", "rows handled", "seconds", "rows/s", "queries/row"),
                (
                    "small",
                    f"{args.due:,}",
                    f"{small_rows:,}",
                    f"{small_seconds:.2f}",
                    f"{small_rows / small_seconds:,.0f}",
                    f"{small_queries / max(small_rows, 1):.1f}",
                ),
                (
                    "large",
                    f"{enrolled:,}",
                    f"{big_rows:,}",
                    f"{big_seconds:.2f}",
                    f"{big_rows / big_seconds:,.0f}",
                    f"{big_queries / max(big_rows, 1):.1f}",
                ),
            ]
        )
    )
    print(f"\nsweep cost ratio large/small: {ratio:.2f} (target <= {TARGET_RATIO})")
    print(f"claim query plan: {plan}")
    print(
        f"\nSMTP to aiosmtpd on loopback: nurture {nurture_rate:,.0f} emails/s; raw smtplib "
        f"{raw_rate:,.0f} emails/s; ratio {nurture_rate / raw_rate:.2f}"
    )
    return 0 if ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
