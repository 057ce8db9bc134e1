"""Intake benchmark: the JSON API and the CSV import against baselines measured in the same run.

1. Seeds a fresh database with N leads (default 1,000,000, with their people and their match
   keys, accounts, timeline events and touches) by bulk insert.
2. Starts the real app under gunicorn and sends sequential requests over one keep-alive HTTP
   connection, alternating between ``POST /api/v1/inquiries`` (a token, an Idempotency-Key,
   the full intake: store raw, normalize, match, create person/lead/touch/timeline) and
   ``POST /bench/bare-insert`` (parse the same JSON, one INSERT). Prints p50/p90/p99 of both.
   Target: intake p99 <= 10x bare-insert p99. (``--requests 0`` skips this part.)
3. Imports a generated CSV (default 100,000 rows, HubSpot export headers, a realistic share of
   invalid and duplicate rows) with ``refinery import`` in its own process, as a user runs it,
   then writes the same rows with a plain Django ``bulk_create`` as Person + Lead rows (also
   its own process) and, for scale, with a raw driver ``executemany`` into a plain table.
   Targets: import rows/s at least 1.0x the bulk_create's; the import's peak RSS under
   500 MiB.

Runs in a temporary data folder; with DATABASE_URL set, in a new PostgreSQL database on that
server (dropped afterwards). Exit status 1 when a target is missed.

    .venv/bin/python bench/intake.py [--leads 1000000] [--requests 2000] [--rows 100000]
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Installation, database_version, install, machine, percentile, table

TARGET_P99_RATIO = 10.0
TARGET_IMPORT_VS_BULK_CREATE = 1.0  # import rows/s over plain bulk_create rows/s
TARGET_IMPORT_RSS = 500 * 2**20  # peak resident memory of the import process
WARMUP_REQUESTS = 50
GUNICORN_THREADS = 4

# HubSpot contact-export headers, as a marketer's file would have them.
CSV_COLUMNS = (
    ("First Name", "first_name"),
    ("Last Name", "last_name"),
    ("Email", "email"),
    ("Phone Number", "phone"),
    ("Company Name", "company"),
    ("Job Title", "title"),
    ("Country/Region", "country"),
    ("State/Region", "region"),
    ("City", "city"),
    ("Postal Code", "postcode"),
    ("Website URL", "website"),
    ("Product Interest", "product_interest"),
    ("Message", "message"),
)


# --- seeding ------------------------------------------------------------------------------


def seed(count: int, rng: random.Random) -> list[str]:
    """``count`` leads with people, accounts, events and touches; returns a sample of emails."""
    from django.db import transaction

    from leadrefinery.accounts.models import User
    from leadrefinery.accounts.services import user_create
    from leadrefinery.dedupe.keys import apply_keys, company_key
    from leadrefinery.demo.data import COMPANY_STEMS, FIRST_NAMES, INDUSTRIES, LAST_NAMES
    from leadrefinery.leads.models import (
        Account,
        DispositionReason,
        Lead,
        LeadEvent,
        Person,
        Queue,
        Source,
        StageDefinition,
        Touch,
    )

    anchor = datetime.now(UTC)
    reps = [user_create(username=f"rep{i}", role="rep") for i in range(8)]
    rep_ids = [u.pk for u in reps]
    queues = {q.slug: q.pk for q in Queue.objects.all()}
    sources = [
        Source.objects.get_or_create(name=name, defaults={"channel": channel})[0].pk
        for name, channel in (
            ("Website", "web_form"),
            ("API", "api"),
            ("Trade shows", "trade_show"),
            ("Webinars", "webinar"),
            ("Google Ads", "paid_ad"),
            ("Purchased lists", "list_purchase"),
        )
    ]
    actions = {d.code: d.default_next_action for d in StageDefinition.objects.all()}
    reasons: dict[str, list[str]] = {}
    for r in DispositionReason.objects.filter(system_only=False):
        reasons.setdefault(r.stage, []).append(r.code)
    stages = {
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
    stage_names, stage_weights = list(stages), list(stages.values())
    products = ["Fleet Tracking", "Warehouse Management", "Route Planning"]

    accounts_wanted = max(1, count // 4)
    accounts: list[Account] = []
    for i in range(accounts_wanted):
        name = f"{rng.choice(COMPANY_STEMS)} {rng.choice(INDUSTRIES)} {i}"
        accounts.append(
            Account(
                name=name,
                name_key=company_key(name),
                domain=f"{name.lower().replace(' ', '')}.example",
                country=rng.choice(["US", "US", "GB", "DE", "CA", "FR"]),
                created_at=anchor - timedelta(days=800),
            )
        )
    Account.objects.bulk_create(accounts, batch_size=2000)

    sample: list[str] = []
    chunk = 10_000
    for start in range(0, count, chunk):
        size = min(chunk, count - start)
        with transaction.atomic():
            people, leads = [], []
            for i in range(start, start + size):
                account = accounts[rng.randrange(len(accounts))]
                first = rng.choice(FIRST_NAMES["en"])
                last = rng.choice(LAST_NAMES["en"])
                received = anchor - timedelta(minutes=rng.randrange(2 * 365 * 24 * 60))
                email = f"{first}.{last}.{i}@{account.domain}".lower().replace("'", "")
                if len(sample) < 2000 and rng.random() < 0.05:
                    sample.append(email)
                people.append(
                    Person(
                        email=email,
                        phone=f"+1{rng.choice([212, 312, 404, 206, 214])}{rng.randint(2000000, 9999999)}"
                        if rng.random() < 0.4
                        else "",
                        first_name=first,
                        last_name=last,
                        title="Logistics Manager",
                        company_name=account.name,
                        country=account.country,
                        account=account,
                        created_at=received,
                        updated_at=received,
                    )
                )
            for person in people:
                apply_keys(person)  # the match keys intake stores, so dedupe finds them
            Person.objects.bulk_create(people, batch_size=2000)
            for person in people:
                stage = rng.choices(stage_names, stage_weights)[0]
                received = person.created_at
                changed = received + timedelta(days=rng.uniform(0, 30))
                closed = stage in ("won", "lost", "disqualified")
                sales = stage in ("sales_ready", "working", "opportunity", "won", "lost")
                lead = Lead(
                    person=person,
                    account_id=person.account_id,
                    stage=stage,
                    owner_user_id=rng.choice(rep_ids) if sales else None,
                    owner_queue_id=None
                    if sales
                    else queues["marketing" if stage == "nurture" else "unassigned"],
                    next_action="" if closed else actions.get(stage, "Review the lead"),
                    next_action_due_at=None if closed else changed + timedelta(days=2),
                    source_id=rng.choice(sources),
                    product_interest=rng.choice(products),
                    message="Please send information.",
                    disposition_id=rng.choice(reasons[stage]) if closed else None,
                    disposed_at=changed if closed else None,
                    received_at=received,
                    created_at=received,
                    updated_at=changed,
                    stage_changed_at=changed,
                    assigned_at=received,
                    last_touch_at=received,
                )
                if closed and stage == "disqualified":
                    lead.owner_user_id = None
                leads.append(lead)
            Lead.objects.bulk_create(leads, batch_size=2000)
            events, touches = [], []
            for lead in leads:
                events.append(
                    LeadEvent(
                        lead=lead,
                        kind="created",
                        occurred_at=lead.received_at,
                        actor_label="system:seed",
                        to_stage="inquiry",
                    )
                )
                if lead.stage != "inquiry":
                    events.append(
                        LeadEvent(
                            lead=lead,
                            kind="disposed" if lead.disposition_id else "stage_changed",
                            occurred_at=lead.stage_changed_at,
                            actor_label="system:seed",
                            from_stage="inquiry",
                            to_stage=lead.stage,
                            reason=lead.disposition_id or "",
                        )
                    )
                touches.append(
                    Touch(
                        person_id=lead.person_id,
                        lead=lead,
                        channel="form",
                        direction="inbound",
                        occurred_at=lead.received_at,
                    )
                )
            LeadEvent.objects.bulk_create(events, batch_size=2000)
            Touch.objects.bulk_create(touches, batch_size=2000)
    assert User.objects.filter(role="rep").count() == len(reps)
    return sample


def save_seed(installation: Installation, where: str) -> None:
    """Keep a copy of the seeded database: a file (SQLite) or a template database on the
    same server (PostgreSQL)."""
    from django.conf import settings
    from django.db import connection

    connection.close()
    if installation.vendor == "sqlite":
        import sqlite3

        source = sqlite3.connect(settings.DATABASES["default"]["NAME"])
        target = sqlite3.connect(where)
        source.backup(target)
        target.close()
        source.close()
        return
    import psycopg

    assert installation._admin_url and installation._database
    with psycopg.connect(installation._admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{where}"')
        conn.execute(f'CREATE DATABASE "{where}" TEMPLATE "{installation._database}"')


def from_seed(installation: Installation, where: str) -> list[str]:
    """Make this installation's database a copy of a kept seed; a sample of its emails."""
    from django.conf import settings
    from django.db import connection

    connection.close()
    if installation.vendor == "sqlite":
        import sqlite3

        source = sqlite3.connect(where)
        target = sqlite3.connect(settings.DATABASES["default"]["NAME"])
        source.backup(target)
        target.close()
        source.close()
    else:
        import psycopg

        assert installation._admin_url and installation._database
        with psycopg.connect(installation._admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{installation._database}"')
            conn.execute(f'CREATE DATABASE "{installation._database}" TEMPLATE "{where}"')
    from leadrefinery.leads.models import Person

    return list(Person.objects.exclude(email="").values_list("email", flat=True)[:500])


# --- HTTP ---------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(installation: Installation, port: int) -> subprocess.Popen:
    import gunicorn

    extra = ["--no-control-socket"] if tuple(gunicorn.version_info) >= (25, 1) else []
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "leadrefinery.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--threads",
            str(GUNICORN_THREADS),
            "--log-level",
            "warning",
            *extra,
        ],
        env=installation.env,
    )


