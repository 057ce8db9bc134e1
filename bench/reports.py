"""Reports benchmark: the eight reports over 1,000,000 leads and 10,000,000 touches.

1. Seeds (raw ``executemany`` on SQLite, ``COPY`` on PostgreSQL, in chunks, the big tables'
   secondary indexes built after the load): 4 teams of 10 reps with a manager each, a
   marketer and an admin; 12 sources with 24 campaigns; 5 product lines; people with one to
   three inquiries each from different sources (multi-touch journeys); N leads over 24
   months in the stages of a pipeline that has run for two years (lost ones with reasons,
   no-response ones after the persistence rule, some merged, one undone import); one intake
   record per lead; 10 touches per lead on average (the inquiry, outbound sales touches,
   email opens and page visits); the timeline's stage changes, acceptances and recycles;
   answered outcome checks; monthly cost entries per source and campaign; exchange rates.
2. Builds the rollups with ``reports.rollup.rebuild()`` and prints how long that took.
3. For each report and five filter sets (admin, last 12 months; admin, 24 months by month;
   admin, one source; a manager, team-limited; a rep, own leads) times
   ``catalog.build(slug, user, filters)`` against a hand-written SQL baseline in the same run
   (the same aggregation over the same rollup rows and grain: SUM ... GROUP BY with the same
   WHERE, the groups' names joined to the first, plus the histogram, credit and cost reads
   where the report has them), interleaved, and
   checks that both give the same numbers. Targets: report p95 / baseline p95 <= 2.0 and
   report p95 < 1 s for every report and filter set.
4. Once per report (informational): the headline figure computed by hand-written SQL from
   the raw leads and touches, to show what the rollups save.

Runs in a temporary data folder; with DATABASE_URL set, in a new PostgreSQL database on that
server (dropped afterwards). With ``--keep`` it uses REFINERY_HOME / DATABASE_URL as given
(the database is created when missing), keeps them, and reuses a database seeded by an
earlier ``--keep`` run, so that reruns only time. Exit status 1 when a target or a check is
missed.

    .venv/bin/python bench/reports.py [--leads 1000000] [--runs 25] [--keep]
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import os
import random
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Installation, database_version, install, machine, percentile, table

TARGET_RATIO = 2.0
TARGET_P95_S = 1.0
MAX_RUNS = 401  # runs of a fast case
TOUCHES_PER_LEAD = 10
# A custom field on every lead, for the grouping by a custom field (read from the lead facts).
SEGMENTS = ('{"segment": "SMB"}', '{"segment": "Mid-market"}', '{"segment": "Enterprise"}', "{}")
CHUNK = 25_000  # leads generated and written per chunk
MINUTE, HOUR, DAY = 60, 3600, 86400
REPORTING = "USD"

TEAMS = (  # name, time zone of its reps
    ("Americas", "America/New_York"),
    ("EMEA", "Europe/London"),
    ("DACH", "Europe/Berlin"),
    ("APAC", "Asia/Singapore"),
)
REPS_PER_TEAM = 10
# name, channel, intake channel, share of inquiries, monthly cost, cost currency
SOURCES = (
    ("Website", "web_form", "form", 20, 4_000, ""),
    ("API", "api", "api", 6, 1_500, ""),
    ("Paid search", "paid_ad", "form", 14, 30_000, ""),
    ("LinkedIn ads", "paid_ad", "form", 8, 18_000, ""),
    ("Webinars", "webinar", "form", 9, 6_000, ""),
    ("Content downloads", "organic", "form", 10, 3_000, ""),
    ("Trade shows", "trade_show", "import", 7, 45_000, "EUR"),  # quarterly invoices
    ("Purchased lists", "list_purchase", "import", 6, 8_000, ""),
    ("Partner referrals", "referral", "api", 5, 5_000, "EUR"),
    ("Customer referrals", "referral", "form", 4, 0, ""),
    ("Review sites", "paid_ad", "form", 6, 7_000, "GBP"),
    ("Outbound prospecting", "sales_prospecting", "api", 5, 12_000, ""),
)
CAMPAIGNS = ("Always on", "Product launch")
PRODUCTS = (
    "Fleet Tracking",
    "Warehouse Management",
    "Route Planning",
    "Cold Chain Monitoring",
    "Driver Safety",
)
RATES = {"EUR": "1.08000000", "GBP": "1.27000000"}  # CHF has none: such amounts are left out
CURRENCIES = (("", 72), ("EUR", 20), ("GBP", 6), ("CHF", 2))
# Stage shares by the lead's age: young leads are still open, old ones mostly closed.
STAGE_MIX = {
    30: {"inquiry": 10, "qualifying": 12, "nurture": 14, "sales_ready": 8, "working": 25,
         "opportunity": 6, "won": 2, "lost": 7, "disqualified": 16},
    120: {"inquiry": 2, "qualifying": 4, "nurture": 22, "sales_ready": 2, "working": 12,
          "opportunity": 8, "won": 8, "lost": 20, "disqualified": 22},
    10_000: {"inquiry": 0.5, "qualifying": 0.5, "nurture": 25, "sales_ready": 0.5,
             "working": 2, "opportunity": 3, "won": 10, "lost": 30, "disqualified": 28.5},
}  # fmt: skip
LOST_REASONS = (
    ("lost_no_response", 35),
    ("lost_no_decision", 25),
    ("lost_competitor", 15),
    ("lost_price", 15),
    ("lost_timing", 10),
)
DQ_REASONS = (("dq_not_fit", 40), ("dq_bad_data", 25), ("dq_spam", 15), ("dq_student", 10),
              ("dq_competitor", 10))  # fmt: skip
RECYCLE_REASONS = ("recycle_not_ready", "recycle_no_budget", "recycle_timing",
                   "recycle_no_response", "recycle_rejected")  # fmt: skip
ANSWERS = (("us", 8), ("competitor", 37), ("nobody", 45), ("unknown", 10))
# Delay from hand-off to the first sales touch (seconds): (low, high, weight).
FIRST_TOUCH = ((20, 4 * MINUTE, 15), (4 * MINUTE, 55 * MINUTE, 25), (HOUR, 8 * HOUR, 25),
               (8 * HOUR, 2 * DAY, 20), (2 * DAY, 10 * DAY, 15))  # fmt: skip
# Sales touches before a win: mostly 5 to 12.
WIN_DEPTH = (list(range(1, 17)), [2, 3, 5, 8, 12, 12, 11, 10, 8, 7, 6, 5, 4, 3, 2, 2])

PERSON_COLUMNS = (
    "id", "email", "phone", "first_name", "last_name", "title", "company_name", "website",
    "country", "region", "city", "postcode", "street", "language", "account_id",
    "merged_into_id", "email_key", "domain_key", "company_key", "first_name_key",
    "last_name_key", "postcode_key", "street_number_key", "status", "merged_at",
    "merged_by_id", "merge_reason", "created_at", "updated_at", "email_unparsed",
    "phone_unparsed", "street_key", "custom",
)  # fmt: skip
LEAD_COLUMNS = (
    "id", "person_id", "account_id", "stage", "owner_user_id", "owner_queue_id", "next_action",
    "next_action_due_at", "source_id", "campaign_id", "utm_source", "utm_medium",
    "utm_campaign", "utm_term", "utm_content", "product_interest", "message", "need",
    "budget", "authority", "timeline", "disposition_id", "disposition_note", "disposed_at",
    "merged_into_id", "temperature", "sla_policy_id", "sla_started_at",
    "sla_first_touch_due_at", "sla_accept_due_at", "sla_step", "sla_due_at",
    "sla_breached_at", "accepted_at", "speed_to_lead_seconds", "sales_touch_count",
    "first_sales_touch_at", "last_touch_at", "received_at", "created_at", "updated_at",
    "stage_changed_at", "assigned_at", "import_batch_id", "opportunity_amount", "won_amount",
    "currency", "custom",
)  # fmt: skip
INTAKE_COLUMNS = (
    "id", "channel", "received_at", "payload", "payload_hash", "source_id", "campaign_id",
    "form_id", "idempotency_scope", "idempotency_key", "submitted_by_id", "ip", "user_agent",
    "import_batch_id", "row_number", "status", "attempts", "errors", "response", "person_id",
    "lead_id", "processed_at",
)  # fmt: skip
TOUCH_COLUMNS = (
    "id", "person_id", "lead_id", "channel", "direction", "outcome", "is_sales", "actor_id",
    "occurred_at", "note", "intake_id", "import_batch_id", "voided_at",
)  # fmt: skip
EVENT_COLUMNS = (
    "id", "lead_id", "kind", "occurred_at", "actor_id", "actor_label", "from_stage",
    "to_stage", "reason", "note", "data",
)  # fmt: skip
CHECK_COLUMNS = (
    "id", "lead_id", "reason", "status", "due_at", "scheduled_for", "created_at", "opened_at",
    "answer", "competitor", "answer_note", "answered_at", "answered_by_id",
)  # fmt: skip
TABLES = (  # in the order they are written (parents first)
    ("leads_person", PERSON_COLUMNS),
    ("leads_lead", LEAD_COLUMNS),
    ("leads_intakerecord", INTAKE_COLUMNS),
    ("leads_touch", TOUCH_COLUMNS),
    ("leads_leadevent", EVENT_COLUMNS),
    ("cadences_outcomecheck", CHECK_COLUMNS),
)


# ---------------------------------------------------------------------------------------
# The organisation: users, teams, sources, campaigns, batches, costs, rates (through the ORM).


@dataclass
class Org:
    admin: int
    marketer: int
    managers: list[int]  # managers[i] manages team i
    reps: list[int]  # sales people who own leads (reps and managers)
    team_of: dict[int, int]
    teams: list[int]
    sources: list[tuple[int, str, int, str]]  # (id, intake channel, weight, name)
    campaigns: dict[int, list[int]]  # source id -> campaign ids
    queues: dict[str, int]
    batches: dict[tuple[int, int], str] = field(default_factory=dict)  # (source, month) -> id
    undone_batch: str = ""


def month_index(ts: int, now_ts: int) -> int:
    """Months back from now (0: this month) of a timestamp."""
    a = datetime.fromtimestamp(ts, UTC)
    b = datetime.fromtimestamp(now_ts, UTC)
    return (b.year - a.year) * 12 + b.month - a.month


def month_start(back: int, now: datetime) -> date:
    total = now.year * 12 + now.month - 1 - back
    return date(total // 12, total % 12 + 1, 1)


def seed_org(now: datetime) -> Org:
    from leadrefinery.accounts.models import Team
    from leadrefinery.accounts.services import user_create
    from leadrefinery.leads.models import Campaign, ImportBatch, Queue, Source
    from leadrefinery.reports.models import CostEntry, CurrencyRate

    admin = user_create(username="bench-admin", role="admin", first_name="Ada", last_name="Min")
    marketer = user_create(username="bench-marketer", role="marketer", first_name="Mia")
    managers, reps, team_of, teams = [], [], {}, []
    for t, (name, zone) in enumerate(TEAMS, start=1):
        team = Team.objects.create(name=name)
        teams.append(team.pk)
        manager = user_create(
            username=f"mgr{t}", role="manager", team=team, time_zone=zone, first_name=f"Manager {t}"
        )
        team.manager = manager
        team.save(update_fields=["manager"])
        managers.append(manager.pk)
        team_of[manager.pk] = team.pk
        reps.append(manager.pk)  # managers own a few leads too
        for i in range(1, REPS_PER_TEAM + 1):
            rep = user_create(
                username=f"rep{t}-{i:02d}",
                role="rep",
                team=team,
                time_zone=zone,
                first_name=f"Rep {t}-{i:02d}",
            )
            reps.append(rep.pk)
            team_of[rep.pk] = team.pk
    queues = dict(Queue.objects.values_list("slug", "pk"))
    # The qualifying center belongs to the first team: its manager also sees the queue's leads.
    Queue.objects.filter(slug="qualifying").update(team_id=teams[0])
    sources, campaigns = [], {}
    for name, channel, intake, weight, _, _ in SOURCES:
        source, _ = Source.objects.get_or_create(name=name, defaults={"channel": channel})
        sources.append((source.pk, intake, weight, name))
        campaigns[source.pk] = [
            Campaign.objects.create(source=source, name=c, utm_campaign=c.lower()).pk
            for c in CAMPAIGNS
        ]
    org = Org(
        admin=admin.pk,
        marketer=marketer.pk,
        managers=managers,
        reps=reps,
        team_of=team_of,
        teams=teams,
        sources=sources,
        campaigns=campaigns,
        queues=queues,
    )
    # One import batch per import source and month; one batch was undone.
    batches = []
    for source_id, intake, _, name in sources:
        if intake != "import":
            continue
        for back in range(25):
            batch_id = f"b_bench{source_id:03d}m{back:02d}"
            created = datetime.combine(month_start(back, now), datetime.min.time(), UTC)
            batches.append(
                ImportBatch(
                    id=batch_id,
                    filename=f"{name.lower().replace(' ', '-')}-{back}.csv",
                    source_id=source_id,
                    created_by_id=marketer.pk,
                    created_at=created,
                    finished_at=created,
                )
            )
            org.batches[(source_id, back)] = batch_id
    ImportBatch.objects.bulk_create(batches)
    lists = next(s for s in sources if s[3] == "Purchased lists")[0]
    org.undone_batch = org.batches[(lists, 14)]
    ImportBatch.objects.filter(pk=org.undone_batch).update(undone_at=now - timedelta(days=400))
    # Costs: per source and month (60% at the source, 40% split over its campaigns); trade
    # shows invoice quarterly (an entry spans three months, so a period takes its share).
    entries = []
    for (source_id, _, _, name), (_, _, _, _, monthly, currency) in zip(
        sources, SOURCES, strict=True
    ):
        if not monthly:
            continue
        step = 3 if name == "Trade shows" else 1
        for back in range(24, -1, -step):
            first = month_start(back, now)
            last = month_start(back - step, now) - timedelta(days=1)
            amount = monthly * step
            parts = [(None, amount * 0.6)] + [(c, amount * 0.2) for c in campaigns[source_id]]
            for campaign_id, value in parts:
                entries.append(
                    CostEntry(
                        source_id=source_id,
                        campaign_id=campaign_id,
                        starts_on=first,
                        ends_on=last,
                        amount=Decimal(f"{value:.2f}"),
                        currency=currency,
                        created_by_id=marketer.pk,
                        created_at=now,
                    )
                )
    CostEntry.objects.bulk_create(entries)
    for code, rate in RATES.items():
        CurrencyRate.objects.update_or_create(
            currency=code, defaults={"rate": Decimal(rate), "updated_at": now}
        )
    return org


# ---------------------------------------------------------------------------------------
# Writing rows fast: executemany (SQLite) or COPY (PostgreSQL), secondary indexes built after.


class Loader:
    def __init__(self) -> None:
        from django.db import connection

        self.connection = connection
        self.vendor = connection.vendor
        self.indexes: list[tuple[str, str]] = []  # (name, definition) dropped for the load
        self.seconds_indexes = 0.0

    def fmt(self, ts: int | None) -> str | None:
        if ts is None:
            return None
        text = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ts))
        return text + "+00" if self.vendor == "postgresql" else text

    def begin(self) -> None:
        """Drop the secondary indexes of the big tables; relax durability for the load."""
        with self.connection.cursor() as cur:
            for name, _ in TABLES:
                if self.vendor == "postgresql":
                    cur.execute(
                        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = %s "
                        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
                        "WHERE c.conindid = (quote_ident(i.indexname))::regclass)",
                        [name],
                    )
                else:
                    cur.execute(
                        "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                        "AND tbl_name = %s AND sql IS NOT NULL",
                        [name],
                    )
                self.indexes.extend(cur.fetchall())
            for index, _ in self.indexes:
                cur.execute(f'DROP INDEX "{index}"')
            if self.vendor == "postgresql":
                # Foreign keys are checked by triggers, one per row: the rows are generated
                # consistent, so the load skips them (as pg_restore of a data dump does).
                cur.execute("SET session_replication_role = replica")
                cur.execute("SET synchronous_commit = off")
            else:
                # A rollback journal instead of the WAL for the load (WAL again at the end).
                cur.execute("PRAGMA foreign_keys = OFF")
                cur.execute("PRAGMA journal_mode = DELETE")

    def write(self, rows: dict[str, list[tuple[Any, ...]]]) -> None:
        from django.db import transaction

        with transaction.atomic(), self.connection.cursor() as cur:
            for name, columns in TABLES:
                batch = rows.get(name)
                if not batch:
                    continue
                cols = ", ".join(f'"{c}"' for c in columns)
                if self.vendor == "postgresql":
                    text = "".join(
                        "\t".join("\\N" if v is None else str(v) for v in row) + "\n"
                        for row in batch
                    )
                    with cur.cursor.copy(f"COPY {name} ({cols}) FROM STDIN") as copy:
                        copy.write(text)
                else:
                    marks = ", ".join(["%s"] * len(columns))
                    cur.executemany(f"INSERT INTO {name} ({cols}) VALUES ({marks})", batch)

    def end(self) -> None:
        """Build the dropped indexes, set the id sequences, gather statistics."""
        started = time.perf_counter()
        with self.connection.cursor() as cur:
            if self.vendor == "postgresql":
                cur.execute("SET session_replication_role = DEFAULT")
                cur.execute("SET maintenance_work_mem = '1GB'")
            else:
                cur.execute("PRAGMA foreign_keys = ON")
                cur.execute("PRAGMA journal_mode = WAL")
            for _, definition in self.indexes:
                cur.execute(definition)
            if self.vendor == "postgresql":
                for name, _ in TABLES:
                    cur.execute(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                        f"(SELECT MAX(id) FROM {name}))"
                    )
            cur.execute("ANALYZE")
        self.seconds_indexes = time.perf_counter() - started


# ---------------------------------------------------------------------------------------
# Generating the people, leads and their histories.


@dataclass
class Counts:
    people: int = 0
    leads: int = 0
    intake: int = 0
    touches: int = 0
    events: int = 0
    checks: int = 0


class Seeder:
    def __init__(self, org: Org, rng: random.Random, now_ts: int, loader: Loader) -> None:
        from leadrefinery.demo.data import FIRST_NAMES, LAST_NAMES

        self.org = org
        self.rng = rng
        self.now = now_ts
        self.fmt = loader.fmt
        self.loader = loader
        self.n = Counts()
        self.first_names = FIRST_NAMES["en"]
        self.last_names = LAST_NAMES["en"]
        self.source_ids = [s[0] for s in org.sources]
        self.source_weights = [s[2] for s in org.sources]
        self.intake_channel = {s[0]: s[1] for s in org.sources}
        self.rows: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
        self.open_targets: list[tuple[int, int, int, int]] = []  # (lead, person, start, span)
        self.open_weights: list[int] = []
        self.touches_in_chunk = 0

    # -- helpers

    def pick(self, pairs: tuple[tuple[Any, float], ...]) -> Any:
        return self.rng.choices([p[0] for p in pairs], [p[1] for p in pairs])[0]

    def uniform(self, low: float, high: float) -> int:
        return int(self.rng.uniform(low, high))

    def event(self, lead: int, kind: str, at: int, actor: int | None, **kw: str) -> None:
        self.n.events += 1
        self.rows["leads_leadevent"].append(
            (
                self.n.events,
                lead,
                kind,
                self.fmt(at),
                actor,
                "bench" if actor is None else f"user {actor}",
                kw.get("from_stage", ""),
                kw.get("to_stage", ""),
                kw.get("reason", ""),
                "",
                "{}",
            )
        )

    def touch(self, person: int, lead: int | None, channel: str, direction: str, outcome: str,
              sales: bool, actor: int | None, at: int, intake: int | None = None,
              batch: str | None = None, voided: int | None = None) -> None:  # fmt: skip
        self.n.touches += 1
        self.touches_in_chunk += 1
        self.rows["leads_touch"].append(
            (
                self.n.touches,
                person,
                lead,
                channel,
                direction,
                outcome,
                1 if sales else 0,
                actor,
                self.fmt(at),
                "",
                intake,
                batch,
                self.fmt(voided),
            )
        )

    # -- one chunk

    def chunk(self, leads: int) -> None:
        target = self.n.leads + leads
        first_lead = self.n.leads
        self.touches_in_chunk = 0
        while self.n.leads < target:
            self.person(target - self.n.leads)
        # Email opens and page visits fill the chunk up to 10 touches per lead on average.
        budget = TOUCHES_PER_LEAD * (self.n.leads - first_lead) - self.touches_in_chunk
        if budget > 0:
            rng = self.rng
            for lead, person, start, span in rng.choices(
                self.open_targets, self.open_weights, k=budget
            ):
                at = start + int(rng.random() * span)
                if rng.random() < 0.75:
                    self.touch(person, lead, "email_open", "inbound", "opened", False, None, at)
                else:
                    self.touch(person, lead, "visit", "inbound", "", False, None, at)
        self.loader.write(self.rows)
        self.rows.clear()
        self.open_targets.clear()
        self.open_weights.clear()

    def person(self, room: int) -> None:
        rng = self.rng
        self.n.people += 1
        pid = self.n.people
        k = min(room, rng.choices((1, 2, 3), (80, 15, 5))[0])
        latest = self.now - 10 * MINUTE
        times = sorted(self.uniform(self.now - 730 * DAY, latest) for _ in range(k))
        sources: list[int] = []
        while len(sources) < k:
            s = rng.choices(self.source_ids, self.source_weights)[0]
            if s not in sources or len(sources) >= len(self.source_ids):
                sources.append(s)
        products = rng.sample(PRODUCTS, k)
        merged = k >= 2 and rng.random() < 0.15  # the last inquiry was a duplicate, merged
        if merged:
            times[-1] = min(latest, times[0] + self.uniform(HOUR, 10 * DAY))
            products[-1] = products[0]
        first = rng.choice(self.first_names)
        last = rng.choice(self.last_names)
        created = self.fmt(times[0])
        self.rows["leads_person"].append(
            (pid, f"{first.lower()}.{pid}@company{pid % 40000}.example", "", first, last, "",
             f"Company {pid % 40000}", "", rng.choice(("US", "GB", "DE", "FR", "SG", "AU")),
             "", "", "", "", "", None, None, "", "", "", "", "", "", "", "active", None, None,
             "", created, created, "", "", "", "{}")
        )  # fmt: skip
        first_lead = self.n.leads + 1
        for i in range(k):
            into = first_lead if merged and i == k - 1 else None
            campaign = None
            if rng.random() < 0.65:
                campaign = rng.choice(self.org.campaigns[sources[i]])
            self.lead(pid, times[i], sources[i], campaign, products[i], into)

    def lead(self, pid: int, received: int, source: int, campaign: int | None, product: str,
             merged_into: int | None) -> None:  # fmt: skip
        rng, org = self.rng, self.org
        self.n.leads += 1
        lid = self.n.leads
        age = (self.now - received) / DAY
        channel = self.intake_channel[source]
        batch = None
        if channel == "import":
            batch = org.batches.get((source, month_index(received, self.now)))
        undone = batch is not None and batch == org.undone_batch
        if merged_into:
            stage = "merged"
        elif undone:
            stage = "disqualified"
        else:
            mix = next(m for limit, m in STAGE_MIX.items() if age < limit)
            stage = rng.choices(list(mix), list(mix.values()))[0]
        # The inquiry: its intake record and inbound touch.
        self.n.intake += 1
        intake = self.n.intake
        payload = f'{{"email": "p{pid}@company.example", "product": "{product}"}}'
        self.rows["leads_intakerecord"].append(
            (intake, channel, self.fmt(received), payload,
             hashlib.sha1(payload.encode()).hexdigest(), source, campaign, None, "", None,
             org.marketer if channel == "import" else None, None, "", batch,
             lid if batch else None, "processed", 1, "[]", None, pid, lid,
             self.fmt(received + 2))
        )  # fmt: skip
        self.touch(
            pid, lid, channel, "inbound", "", False, None, received, intake, batch,
            voided=self.now - 400 * DAY if undone else None,
        )  # fmt: skip
        self.event(lid, "created", received, None)
        story = Story(self, lid, pid, received, stage)
        if merged_into:
            story.merged(merged_into)
        elif undone:
            story.undone()
        else:
            story.play()
        s = story
        amounts = (None, None, "")
        if s.opportunity_at is not None:
            opp = round(rng.lognormvariate(10.3, 0.8), -2) or 1000.0
            won = None
            if stage == "won" and rng.random() < 0.7:
                won = round(opp * rng.uniform(0.8, 1.1), -2) or opp
            amounts = (f"{opp:.2f}", None if won is None else f"{won:.2f}", self.pick(CURRENCIES))
        last_stage_at = s.last_at
        open_ = stage not in ("won", "lost", "disqualified", "merged")
        first_sales = s.sales_times[0] if s.sales_times else None
        fmt = self.fmt
        self.rows["leads_lead"].append(
            (lid, pid, None, stage, s.owner_user, s.owner_queue,
             "Follow up" if open_ else "",
             fmt(self.now + self.uniform(-2 * DAY, 5 * DAY)) if open_ else None,
             source, campaign, "", "", "", "", "", product, "", "", "", "", "",
             s.reason or None, "", fmt(s.closed_at), merged_into,
             rng.choice(("", "hot", "warm", "cool", "cold")),
             None, None, None, None, None, None, None, fmt(s.accepted_at),
             None if first_sales is None else first_sales - received, len(s.sales_times),
             fmt(first_sales), fmt(max([received, *s.sales_times])), fmt(received),
             fmt(received), fmt(last_stage_at), fmt(last_stage_at), fmt(s.assigned_at), batch,
             *amounts, SEGMENTS[lid % len(SEGMENTS)])
        )  # fmt: skip
        horizon = min(self.now, received + 400 * DAY) - received
        self.open_targets.append((lid, pid, received, max(horizon, 60)))
        self.open_weights.append(3 if stage == "nurture" else 1)


class Story:
    """What happened to one lead: stages passed, owner, sales touches, close, outcome check."""

    def __init__(self, seeder: Seeder, lead: int, person: int, received: int, stage: str) -> None:
        self.s = seeder
        self.rng = seeder.rng
        self.lead = lead
        self.person = person
        self.received = received
        self.stage = stage
        self.owner_user: int | None = None
        self.owner_queue: int | None = None
        self.reason = ""
        self.closed_at: int | None = None
        self.accepted_at: int | None = None
        self.opportunity_at: int | None = None
        self.assigned_at: int = received
        self.sales_times: list[int] = []
        self.last_at = received
        self.latest = seeder.now - MINUTE

    def at(self, t: int) -> int:
        return min(t, self.latest)

    def move(self, to_stage: str, at: int, from_stage: str, actor: int | None,
             reason: str = "", kind: str = "stage_changed") -> None:  # fmt: skip
        at = self.at(at)
        self.s.event(self.lead, kind, at, actor, from_stage=from_stage, to_stage=to_stage,
                     reason=reason)  # fmt: skip
        self.last_at = max(self.last_at, at)

    def merged(self, into: int) -> None:
        self.owner_queue = self.s.org.queues["unassigned"]
        self.closed_at = self.at(self.received + self.rng.randint(HOUR, 3 * DAY))
        self.move("merged", self.closed_at, "inquiry", None, kind="merged")

    def undone(self) -> None:
        self.owner_queue = self.s.org.queues["unassigned"]
        self.reason = "import_undone"
        self.closed_at = self.at(self.s.now - 400 * DAY)
        self.move("disqualified", self.closed_at, "inquiry", None, "import_undone", "disposed")

    def play(self) -> None:
        rng, org, stage = self.rng, self.s.org, self.stage
        queues = org.queues
        t = self.received
        prev = "inquiry"
        if stage == "inquiry":
            self.owner_queue = queues["unassigned"]
            return
        via_sales = stage in ("sales_ready", "working", "opportunity", "won", "lost") or (
            stage == "nurture" and rng.random() < 0.2  # recycled by sales
        )
        if stage == "disqualified" and rng.random() < 0.3:
            via_sales = True  # a rep disqualified it
        qualifying = stage == "qualifying" or rng.random() < 0.55
        if qualifying:
            t += self.rng.randint(10 * MINUTE, 2 * DAY)
            self.move("qualifying", t, prev, None)
            prev = "qualifying"
            self.owner_queue = queues["qualifying"]
            self.assigned_at = self.at(t)
        if stage == "qualifying":
            return
        if not via_sales:
            t += rng.randint(10 * MINUTE, 3 * DAY)
            if stage == "nurture":
                self.owner_queue = queues["marketing"]
                self.assigned_at = self.at(t)
                self.move("nurture", t, prev, None)
            else:  # disqualified by the qualifying center or at the first look
                self.owner_queue = self.owner_queue or queues["unassigned"]
                self.close("disqualified", self.s.pick(DQ_REASONS), t, prev, None)
            return
        rep = rng.choice(org.reps)
        self.owner_user, self.owner_queue = rep, None
        t += rng.randint(30, 5 * MINUTE) if not qualifying else rng.randint(10 * MINUTE, DAY)
        self.move("sales_ready", t, prev, None)
        self.assigned_at = self.at(t)
        prev = "sales_ready"
        handed = t
        # How many sales touches, by where the lead ends.
        reason = ""
        if stage == "lost":
            reason = self.s.pick(LOST_REASONS)
        if stage == "sales_ready":
            n = 0 if rng.random() < 0.5 else rng.randint(1, 2)
        elif stage == "working":
            n = 0 if rng.random() < 0.1 else rng.randint(1, 7)
        elif stage == "opportunity":
            n = rng.randint(4, 14)
        elif stage == "won":
            n = rng.choices(*WIN_DEPTH)[0]
        elif stage == "lost" and reason == "lost_no_response":
            n = rng.randint(6, 12) if rng.random() > 0.01 else rng.randint(2, 5)
        elif stage == "lost":
            n = 0 if rng.random() < 0.1 else rng.randint(1, 10)
        elif stage == "nurture":
            n = rng.randint(1, 7)
        else:  # disqualified by a rep
            n = rng.randint(0, 3)
        if n:
            low, high, _ = rng.choices(FIRST_TOUCH, [w for *_, w in FIRST_TOUCH])[0]
            at = handed + rng.randint(low, high)
            gap = (3 * DAY, 5 * DAY) if reason == "lost_no_response" else (DAY // 2, 4 * DAY)
            for _ in range(n):
                if at > self.latest:
                    break
                self.sales_times.append(at)
                at += rng.randint(*gap)
        accepted = stage in ("working", "opportunity", "won", "lost") or (
            stage == "nurture" or (stage == "disqualified" and rng.random() < 0.5)
        )
        if accepted:
            self.accepted_at = self.at(handed + rng.randint(5 * MINUTE, 8 * HOUR))
            self.s.event(self.lead, "accepted", self.accepted_at, rep)
            self.move("working", self.accepted_at, prev, rep)
            prev = "working"
        for at in self.sales_times:
            channel = "call" if rng.random() < 0.6 else "email"
            outcome = rng.choice(("connected", "voicemail", "no_answer") if channel == "call"
                                 else ("sent", "sent", "replied"))  # fmt: skip
            self.s.touch(self.person, self.lead, channel, "outbound", outcome, True, rep, at)
        last = self.sales_times[-1] if self.sales_times else (self.accepted_at or handed)
        reached_opportunity = stage in ("opportunity", "won") or (
            stage == "lost" and reason != "lost_no_response" and rng.random() < 0.3
        )
        if reached_opportunity:
            k = min(3, len(self.sales_times)) - 1
            base = self.sales_times[k] if k >= 0 else last
            self.opportunity_at = self.at(base + rng.randint(HOUR, 2 * DAY))
            self.move("opportunity", self.opportunity_at, prev, rep)
            prev = "opportunity"
            last = max(last, self.opportunity_at)
        end = last + rng.randint(HOUR, 3 * DAY)
        if stage == "won":
            self.close("won", "won", end, prev, rep)
        elif stage == "lost":
            self.close("lost", reason, end, prev, rep)
        elif stage == "disqualified":
            self.close("disqualified", self.s.pick(DQ_REASONS), end, prev, rep)
        elif stage == "nurture":  # recycled: back to marketing, with a reason
            self.owner_user, self.owner_queue = None, self.s.org.queues["marketing"]
            recycled = self.at(end)
            self.assigned_at = recycled
            why = rng.choice(RECYCLE_REASONS)
            self.move("nurture", recycled, prev, rep, why)
            self.outcome_check(why, recycled)

    def close(self, stage: str, reason: str, at: int, prev: str, actor: int | None) -> None:
        self.reason = reason
        self.closed_at = self.at(at)
        self.move(stage, self.closed_at, prev, actor, reason, kind="disposed")
        if reason in ("lost_no_decision", "lost_no_response"):
            self.outcome_check(reason, self.closed_at)

    def outcome_check(self, reason: str, closed: int) -> None:
        """Twelve months after the close: scheduled, open, or answered by marketing."""
        s, rng = self.s, self.rng
        scheduled = closed + 365 * DAY
        status, due, opened, answer, answered, competitor = "scheduled", None, None, "", None, ""
        if scheduled < s.now - 30 * DAY and rng.random() < 0.7:
            status, opened = "answered", scheduled
            answered = min(scheduled + rng.randint(DAY, 30 * DAY), s.now - HOUR)
            answer = s.pick(ANSWERS)
            competitor = "Rival Systems" if answer == "competitor" else ""
        elif scheduled < s.now:
            status, opened = "open", scheduled
        else:
            due = scheduled
        s.n.checks += 1
        fmt = s.fmt
        s.rows["cadences_outcomecheck"].append(
            (s.n.checks, self.lead, reason, status, fmt(due), fmt(scheduled), fmt(closed),
             fmt(opened), answer, competitor, "", fmt(answered),
             s.org.marketer if answered else None)
        )  # fmt: skip


def check_columns() -> None:
    """The seed's column lists must be the models' columns (a new field fails loudly)."""
    from leadrefinery.cadences.models import OutcomeCheck
    from leadrefinery.leads.models import IntakeRecord, Lead, LeadEvent, Person, Touch

    for model, columns in (
        (Person, PERSON_COLUMNS),
        (Lead, LEAD_COLUMNS),
        (IntakeRecord, INTAKE_COLUMNS),
        (Touch, TOUCH_COLUMNS),
        (LeadEvent, EVENT_COLUMNS),
        (OutcomeCheck, CHECK_COLUMNS),
    ):
        real = {f.column for f in model._meta.concrete_fields}
        assert real == set(columns), (model.__name__, real ^ set(columns))


def seed(leads: int, rng: random.Random, now: datetime) -> tuple[Counts, dict[str, float]]:
    check_columns()
    started = time.perf_counter()
    org = seed_org(now)
    loader = Loader()
    loader.begin()
    seeder = Seeder(org, rng, int(now.timestamp()), loader)
    report_every = max(CHUNK, leads // 10)
    while seeder.n.leads < leads:
        seeder.chunk(min(CHUNK, leads - seeder.n.leads))
        if seeder.n.leads % report_every < CHUNK or seeder.n.leads == leads:
            spent = time.perf_counter() - started
            print(
                f"  seeded {seeder.n.leads:,} leads, {seeder.n.touches:,} touches "
                f"({spent:.0f} s, {seeder.n.leads / spent:,.0f} leads/s)",
                flush=True,
            )
    loaded = time.perf_counter() - started
    loader.end()
    return seeder.n, {
        "rows": loaded,
        "indexes": loader.seconds_indexes,
        "total": time.perf_counter() - started,
    }


# ---------------------------------------------------------------------------------------
# The baseline: the same aggregation over the same rollup rows, in hand-written SQL.

GROUP = {
    "source": "source_id",
    "campaign": "campaign_id",
    "month": "month",
    "team": "team_id",
    "rep": "user_id",
    "product": "product",
}
CELLS = {
    "funnel": ("inquiries", "leads", "sales_ready", "accepted", "opportunities", "won"),
    "follow-up": ("leads", "touched", "follow_up_1d", "follow_up_3d", "follow_up_7d",
                  "follow_up_30d"),
    "speed-to-lead": ("touched", "speed_5m", "speed_1h"),
    "touch-depth": ("won", "lost", "no_response", "wins_5_12", "short_closes"),
    "dispositions": (),
    "source-roi": (),
    "rule-of-45": ("leads", "checks", "check_us", "check_competitor", "check_nobody",
                   "check_unknown", "nurture_open", "recycled_open"),
    "reps": ("leads", "touched", "follow_up_1d", "speed_5m", "wins_5_12", "short_closes",
             "opportunities", "won", "revenue"),
}  # fmt: skip
BUCKETS = {
    "speed-to-lead": ("speed",),
    "touch-depth": ("depth",),
    "dispositions": ("reason",),
    "reps": ("speed", "depth"),
}
MODELS = ("first", "last", "linear", "position")


@dataclass
class Viewer:
    label: str
    user: Any
    scope: tuple[str, list[Any]] | None  # extra WHERE for the rows this viewer may count


@dataclass
class Sums:
    cells: dict[Any, dict[str, float]] = field(default_factory=dict)
    buckets: dict[str, dict[Any, dict[str, int]]] = field(default_factory=dict)
    credits: dict[str, dict[Any, dict[str, float]]] = field(default_factory=dict)
    costs: dict[Any, float] = field(default_factory=dict)
    unpriced: int = 0


SOURCE_GRAIN = {"month", "source_id", "campaign_id"}
OWNER_GRAIN = {"month", "user_id", "team_id"}


def where(filters: Any, viewer: Viewer, owner_grain: bool = True) -> tuple[str, list[Any]]:
    """The WHERE of the baseline: the rows of the coarsest grain that has every column the
    grouping, the filters and the viewer's scope use (credits have no owner grain)."""
    from django.db import connection

    adapt = connection.ops.adapt_datefield_value
    sql = ["month >= %s", "month <= %s"]
    params: list[Any] = [adapt(filters.start), adapt(filters.end)]
    used = {GROUP[filters.by]}
    for name, column in (("source", "source_id"), ("campaign", "campaign_id"),
                         ("team", "team_id"), ("rep", "user_id"), ("product", "product")):  # fmt: skip
        value = getattr(filters, name)
        if value is not None:
            sql.append(f"{column} = %s")
            params.append(value)
            used.add(column)
    if viewer.scope is not None:
        sql.append(viewer.scope[0])
        params.extend(viewer.scope[1])
        used |= {"user_id", "team_id"}
    if used <= SOURCE_GRAIN:
        grain = "s"
    elif owner_grain and used <= OWNER_GRAIN:
        grain = "o"
    else:
        grain = "f"
    return " AND ".join([f"grain = '{grain}'", *sql]), params


