"""More than one machine, exercised: two `refinery serve --no-worker` web processes and two
`refinery worker`s against one PostgreSQL and one Redis (the job broker when REDIS_URL is
set). 2,000 API inquiries (with double submits) are spread over both web processes while
the sweeps run, one worker is killed with SIGKILL mid-run (its whole process group, as a
machine that dies), and afterwards every inquiry is stored once, every person and lead
exists once, every email went out with one Message-ID per outbox row, and `refinery check`
is clean. Runs where DATABASE_URL is PostgreSQL and Redis answers (CI starts it)."""

from __future__ import annotations

import email
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import urllib.request
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_serve_worker import (
    _django,
    _free_port,
    _get,
    _kill_leftovers,
    _wait_for,
    _with_database,
)

INQUIRIES = 2000


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="runs on PostgreSQL (several machines share one database)",
    ),
    pytest.mark.skipif(not _redis_up(), reason="needs Redis on 127.0.0.1:6379"),
]


class _Sink:
    """A real SMTP server on loopback that keeps each message's Message-ID."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content)
        with self.lock:
            self.ids.append(str(message["Message-ID"]))
        return "250 OK"


def _start(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen:
    with log.open("w") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "leadrefinery", *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: killed as a machine dies
        )


def _post(url: str, token: str, body: dict, key: str) -> int:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Idempotency-Key": key,
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


STATE = """
import json
from django.db.models import Count
from leadrefinery.leads.models import IntakeRecord, Lead, Person
from leadrefinery.notifications.models import OutboxMessage
from leadrefinery.notifications.dispatch import message_id
load = IntakeRecord.objects.filter(idempotency_key__startswith="load-")
emails = OutboxMessage.objects.filter(kind="email")
print(json.dumps({
    "records": load.count(),
    "keys": load.values("idempotency_key").distinct().count(),
    "unprocessed": IntakeRecord.objects.filter(status__in=["received", "failed"]).count(),
    "people": Person.objects.filter(email__endswith="@load.example").count(),
    "leads": Lead.objects.filter(person__email__endswith="@load.example").count(),
    "outbox_waiting": OutboxMessage.objects.exclude(status__in=["sent", "dead"]).count(),
    "emails_dead": emails.filter(status="dead").count(),
    "message_ids": sorted(message_id(m) for m in emails.filter(status="sent")),
}))
"""


def _state(env: dict[str, str]) -> dict:
    return json.loads(_django(env, STATE).splitlines()[-1])


def test_two_web_processes_and_two_workers_lose_nothing_and_send_once(tmp_path):
    from aiosmtpd.controller import Controller

    base_url = os.environ["DATABASE_URL"]
    name = f"refinery_many_{uuid.uuid4().hex[:12]}"
    admin_url = _with_database(base_url, "postgres")
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    sink = _Sink()
    smtp_port = _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    redis_db = 1 + uuid.uuid4().int % 15
    home = tmp_path / "home"
    env = dict(
        os.environ,
        REFINERY_HOME=str(home),
        DATABASE_URL=_with_database(base_url, name),
        REDIS_URL=f"redis://127.0.0.1:6379/{redis_db}",
        REFINERY_SMTP_HOST="127.0.0.1",
        REFINERY_SMTP_PORT=str(smtp_port),
        REFINERY_OUTBOX_LEASE_SECONDS="20",
        REFINERY_WORKERS="1",
        PYTHONUNBUFFERED="1",
    )
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("REFINERY_DEBUG", None)
    procs: list[subprocess.Popen] = []
    try:
        import redis

        redis.Redis.from_url(env["REDIS_URL"]).flushdb()
        for args in (("migrate", "--no-input"), ("demo",)):
            done = subprocess.run(
                [sys.executable, "-m", "leadrefinery", *args],
                env=env, capture_output=True, text=True, timeout=600,
            )  # fmt: skip
            assert done.returncode == 0, done.stderr[-2000:]
        token = _django(
            env,
            "from leadrefinery.accounts.models import User\n"
            "from leadrefinery.accounts.services import token_create\n"
            "print(token_create(user=User.objects.get(username='admin'), "
            "scopes=['inquiries:write']).secret)",
        ).splitlines()[-1]
        ports = [_free_port(), _free_port()]
        for i, port in enumerate(ports):
            procs.append(
                _start(env, tmp_path / f"web{i}.log", "serve", "--no-worker", "--port",
                       str(port), "--workers", "1")
            )  # fmt: skip
        workers = [_start(env, tmp_path / f"worker{i}.log", "worker") for i in range(2)]
        procs += workers
        for port in ports:
            _wait_for(lambda p=port: _get(f"http://127.0.0.1:{p}/healthz"), 120, "a web process")

        sent = Counter()
        killed = threading.Event()

        def send(i: int) -> None:
            body = {"email": f"buyer{i}@load.example", "first_name": "Pat",
                    "last_name": f"Load{i}", "company": f"Load {i % 97}"}  # fmt: skip
            port = ports[i % 2]
            url = f"http://127.0.0.1:{port}/api/v1/inquiries"
            status = _post(url, token, body, f"load-{i}")
            sent[status] += 1
            if i % 50 == 0:  # a double submit, to the other web process
                again = _post(f"http://127.0.0.1:{ports[(i + 1) % 2]}/api/v1/inquiries", token,
                              body, f"load-{i}")  # fmt: skip
                sent[again] += 1
            if i == INQUIRIES * 2 // 5 and not killed.is_set():
                killed.set()
                os.killpg(workers[0].pid, signal.SIGKILL)

        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(send, range(INQUIRIES)))
        assert killed.is_set()
        assert set(sent) <= {200, 201, 202}, sent

        def settled() -> dict | None:
            state = _state(env)
            return state if state["outbox_waiting"] == 0 and not state["unprocessed"] else None

        state = _wait_for(settled, 300, "every inquiry processed and every email sent")
        assert isinstance(state, dict)
        assert state["records"] == INQUIRIES and state["keys"] == INQUIRIES, "stored once each"
        assert state["people"] == INQUIRIES and state["leads"] == INQUIRIES
        assert state["emails_dead"] == 0
        expected = state["message_ids"]
        assert expected, "the new leads' owners were told by email"
        delivered = Counter(sink.ids)
        assert set(delivered) == set(expected), "every email sent, and only those"
        # A worker killed between the SMTP server's 250 and its own UPDATE sends that row
        # again after the lease, under the same Message-ID (receivers keep one).
        assert sum(n - 1 for n in delivered.values()) <= 1, delivered.most_common(3)
        check = subprocess.run(
            [sys.executable, "-m", "leadrefinery", "check"],
            env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert check.returncode == 0, check.stdout[-2000:]
    finally:
        for proc in procs:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                    proc.wait(timeout=60)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    os.killpg(proc.pid, signal.SIGKILL)
        _kill_leftovers(str(home))
        controller.stop()
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