class Client:
    """One keep-alive connection; reconnects if the server closed it between requests."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, float, bytes]:
        for attempt in (1, 2):
            try:
                started = time.perf_counter()
                self.conn.request("POST", path, body=body, headers=headers)
                resp = self.conn.getresponse()
                data = resp.read()
                return resp.status, time.perf_counter() - started, data
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("the server did not come up")


@dataclass
class Latencies:
    bare: list[float]
    intake: list[float]
    errors: list[str]


def bench_http(
    installation: Installation, requests: int, rng: random.Random, known_emails: list[str]
) -> Latencies:
    from leadrefinery.accounts.services import token_create, user_create
    from leadrefinery.demo.data import generate_inquiries

    user = user_create(username="bench-integration", role="admin")
    secret = token_create(user=user, name="bench", scopes=["inquiries:write"]).secret
    specs = generate_inquiries(
        seed=rng.randrange(10**6),
        count=int((requests + WARMUP_REQUESTS) * 1.1) + 10,
        anchor=datetime.now(UTC),
        days=60,
    )
    payloads = [dict(s.payload) for s in specs if s.path != "none"]
    for payload in payloads:
        payload["consent"] = payload.get("consent") == "yes"  # the API takes a boolean
        if known_emails and rng.random() < 0.1:
            payload["email"] = rng.choice(known_emails)  # someone already in the database

    from django.db import connection

    with connection.cursor() as cur:
        key = "integer primary key" if connection.vendor == "sqlite" else "bigserial primary key"
        cur.execute(
            f"create table bench_bare_insert (id {key}, email varchar(254), body text, "
            "created_at timestamp with time zone)"
        )
    connection.close()  # the server writes now; keep no connection (or lock) open here

    port = _free_port()
    server = start_server(installation, port)
    latencies = Latencies([], [], [])
    try:
        client = Client(port)
        client.wait_ready()
        json_headers = {"Content-Type": "application/json"}
        for i in range(WARMUP_REQUESTS + requests):
            body = json.dumps(payloads[i]).encode()
            calls = [
                ("bare", "/bench/bare-insert", json_headers),
                (
                    "intake",
                    "/api/v1/inquiries",
                    {
                        **json_headers,
                        "Authorization": f"Bearer {secret}",
                        "Idempotency-Key": str(uuid.UUID(int=rng.getrandbits(128))),
                    },
                ),
            ]
            if i % 2:
                calls.reverse()  # neither endpoint always goes first
            for kind, path, headers in calls:
                status, seconds, reply = client.post(path, body, headers)
                if status != 201:
                    latencies.errors.append(f"{path}: {status} {reply[:200]!r}")
                    continue
                if i >= WARMUP_REQUESTS:
                    getattr(latencies, kind).append(seconds)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    return latencies


# --- CSV import ---------------------------------------------------------------------------


@dataclass
class ImportTimes:
    rows: int
    rejected: int
    attached: int
    import_seconds: float
    import_rss: int  # peak resident memory of the import process, bytes
    import_anon: int  # ... of which private (not the database file's mapped pages)
    import_tree_rss: int  # the import with its matching process, summed
    import_tree_anon: int
    executemany_seconds: float
    bulk_create_seconds: float
    bulk_create_rss: int
    bulk_create_anon: int


@dataclass
class ChildRun:
    seconds: float
    rss: int  # peak resident memory of the process itself (VmHWM), bytes
    anon: int  # peak private (anonymous) memory, sampled: RSS less the mapped files' pages
    stdout: str
    # With the processes it started (sampled every 50 ms): the peak of their summed RSS (pages
    # of the database file mapped by both are counted twice) and of their private memory.
    tree_rss: int
    tree_anon: int


def _run_child(installation: Installation, args: list[str]) -> ChildRun:
    """Run a Python child in this installation and time it. The time covers the whole
    process (start-up, reading the file, writing), as a user's command takes. Its peak RSS
    is its own high-water mark (VmHWM, read every 50 ms: wait4's rusage would be the larger
    of it and the processes it started); the peak of its private memory (RssAnon) is sampled
    every 50 ms, since on SQLite the RSS also counts the database file's pages that the
    connection maps (mmap_size, 256 MiB) and the OS can drop at any time."""
    out_path = installation.home / "child.out"
    err_path = installation.home / "child.err"
    anon = tree_rss = tree_anon = own_peak = 0
    with out_path.open("wb") as out, err_path.open("wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, *args], env=installation.env, stdout=out, stderr=err
        )
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            # The process and the processes it started (the import's matching process).
            sizes = [_memory(p) for p in _tree(proc.pid)]
            if sizes:
                anon = max(anon, sizes[0][1])
                own_peak = max(own_peak, _high_water(proc.pid))
                tree_rss = max(tree_rss, sum(rss for rss, _ in sizes))
                tree_anon = max(tree_anon, sum(a for _, a in sizes))
            time.sleep(0.05)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise RuntimeError(f"{args[:3]} failed ({proc.returncode}): {err_path.read_text()[-2000:]}")
    rss = own_peak or usage.ru_maxrss * 1024  # a run too short to be sampled: wait4's
    return ChildRun(
        seconds, rss, anon, out_path.read_text(), max(tree_rss, rss), max(tree_anon, anon)
    )


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants, from /proc."""
    out = [pid]
    for found in out:
        try:
            for task in Path(f"/proc/{found}/task").iterdir():
                out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return out