# The names a report's rows show, joined to the first statement's groups (the report reads
# them from its configuration cache).
NAMES = {
    "source": ("s.name", "LEFT JOIN leads_source s ON s.id = q.source_id"),
    "campaign": (
        "k.name || ' (' || ks.name || ')'",
        "LEFT JOIN leads_campaign k ON k.id = q.campaign_id "
        "LEFT JOIN leads_source ks ON ks.id = k.source_id",
    ),
    "team": ("t.name", "LEFT JOIN accounts_team t ON t.id = q.team_id"),
    "rep": ("u.first_name || ' ' || u.last_name", "LEFT JOIN accounts_user u ON u.id = q.user_id"),
}


def named(inner: str, by: str) -> str:
    """``inner`` with the name of each group as its last column (months and product lines
    are their own names)."""
    if by not in NAMES:
        return inner
    name, join = NAMES[by]
    return f"SELECT q.*, {name} FROM ({inner}) q {join}"


def baseline(slug: str, filters: Any, viewer: Viewer) -> Sums:
    """The report's numbers from the rollups: one statement per rollup the report reads, the
    first with the groups' names."""
    from django.db import connection

    out = Sums()
    g = GROUP[filters.by]
    w, params = where(filters, viewer)
    first = True
    with connection.cursor() as cur:
        fields = CELLS[slug]
        if fields:
            sums = ", ".join(f'SUM("{f}")' for f in fields)
            sql = f"SELECT {g}, {sums} FROM reports_cell WHERE {w} GROUP BY {g}"
            cur.execute(named(sql, filters.by), params)
            first = False
            for row in cur.fetchall():
                # PostgreSQL sums a bigint column as numeric: whole numbers either way.
                values = row[1 : 1 + len(fields)]
                out.cells[row[0]] = {f: int(v or 0) for f, v in zip(fields, values, strict=True)}
        kinds = BUCKETS.get(slug, ())
        if kinds:
            marks = ", ".join(["%s"] * len(kinds))
            sql = (
                f'SELECT kind, {g}, "key", SUM(n) FROM reports_bucket '
                f'WHERE kind IN ({marks}) AND {w} GROUP BY kind, {g}, "key"'
            )
            cur.execute(named(sql, filters.by) if first else sql, [*kinds, *params])
            first = False
            for kind, group, key, n, *_ in cur.fetchall():
                if n:
                    out.buckets.setdefault(kind, {}).setdefault(group, {})[key] = int(n)
        if slug == "source-roi":
            names = ("inquiries", "leads", "opportunities", "pipeline", "revenue")
            sums = ", ".join(f"SUM({f})" for f in names)
            cw, cparams = where(filters, viewer, owner_grain=False)
            sql = (
                f"SELECT model, {g}, {sums} FROM reports_credit "
                f"WHERE model IN ('first', 'last', 'linear', 'position') AND {cw} "
                f"GROUP BY model, {g}"
            )
            cur.execute(named(sql, filters.by), cparams)
            for model, group, *values in cur.fetchall():
                out.credits.setdefault(model, {})[group] = {
                    f: float(v or 0.0) for f, v in zip(names, values[: len(names)], strict=True)
                }
            out.costs = cost_sums(cur, filters)
            # The report also says how many leads have money in a currency without a rate.
            cur.execute(f"SELECT SUM(unpriced) FROM reports_cell WHERE {w}", params)
            out.unpriced = int(cur.fetchone()[0] or 0)
    return out


