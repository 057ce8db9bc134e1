"""Kill -9 a real worker process again and again during a 1,000-recipient send: every
recipient ends up with exactly one message (one distinct Message-ID), each row is sent once
in the database, and raw duplicate deliveries never exceed the number of kills (only a kill
between the SMTP server's reply and our commit can cause one; docs/nurture.md)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import time as clock_time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from leadrefinery.common.clock import now
from leadrefinery.leads.models import Lead, LeadEvent, Person, Queue, Source
from leadrefinery.nurture import services
from leadrefinery.nurture.models import NurtureSend
from leadrefinery.nurture.sweep import nurture_enroll

from .conftest import by_recipient

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
RECIPIENTS = 1000
MAX_KILLS = 8
RUNNER = Path(__file__).with_name("worker_proc.py")


def _nurtured_leads(n: int) -> None:
    at = now()
    source = Source.objects.get_or_create(name="Kill test")[0]
    marketing = Queue.objects.get(slug="marketing")
    people = Person.objects.bulk_create(
        Person(
            email=f"r{i:04d}@example.com",
            first_name=f"R{i}",
            country="US",
            created_at=at,
            updated_at=at,
        )
        for i in range(n)
    )
    Lead.objects.bulk_create(
        Lead(
            person=p,
            stage="nurture",
            owner_queue=marketing,
            source=source,
            received_at=at,
            created_at=at,
            updated_at=at,
            stage_changed_at=at,
            next_action="Nurture",
            next_action_due_at=at,
        )
        for p in people
    )


def _sent() -> int:
    return NurtureSend.objects.filter(status="sent").count()


def _killed_mid_send(proc: subprocess.Popen[bytes], after: int) -> bool:
    """Kill -9 the worker once it has sent ``after`` more messages (so that the kill lands in
    the middle of a batch however fast the machine is); False when it finished first."""
    target = _sent() + after
    limit = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < limit:
        if _sent() >= target:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            return True
        time.sleep(0.005)
    return False


def test_kill_9_during_a_1000_recipient_send_delivers_exactly_one_each(
    smtp_server, transactional_db
):
    message = services.message_create(
        name="Kill test", subject="One tip", body_markdown="Hello {{ first_name }}."
    )
    services.program_create(
        name="Everyone, any time",
        steps=[services.StepSpec(message.pk)],
        entry_rules=["new_inquiry"],
        window_start=clock_time(0, 0),
        window_end=clock_time(23, 59, 59),
        window_weekdays=[0, 1, 2, 3, 4, 5, 6],
    )
    _nurtured_leads(RECIPIENTS)
    assert nurture_enroll(limit=RECIPIENTS * 2) == RECIPIENTS

    env = dict(
        os.environ,
        REFINERY_SMTP_HOST="127.0.0.1",
        REFINERY_SMTP_PORT=str(settings.EMAIL_PORT),  # the smtp_server fixture's port
        PYTHONUNBUFFERED="1",
    )
    command = [
        sys.executable,
        str(RUNNER),
        str(connection.settings_dict["NAME"]),
        "--all",
        "--no-enroll",
        "--limit",
        "20",
        "--lease-seconds",
        "1",
    ]
    rng = random.Random(20261123)
    kills = runs = 0
    deadline = time.monotonic() + 300
    while NurtureSend.objects.exclude(status="sent").exists():
        assert time.monotonic() < deadline, "the send did not finish"
        runs += 1
        proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if kills < MAX_KILLS and _killed_mid_send(proc, rng.randint(1, 60)):
            kills += 1
            continue
        _, stderr = proc.communicate(timeout=240)
        assert proc.returncode == 0, stderr.decode()[-2000:]
        time.sleep(1.2)  # rows a killed run left in `sending` come back when the lease ends

    assert kills >= 3, "the workers finished before they could be killed; raise RECIPIENTS"
    received = by_recipient(smtp_server)
    rows = {r.recipient: r for r in NurtureSend.objects.all()}
    assert len(rows) == RECIPIENTS and all(r.status == "sent" for r in rows.values())
    assert set(received) == set(rows), "no recipient missed, nobody else emailed"
    for address, messages in received.items():
        assert {m["Message-ID"] for m in messages} == {rows[address].message_id}
    raw = sum(len(m) for m in received.values())
    assert raw - RECIPIENTS <= kills
    # Each row recorded as sent once: one timeline event per lead.
    assert LeadEvent.objects.filter(kind="nurture", reason="sent").count() == RECIPIENTS
    print(f"\n{runs} runs, {kills} kills, {raw - RECIPIENTS} raw duplicate deliveries")