def _high_water(pid: int) -> int:
    """The peak resident bytes of the process itself so far (VmHWM); 0 when it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _memory(pid: int) -> tuple[int, int]:
    """(resident, of which private) bytes of a process now; (0, 0) when it is gone."""
    rss = anon = 0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) * 1024
            elif line.startswith("RssAnon:"):
                anon = int(line.split()[1]) * 1024
    except OSError:
        pass
    return rss, anon


def bulk_create_child(path: str) -> None:
    """The baseline, in its own process like the import: the CSV's rows as Person + Lead
    through Django's bulk_create, one transaction."""
    import django

    django.setup()
    from django.db import transaction

    from leadrefinery.leads.models import Lead, Person, Queue, Source

    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        next(reader)
        table_rows = list(reader)
    source = Source.objects.get(name="Purchased lists")
    queue = Queue.objects.get(slug="unassigned")
    at = datetime.now(UTC)
    with transaction.atomic():
        people = [
            Person(
                email=r[2],
                phone=r[3],
                first_name=r[0],
                last_name=r[1],
                company_name=r[4],
                title=r[5],
                country=r[6][:2],
                region=r[7],
                city=r[8],
                postcode=r[9],
                website=r[10],
                created_at=at,
                updated_at=at,
            )
            for r in table_rows
        ]
        Person.objects.bulk_create(people)
        Lead.objects.bulk_create(
            Lead(
                person=person,
                source=source,
                owner_queue=queue,
                next_action="Qualify the inquiry",
                next_action_due_at=at,
                product_interest=r[11],
                message=r[12],
                received_at=at,
                created_at=at,
                updated_at=at,
                stage_changed_at=at,
            )
            for person, r in zip(people, table_rows, strict=True)
        )