def cost_sums(cur: Any, filters: Any) -> dict[Any, float]:
    """Cost per source (or campaign) in the period in the reporting currency, each entry
    prorated by its days inside the period; entries in a currency without a rate left out."""
    from django.db import connection

    from leadrefinery.reports.filters import add_months

    first = filters.start
    last = add_months(filters.end, 1) - timedelta(days=1)
    key = "e.source_id" if filters.by == "source" else "COALESCE(e.campaign_id, 0)"
    if connection.vendor == "postgresql":
        inside = "(LEAST(e.ends_on, %s::date) - GREATEST(e.starts_on, %s::date) + 1)"
        days = "(e.ends_on - e.starts_on + 1)"
    else:
        inside = "(julianday(MIN(e.ends_on, %s)) - julianday(MAX(e.starts_on, %s)) + 1)"
        days = "(julianday(e.ends_on) - julianday(e.starts_on) + 1)"
    sql = (
        f"SELECT {key}, SUM(e.amount * (CASE WHEN COALESCE(NULLIF(UPPER(e.currency), ''), %s) "
        f"= %s THEN 1 ELSE r.rate END) * {inside} / {days}) "
        "FROM reports_costentry e LEFT JOIN reports_currencyrate r "
        "ON r.currency = UPPER(e.currency) "
        "WHERE e.voided_at IS NULL AND e.starts_on <= %s AND e.ends_on >= %s "
        "AND (COALESCE(NULLIF(UPPER(e.currency), ''), %s) = %s OR r.rate IS NOT NULL)"
    )
    adapt = connection.ops.adapt_datefield_value
    params: list[Any] = [REPORTING, REPORTING, adapt(last), adapt(first)]
    params += [adapt(last), adapt(first), REPORTING, REPORTING]
    if filters.source is not None:
        sql += " AND e.source_id = %s"
        params.append(filters.source)
    if filters.campaign is not None:
        sql += " AND e.campaign_id = %s"
        params.append(filters.campaign)
    cur.execute(sql + f" GROUP BY {key}", params)
    return {k: float(v) for k, v in cur.fetchall() if v is not None}


# ---------------------------------------------------------------------------------------
# The report's numbers must be the baseline's.


def _total(groups: dict[Any, dict[str, float]]) -> dict[str, float]:
    out: dict[str, float] = defaultdict(float)
    for cols in groups.values():
        for k, v in cols.items():
            out[k] += v
    return out


def _hist(groups: dict[Any, dict[str, int]]) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for h in groups.values():
        for k, n in h.items():
            out[k] += n
    return out


def _minutes(value: int | None) -> Any:
    from leadrefinery.reports import domain

    if value is None:
        return None
    return f">{domain.SPEED_EDGES[-1]}" if value < 0 else value


def _mean_depth(hist: dict[str, int], outcome: str) -> float | None:
    pairs = [(int(k.split(":")[1]), n) for k, n in hist.items() if k.split(":")[0] == outcome]
    total = sum(n for _, n in pairs)
    return round(sum(t * n for t, n in pairs) / total, 1) if total else None


def compare(slug: str, report: Any, base: Sums) -> list[tuple[str, Any, Any]]:
    """(what, report's value, baseline's value) for the figures compared."""
    from leadrefinery.reports import domain
    from leadrefinery.reports.domain import share

    heads = {h.label: h.value for h in report.headlines}
    rows = report.rows
    total = _total(base.cells)
    out: list[tuple[str, Any, Any]] = []

    def col(name: str) -> float:
        return sum(r[name] or 0 for r in rows)

    if slug in ("funnel", "follow-up", "speed-to-lead", "touch-depth", "rule-of-45", "reps"):
        out.append(("rows", len(rows), len(base.cells)))
    if slug == "funnel":
        for f in CELLS["funnel"]:
            out.append((f"sum {f}", col(f), total[f]))
        out.append(("Lead to won", heads["Lead to won"], share(total["won"], total["leads"])))
    elif slug == "follow-up":
        out.append(("sum leads", col("leads"), total["leads"]))
        out.append(("sum never", col("never"), total["leads"] - total["touched"]))
        for days in (1, 7):
            out.append(
                (
                    f"within {days}d",
                    heads[f"Followed up within {days} day{'s' if days > 1 else ''}"],
                    share(total[f"follow_up_{days}d"], total["leads"]),
                )
            )
    elif slug == "speed-to-lead":
        hist = {int(k): n for k, n in _hist(base.buckets.get("speed", {})).items()}
        out.append(("sum touched", col("touched"), total["touched"]))
        out.append(
            (
                "median",
                heads["Median speed to lead (working minutes)"],
                _minutes(domain.percentile_minutes(hist, 0.5)),
            )
        )
        out.append(
            (
                "within 5m",
                heads["First touch within 5 minutes"],
                share(total["speed_5m"], total["touched"]),
            )
        )
    elif slug == "touch-depth":
        hist = _hist(base.buckets.get("depth", {}))
        for f in ("won", "lost", "no_response", "short_closes"):
            out.append((f"sum {f}", col(f), total[f]))
        out.append(
            (
                "mean before no response",
                heads["Touches before no response (mean)"],
                _mean_depth(hist, "no_response"),
            )
        )
    elif slug == "dispositions":
        reasons = base.buckets.get("reason", {})
        closed = sum(sum(h.values()) for h in reasons.values())
        out.append(("closed", heads["Closed leads"], closed))
        out.append(("rows", len(rows), sum(len(h) for h in reasons.values())))
    elif slug == "source-roi":
        model = report.extra["model"]
        credits = base.credits.get(model, {})
        cost = sum(base.costs.values())
        revenue = sum(c["revenue"] for c in credits.values()) / 100
        out.append(("rows", len(rows), len(set(credits) | set(base.costs))))
        out.append(("cost", heads[f"Cost ({REPORTING})"], round(cost)))
        out.append(("revenue", heads[f"Won revenue ({REPORTING})"], round(revenue)))
        out.append(("sum inquiries", col("inquiries"),
                    sum(round(c["inquiries"]) for c in credits.values())))  # fmt: skip
        said = [n for n in report.notes if "without an exchange rate" in n]
        out.append(("unpriced", int(said[0].split()[0]) if said else 0, base.unpriced))
    elif slug == "rule-of-45":
        known = total["check_us"] + total["check_competitor"] + total["check_nobody"]
        out.append(("checks", heads["Outcome checks answered"], total["checks"]))
        out.append(
            (
                "bought",
                heads["Bought within a year"],
                share(total["check_us"] + total["check_competitor"], known),
            )
        )
        out.append(
            ("nurture open", heads["Invisible pipeline (open in nurture)"], total["nurture_open"])
        )
    elif slug == "reps":
        out.append(("sum leads", col("leads"), total["leads"]))
        out.append(("sum won", col("won"), total["won"]))
        out.append(("sum revenue", col("revenue"),
                    sum(round(c["revenue"] / 100) for c in base.cells.values())))  # fmt: skip
    return out