def bench_import(installation: Installation, rows: int, rng: random.Random) -> ImportTimes:
    """The import as a user runs it (``refinery import FILE --source NAME``, its own process),
    then the same rows written by a driver's executemany and by a plain Django bulk_create
    (its own process too). The import goes first: the baselines then write into a database
    that also holds the imported rows (a little larger, so if anything a little slower)."""
    from django.conf import settings
    from django.db import connection

    from leadrefinery.demo.data import generate_inquiries
    from leadrefinery.leads.models import ImportBatch, Source

    specs = generate_inquiries(
        seed=rng.randrange(10**6), count=rows, anchor=datetime.now(UTC), days=365
    )
    table_rows = [tuple(s.payload.get(field, "") for _, field in CSV_COLUMNS) for s in specs]
    path = installation.home / "bench-import.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow([header for header, _ in CSV_COLUMNS])
        writer.writerows(table_rows)
    connection.close()

    # 1. The real import: store raw, normalize, match, people, leads, touches, timeline.
    imported = _run_child(
        installation,
        ["-m", "leadrefinery", "import", str(path), "--source", "Purchased lists",
         "--no-progress"],
    )  # fmt: skip
    batch = ImportBatch.objects.get()
    assert batch.total_rows == rows and batch.finished_at is not None, batch
    from leadrefinery.leads.models import Lead

    attached = batch.imported_rows - Lead.objects.filter(import_batch=batch).count()
    rejected = batch.rejected_rows
    assert Source.objects.filter(name="Purchased lists").exists()

    # 2. The same rows, raw, with the database driver alone into a plain table.
    columns = [field for _, field in CSV_COLUMNS]
    with connection.cursor() as cur:
        cur.execute(
            "create table bench_import_raw ("
            + ", ".join(f"{c} varchar(5000)" for c in columns)
            + ")"
        )
    connection.close()
    insert = (
        f"insert into bench_import_raw ({', '.join(columns)}) "
        f"values ({', '.join(['%s'] * len(columns))})"
    )
    if installation.vendor == "sqlite":
        import sqlite3

        raw = sqlite3.connect(settings.DATABASES["default"]["NAME"], timeout=30)
        raw.execute("pragma synchronous=NORMAL")  # as the app's connections have it
        started = time.perf_counter()
        raw.executemany(insert.replace("%s", "?"), table_rows)
        raw.commit()
        executemany_seconds = time.perf_counter() - started
        raw.close()
    else:
        import psycopg

        assert installation.database_url
        with psycopg.connect(installation.database_url) as raw_pg:
            started = time.perf_counter()
            with raw_pg.cursor() as cur:
                cur.executemany(insert, table_rows)
            raw_pg.commit()
            executemany_seconds = time.perf_counter() - started

    # 3. The same rows as Person + Lead objects through Django's bulk_create.
    bulk = _run_child(
        installation, [str(Path(__file__).resolve()), "--bulk-create-child", str(path)]
    )
    return ImportTimes(
        rows=rows,
        rejected=rejected,
        attached=attached,
        import_seconds=imported.seconds,
        import_rss=imported.rss,
        import_anon=imported.anon,
        import_tree_rss=imported.tree_rss,
        import_tree_anon=imported.tree_anon,
        executemany_seconds=executemany_seconds,
        bulk_create_seconds=bulk.seconds,
        bulk_create_rss=bulk.rss,
        bulk_create_anon=bulk.anon,
    )