def mismatches(pairs: list[tuple[str, Any, Any]]) -> list[str]:
    bad = []
    for what, mine, theirs in pairs:
        if isinstance(mine, float) or isinstance(theirs, float):
            ok = mine is not None and theirs is not None and abs(mine - theirs) <= 1.0
        else:
            ok = mine == theirs
        if not ok:
            bad.append(f"{what}: report {mine!r} != baseline {theirs!r}")
    return bad


# ---------------------------------------------------------------------------------------
# Timing.


@dataclass
class Result:
    slug: str
    case: str
    report_s: list[float]
    base_s: list[float]
    problems: list[str]
    rows: int

    @property
    def p95(self) -> float:
        return percentile(self.report_s, 95)

    @property
    def base_p95(self) -> float:
        return percentile(self.base_s, 95)

    @property
    def ratio(self) -> float:
        return self.p95 / self.base_p95

    @property
    def ok(self) -> bool:
        return self.ratio <= TARGET_RATIO and self.p95 < TARGET_P95_S and not self.problems


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


def cases(slug: str, today: date, source_id: int) -> Iterator[tuple[str, str, dict[str, str]]]:
    """(label, viewer, params) of the filter sets timed for a report."""
    from leadrefinery.reports import catalog
    from leadrefinery.reports.filters import add_months

    this = date(today.year, today.month, 1)
    bys = catalog.REPORTS[slug].bys
    by = "month" if "month" in bys else catalog.REPORTS[slug].default_by
    yield "admin, last 12 months", "admin", {}
    yield (
        f"admin, 24 months by {by}",
        "admin",
        {"from": f"{add_months(this, -23):%Y-%m}", "to": f"{this:%Y-%m}", "by": by},
    )
    yield "admin, one source", "admin", {"source": str(source_id)}
    yield "manager (team)", "manager", {}
    yield "rep (own leads)", "rep", {}


def time_reports(viewers: dict[str, Viewer], source_id: int, runs: int) -> list[Result]:
    from leadrefinery.reports import catalog

    today = datetime.now(UTC).date()
    results = []
    for slug in catalog.REPORTS:
        for label, who, params in cases(slug, today, source_id):
            viewer = viewers[who]
            filters = catalog.filters_for(slug, params, today)

            def report(slug: str = slug, filters: Any = filters, viewer: Viewer = viewer) -> Any:
                return catalog.build(slug, viewer.user, filters)

            def base(slug: str = slug, filters: Any = filters, viewer: Viewer = viewer) -> Any:
                return baseline(slug, filters, viewer)

            warm = time.perf_counter()
            for _ in range(2):  # warm-up
                report()
                base()
            # Fast cases get more runs (up to about a second each), so that one pause of the
            # machine does not make their p95.
            each = (time.perf_counter() - warm) / 2
            n = max(runs, min(MAX_RUNS, int(1.0 / max(each, 1e-6))))
            gc.collect()
            report_s, base_s = [], []
            built: Any = None
            sums: Any = None
            for i in range(n):  # interleaved, each side first in turn
                if i % 2:
                    t, built = timed(report)
                    report_s.append(t)
                    t, sums = timed(base)
                    base_s.append(t)
                else:
                    t, sums = timed(base)
                    base_s.append(t)
                    t, built = timed(report)
                    report_s.append(t)
            problems = mismatches(compare(slug, built, sums))
            result = Result(slug, label, report_s, base_s, problems, len(built.rows))
            results.append(result)
            print(
                f"  {slug:14} {label:28} report p95 {result.p95 * 1000:8.1f} ms, "
                f"baseline p95 {result.base_p95 * 1000:8.1f} ms, ratio {result.ratio:.2f}"
                + ("" if not problems else f"  MISMATCH {problems}"),
                flush=True,
            )
    return results