# --- report -------------------------------------------------------------------------------


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=1_000_000, help="leads to seed (1000000)")
    parser.add_argument(
        "--requests", type=int, default=2000, help="timed requests per endpoint (2000; 0: skip)"
    )
    parser.add_argument("--rows", type=int, default=100_000, help="CSV rows to import (100000)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (1)")
    parser.add_argument(
        "--save-seed",
        metavar="WHERE",
        help="keep the seeded database for later runs: a file path on SQLite, a database "
        "name on PostgreSQL (seeding 1,000,000 leads takes minutes)",
    )
    parser.add_argument(
        "--from-seed",
        metavar="WHERE",
        help="start from a database kept with --save-seed instead of seeding (--leads is then "
        "what that seed holds)",
    )
    parser.add_argument(
        "--seed-only",
        action="store_true",
        help="with --save-seed: seed, keep the database and stop (measure later with "
        "--from-seed, on a quiet machine)",
    )
    parser.add_argument("--bulk-create-child", metavar="CSV", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.bulk_create_child:
        bulk_create_child(args.bulk_create_child)
        return 0
    rng = random.Random(args.seed)

    load_before = os.getloadavg()[0]
    installation = install("intake")
    try:
        import django

        django.setup()
        from django.core.management import call_command

        started = time.perf_counter()
        if args.from_seed:
            known = from_seed(installation, args.from_seed)
            rng.random()  # the import's rows below do not depend on how the seed was made
        else:
            call_command("migrate", verbosity=0)
            known = seed(args.leads, rng)
            if args.save_seed:
                save_seed(installation, args.save_seed)
                if args.seed_only:
                    print(f"Seeded {args.leads:,} leads; kept as {args.save_seed}")
                    return 0
        call_command("migrate", verbosity=0)  # a saved seed may predate a migration
        seed_seconds = time.perf_counter() - started
        from leadrefinery.leads.models import Lead

        stored = Lead.objects.count()
        db = database_version()
        latencies = (
            bench_http(installation, args.requests, rng, known)
            if args.requests
            else Latencies([], [], [])
        )
        imports = bench_import(installation, args.rows, rng)
    finally:
        installation.cleanup()

    http_ok = True
    if args.requests:
        bare_p50, bare_p99 = percentile(latencies.bare, 50), percentile(latencies.bare, 99)
        in_p50, in_p99 = percentile(latencies.intake, 50), percentile(latencies.intake, 99)
        ratio = in_p99 / bare_p99
        http_ok = ratio <= TARGET_P99_RATIO and not latencies.errors
    rates = {
        "executemany": imports.rows / imports.executemany_seconds,
        "bulk_create": imports.rows / imports.bulk_create_seconds,
        "import": imports.rows / imports.import_seconds,
    }
    versus = rates["import"] / rates["bulk_create"]
    import_ok = (
        versus >= TARGET_IMPORT_VS_BULK_CREATE and imports.import_tree_rss < TARGET_IMPORT_RSS
    )
    driver = "sqlite3" if installation.vendor == "sqlite" else "psycopg"

    print(f"Lead Refinery intake benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"Machine:  {machine()}")
    print(
        f"Load average (1 min) at start / end: {load_before:.1f} / {os.getloadavg()[0]:.1f} "
        "(other work on the machine slows both sides of each comparison)"
    )
    print(f"Database: {db}")
    print(
        f"{'Copied a kept seed of' if args.from_seed else 'Seeded'} {stored:,} leads (with "
        f"people, accounts, events, touches) in {seed_seconds:.1f} s"
    )
    print()
    if args.requests:
        print(
            f"API intake over HTTP: gunicorn, 1 worker process x {GUNICORN_THREADS} threads; "
            f"{args.requests:,} sequential requests per endpoint on one keep-alive connection, "
            f"alternating, after {WARMUP_REQUESTS} warm-up requests each"
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
                        "POST /api/v1/inquiries (full intake)",
                        _ms(in_p50),
                        _ms(percentile(latencies.intake, 90)),
                        _ms(in_p99),
                    ),
                ]
            )
        )
        print(
            f"Intake p99 / bare p99 = {ratio:.1f}x (p50: {in_p50 / bare_p50:.1f}x); "
            f"target <= {TARGET_P99_RATIO:.0f}x: {'PASS' if http_ok else 'FAIL'}"
        )
        for error in latencies.errors[:5]:
            print(f"  unexpected answer: {error}")
        print()
    print(
        f"CSV import of {imports.rows:,} rows into {stored:,} leads ({imports.rejected} "
        f"rejected as invalid, {imports.attached} added to an open lead). The import and the "
        "bulk_create each run as their own process (start-up included); executemany in this one"
    )
    mib = 2**20
    print(
        table(
            [
                ("Method", "seconds", "rows/s", "vs bulk_create", "peak RSS MiB", "private MiB"),
                (
                    f"raw {driver} executemany into a plain table",
                    f"{imports.executemany_seconds:.2f}",
                    f"{rates['executemany']:,.0f}",
                    f"{rates['executemany'] / rates['bulk_create']:.2f}x",
                    "",
                    "",
                ),
                (
                    "Django bulk_create, Person + Lead",
                    f"{imports.bulk_create_seconds:.2f}",
                    f"{rates['bulk_create']:,.0f}",
                    "1.00x",
                    f"{imports.bulk_create_rss / mib:,.0f}",
                    f"{imports.bulk_create_anon / mib:,.0f}",
                ),
                (
                    "refinery import (full intake)",
                    f"{imports.import_seconds:.2f}",
                    f"{rates['import']:,.0f}",
                    f"{versus:.2f}x",
                    f"{imports.import_rss / mib:,.0f}",
                    f"{imports.import_anon / mib:,.0f}",
                ),
                (
                    "  the import with its matching process, summed",
                    "",
                    "",
                    "",
                    f"{imports.import_tree_rss / mib:,.0f}",
                    f"{imports.import_tree_anon / mib:,.0f}",
                ),
            ]
        )
    )
    print(
        f"Import = {versus:.2f}x plain bulk_create (target >= {TARGET_IMPORT_VS_BULK_CREATE:.1f}x: "
        f"{'PASS' if versus >= TARGET_IMPORT_VS_BULK_CREATE else 'FAIL'}); import peak RSS "
        f"{imports.import_rss / mib:,.0f} MiB, private {imports.import_anon / mib:,.0f} MiB; "
        f"with its matching process {imports.import_tree_rss / mib:,.0f} MiB (target < "
        f"{TARGET_IMPORT_RSS // mib} MiB, the two processes summed: "
        f"{'PASS' if imports.import_tree_rss < TARGET_IMPORT_RSS else 'FAIL'})"
    )
    return 0 if http_ok and import_ok else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