# ---------------------------------------------------------------------------------------
# What the rollups save: the headline figure straight from the raw rows, once per report.


def time_custom_grouping(viewers: dict[str, Viewer]) -> list[tuple[str, ...]]:
    """The funnel with rows by a custom field against rows by source, for the admin and a
    rep: median of 3 runs each, and the leads the grouping counted."""
    from leadrefinery.leads.custom_field_services import custom_field_create
    from leadrefinery.leads.models import CustomField
    from leadrefinery.reports import catalog

    if not CustomField.objects.filter(name="segment").exists():
        custom_field_create(name="segment", label="Segment", kind="text")
    today = datetime.now(UTC).date()
    lines: list[tuple[str, ...]] = [
        ("Viewer", "leads counted", "by source p50 ms", "by field p50 ms", "ratio")
    ]
    for who in ("admin", "rep"):
        user = viewers[who].user
        times: dict[str, list[float]] = {"source": [], "field:segment": []}
        counted = 0
        for _ in range(3):
            for by in times:
                f = catalog.filters_for("funnel", {"by": by}, today)
                fresh = type(user).objects.get(pk=user.pk)  # no per-user memo between runs
                spent, report = timed(lambda f=f, u=fresh: catalog.build("funnel", u, f))
                times[by].append(spent)
                if by != "source":
                    counted = sum(int(row["leads"]) for row in report.rows)
        a, b = percentile(times["source"], 50), percentile(times["field:segment"], 50)
        lines.append((who, f"{counted:,}", f"{a * 1000:.1f}", f"{b * 1000:.1f}", f"{b / a:.0f}x"))
    return lines


def raw_headlines(reports: dict[str, Any]) -> list[tuple[str, str, Any, Any, float]]:
    """(report, figure, raw SQL's value, report's value, seconds) for the admin's report over
    24 months (the 12 months before that hold the cohorts with answered outcome checks)."""
    from django.db import connection

    from leadrefinery.reports.domain import share
    from leadrefinery.reports.filters import add_months

    pg = connection.vendor == "postgresql"
    f = reports["funnel"][1]
    start = datetime.combine(f.start, datetime.min.time(), UTC)
    end = datetime.combine(add_months(f.end, 1), datetime.min.time(), UTC)
    adapt = connection.ops.adapt_datetimefield_value
    period = [adapt(start), adapt(end)]
    counted = (
        "l.received_at >= %s AND l.received_at < %s AND l.stage <> 'merged' "
        "AND COALESCE(l.disposition_id, '') <> 'import_undone'"
    )
    sales = "t.lead_id = l.id AND t.is_sales AND t.voided_at IS NULL"
    within_day = (
        "f.first - f.received_at <= interval '1 day'"
        if pg
        else "julianday(f.first) - julianday(f.received_at) <= 1.0"
    )
    past_ready = "('sales_ready', 'working', 'opportunity', 'won', 'lost')"
    out = []

    def run(sql: str, params: list[Any]) -> tuple[float, tuple[Any, ...]]:
        with connection.cursor() as cur:
            started = time.perf_counter()
            cur.execute(sql, params)
            row = cur.fetchone()
            return time.perf_counter() - started, row

    def head(slug: str, label: str) -> Any:
        return next(h.value for h in reports[slug][0].headlines if h.label == label)

    # Funnel: leads, sales ready (now or once, from the timeline), won.
    t, (leads, ready, won) = run(
        f"SELECT COUNT(*), SUM(CASE WHEN l.stage IN {past_ready} OR EXISTS (SELECT 1 FROM "
        "leads_leadevent e WHERE e.lead_id = l.id AND e.kind IN ('stage_changed', 'disposed', "
        f"'recycled', 'accepted') AND e.to_stage IN {past_ready}) THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN l.stage = 'won' THEN 1 ELSE 0 END) "
        f"FROM leads_lead l WHERE {counted}",
        period,
    )
    ready_rows = sum(r["sales_ready"] for r in reports["funnel"][0].rows)
    out.append(
        ("funnel", "leads / sales ready / won", f"{leads} / {ready} / {won}",
         f"{head('funnel', 'Leads')} / {ready_rows} / {head('funnel', 'Won')}", t)
    )  # fmt: skip
    # Follow-up: first sales touch of each lead within a day; never.
    t, (n, never, day) = run(
        "SELECT COUNT(*), SUM(CASE WHEN f.first IS NULL THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN f.first IS NOT NULL AND {within_day} THEN 1 ELSE 0 END) FROM ("
        "SELECT l.received_at, (SELECT MIN(t.occurred_at) FROM leads_touch t "
        f"WHERE {sales}) AS first FROM leads_lead l WHERE {counted}) f",
        period,
    )
    out.append(
        ("follow-up", "within 1 day % / never %", f"{share(day, n)} / {share(never, n)}",
         f"{head('follow-up', 'Followed up within 1 day')} / "
         f"{head('follow-up', 'Never followed up')}", t)
    )  # fmt: skip
    # Speed to lead: working time needs the owners' calendars (not SQL); the leads touched.
    t, (touched,) = run(
        f"SELECT COUNT(*) FROM leads_lead l WHERE {counted} AND EXISTS "
        f"(SELECT 1 FROM leads_touch t WHERE {sales})",
        period,
    )
    out.append(
        ("speed-to-lead", "leads first touched", touched,
         sum(r["touched"] for r in reports["speed-to-lead"][0].rows), t)
    )  # fmt: skip
    # Touch depth: sales touches up to the close of the no-response leads (mean).
    t, (mean,) = run(
        "SELECT AVG(x.n) FROM (SELECT (SELECT COUNT(*) FROM leads_touch t "
        f"WHERE {sales} AND t.occurred_at <= l.disposed_at) AS n FROM leads_lead l "
        f"WHERE {counted} AND l.stage = 'lost' AND l.disposition_id IN (SELECT code FROM "
        "leads_dispositionreason WHERE needs_persistence)) x",
        period,
    )
    out.append(
        ("touch-depth", "touches before no response (mean)",
         None if mean is None else round(float(mean), 1),
         head("touch-depth", "Touches before no response (mean)"), t)
    )  # fmt: skip
    # Dispositions: closed leads with a reason.
    t, (closed,) = run(
        f"SELECT COUNT(*) FROM leads_lead l WHERE {counted} "
        "AND l.stage IN ('won', 'lost', 'disqualified') AND l.disposition_id IS NOT NULL",
        period,
    )
    out.append(("dispositions", "closed leads", closed, head("dispositions", "Closed leads"), t))
    # Source ROI: won revenue in the reporting currency (all models credit it in full).
    t, (revenue,) = run(
        "SELECT SUM(COALESCE(l.won_amount, l.opportunity_amount) * CASE WHEN "
        "COALESCE(NULLIF(UPPER(l.currency), ''), %s) = %s THEN 1 ELSE r.rate END) "
        "FROM leads_lead l LEFT JOIN reports_currencyrate r ON r.currency = UPPER(l.currency) "
        f"WHERE {counted} AND l.stage = 'won' AND (COALESCE(NULLIF(UPPER(l.currency), ''), %s) "
        "= %s OR r.rate IS NOT NULL)",
        [REPORTING, REPORTING, *period, REPORTING, REPORTING],
    )
    out.append(
        ("source-roi", f"won revenue ({REPORTING})", round(float(revenue or 0)),
         head("source-roi", f"Won revenue ({REPORTING})"), t)
    )  # fmt: skip
    # Rule of 45: the latest answered check of each lead.
    t, (bought, known) = run(
        "SELECT SUM(CASE WHEN a IN ('us', 'competitor') THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN a IN ('us', 'competitor', 'nobody') THEN 1 ELSE 0 END) FROM ("
        "SELECT (SELECT c.answer FROM cadences_outcomecheck c WHERE c.lead_id = l.id AND "
        "c.status = 'answered' AND c.answered_at IS NOT NULL ORDER BY c.answered_at DESC "
        f"LIMIT 1) AS a FROM leads_lead l WHERE {counted}) x",
        period,
    )
    out.append(
        ("rule-of-45", "bought within a year %", share(bought or 0, known or 0),
         head("rule-of-45", "Bought within a year"), t)
    )  # fmt: skip
    # Reps: owners (a queue counts as one line).
    t, (lines,) = run(
        f"SELECT COUNT(DISTINCT COALESCE(l.owner_user_id, 0)) FROM leads_lead l WHERE {counted}",
        period,
    )
    out.append(("reps", "lines (owners)", lines, head("reps", "Reps"), t))
    return out


# ---------------------------------------------------------------------------------------


def viewers_for() -> tuple[dict[str, Viewer], int]:
    from leadrefinery.accounts.models import User
    from leadrefinery.leads.models import Source
    from leadrefinery.reports.filters import managed_team_ids

    admin = User.objects.get(username="bench-admin")
    manager = User.objects.get(username="mgr1")
    rep = User.objects.get(username="rep1-01")
    teams = managed_team_ids(manager)
    marks = ", ".join(["%s"] * len(teams))
    viewers = {
        "admin": Viewer("admin", admin, None),
        "manager": Viewer(
            "manager", manager, (f"(user_id = %s OR team_id IN ({marks}))", [manager.pk, *teams])
        ),
        "rep": Viewer("rep", rep, ("user_id = %s", [rep.pk])),
    }
    return viewers, Source.objects.get(name="Paid search").pk


def keep_installation() -> Installation:
    """REFINERY_HOME and DATABASE_URL as given (the database created when missing)."""
    from urllib.parse import urlsplit, urlunsplit

    home = Path(os.environ.get("REFINERY_HOME") or "/tmp/refinery-bench-reports").resolve()
    os.environ["REFINERY_HOME"] = str(home)
    os.environ["DJANGO_SETTINGS_MODULE"] = "benchsite"
    url = os.environ.get("DATABASE_URL")
    if url:
        import psycopg

        parts = urlsplit(url)
        name = parts.path.lstrip("/")
        admin = urlunsplit(parts._replace(path="/postgres"))
        with psycopg.connect(admin, autocommit=True) as conn:
            found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if not found:
                conn.execute(f'CREATE DATABASE "{name}"')
    return Installation(home=home, database_url=url)


def rollup_rows() -> dict[str, int]:
    from leadrefinery.reports.models import Bucket, Cell, Credit, LeadFact

    return {
        "cells": Cell.objects.count(),
        "buckets": Bucket.objects.count(),
        "credits": Credit.objects.count(),
        "facts": LeadFact.objects.count(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=1_000_000, help="leads to seed (1000000)")
    parser.add_argument("--runs", type=int, default=25, help="timed runs per report and case")
    parser.add_argument("--seed", type=int, default=1, help="random seed (1)")
    parser.add_argument(
        "--keep",
        action="store_true",
        help="use REFINERY_HOME/DATABASE_URL as given, keep them, reuse an earlier seed",
    )
    parser.add_argument("--skip-raw", action="store_true", help="skip the raw-SQL headlines")
    parser.add_argument(
        "--build-only",
        action="store_true",
        help="seed and build the rollups, then stop (with --keep: a later run times)",
    )
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)

    load_before = os.getloadavg()[0]
    installation = keep_installation() if args.keep else install("reports")
    seed_note = rebuild_note = ""
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        from leadrefinery.leads.models import Lead, Touch
        from leadrefinery.reports import catalog, rollup
        from leadrefinery.reports.filters import add_months
        from leadrefinery.reports.models import Cell

        call_command("migrate", verbosity=0)
        now = datetime.now(UTC).replace(microsecond=0)
        counts = None
        if Lead.objects.exists():
            seed_note = "reused (--keep): seeded by an earlier run"
        else:
            print(f"Seeding {args.leads:,} leads ...", flush=True)
            counts, seconds = seed(args.leads, rng, now)
            seed_note = (
                f"{seconds['total']:.0f} s ({seconds['rows']:.0f} s generating and writing "
                f"rows, {seconds['indexes']:.0f} s building indexes and ANALYZE; "
                f"{counts.leads / seconds['total']:,.0f} leads/s)"
            )
        leads = Lead.objects.count()
        touches = Touch.objects.count()
        if Cell.objects.exists() and not rollup.pending():
            rebuild_note = "reused (--keep): rollups built by an earlier run"
        else:
            print(f"Rebuilding the rollups from {leads:,} leads ...", flush=True)
            started = time.perf_counter()

            def progress(done: int) -> None:
                if done % 100_000 < 2000:
                    spent = time.perf_counter() - started
                    print(f"  {done:,} leads ({spent:.0f} s, {done / spent:,.0f} leads/s)")

            done = rollup.rebuild(progress=progress)
            spent = time.perf_counter() - started
            with connection.cursor() as cur:
                cur.execute("ANALYZE")
            rebuild_note = f"{done:,} leads in {spent:.0f} s ({done / spent:,.0f} leads/s)"
        rows = rollup_rows()
        db = database_version()
        if args.build_only:
            print(f"Database: {db}; seeding: {seed_note}; rollup rebuild: {rebuild_note}")
            print(f"Rollup rows: {rows}")
            return 0
        viewers, source_id = viewers_for()
        print("Timing the reports ...", flush=True)
        results = time_reports(viewers, source_id, args.runs)
        custom = time_custom_grouping(viewers)
        raw: list[tuple[str, str, Any, Any, float]] = []
        if not args.skip_raw:
            print("Raw SQL headlines (one run each) ...", flush=True)
            today = datetime.now(UTC).date()
            this = date(today.year, today.month, 1)
            period = {"from": f"{add_months(this, -23):%Y-%m}", "to": f"{this:%Y-%m}"}
            built = {}
            for slug in catalog.REPORTS:
                f = catalog.filters_for(slug, period, today)
                built[slug] = (catalog.build(slug, viewers["admin"].user, f), f)
            raw = raw_headlines(built)
    finally:
        if not args.keep:
            installation.cleanup()

    ok = all(r.ok for r in results)
    print()
    print(f"Lead Refinery reports benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"Machine:  {machine()}")
    print(f"Load average (1 min) at start / end: {load_before:.1f} / {os.getloadavg()[0]:.1f}")
    print(f"Database: {db}")
    if counts is not None:
        print(
            f"Seeded {counts.leads:,} leads of {counts.people:,} people, {counts.touches:,} "
            f"touches, {counts.intake:,} intake records, {counts.events:,} lead events, "
            f"{counts.checks:,} outcome checks: {seed_note}"
        )
    else:
        print(f"Database of {leads:,} leads and {touches:,} touches {seed_note}")
    print(f"Rollup rebuild: {rebuild_note}")
    print(
        f"Rollup rows: {rows['cells']:,} cells, {rows['buckets']:,} buckets, "
        f"{rows['credits']:,} credits ({rows['facts']:,} lead facts)"
    )
    print()
    print(
        f"catalog.build(slug, user, filters) against the hand-written SQL over the same rollup "
        f"rows; {args.runs} interleaved runs each after 2 warm-ups (fast cases up to "
        f"{MAX_RUNS}, about a second's worth)"
    )
    lines = [("Report / filters", "rows", "report p50 ms", "p95 ms", "baseline p95 ms", "ratio",
              "p95 < 1 s", "same numbers", "")]  # fmt: skip
    for r in results:
        lines.append(
            (
                f"{r.slug}: {r.case}",
                f"{r.rows:,}",
                f"{percentile(r.report_s, 50) * 1000:.1f}",
                f"{r.p95 * 1000:.1f}",
                f"{r.base_p95 * 1000:.1f}",
                f"{r.ratio:.2f}",
                "yes" if r.p95 < TARGET_P95_S else "NO",
                "yes" if not r.problems else "NO",
                "PASS" if r.ok else "FAIL",
            )
        )
    print(table(lines))
    print()
    summary = [("Report", "worst p95 ms", "worst ratio", "")]
    by_slug: dict[str, list[Result]] = defaultdict(list)
    for r in results:
        by_slug[r.slug].append(r)
    for slug, rs in by_slug.items():
        summary.append(
            (
                slug,
                f"{max(r.p95 for r in rs) * 1000:.1f}",
                f"{max(r.ratio for r in rs):.2f}",
                "PASS" if all(r.ok for r in rs) else "FAIL",
            )
        )
    print(table(summary))
    for r in results:
        for problem in r.problems:
            print(f"  MISMATCH {r.slug} ({r.case}): {problem}")
    print()
    print(
        "Rows by a custom field (from the lead facts, every lead of the period read) against "
        "rows by source (the rollups), the funnel, 12 months, 3 runs each (informational):"
    )
    print(table(custom))
    if raw:
        print()
        print(
            "What the rollups save: the headline of the admin's 24-month report from the raw "
            "rows (1 run), against that report's p95"
        )
        p95 = {r.slug: r.p95 for r in results if r.case.startswith("admin, 24 months")}
        lines = [("Report", "figure", "raw SQL", "report", "raw SQL s", "x report p95")]
        for slug, what, mine, theirs, seconds in raw:
            lines.append(
                (
                    slug,
                    what,
                    str(mine),
                    str(theirs),
                    f"{seconds:.2f}",
                    f"{seconds / p95[slug]:,.0f}x",
                )
            )
        print(table(lines))
    print()
    print(
        f"Every report and filter set: p95 / baseline p95 <= {TARGET_RATIO:.1f} and p95 < "
        f"{TARGET_P95_S:.0f} s, same numbers: {'PASS' if ok else 'FAIL'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
