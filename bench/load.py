"""Load benchmark: the sustained request rate at which p99 stays under 200 ms with no errors,
for a realistic mix against a bare endpoint, with locust (headless, 127.0.0.1 only).

1. A fresh installation (PostgreSQL when DATABASE_URL is set, as the issue asks; SQLite
   otherwise), migrated, with the demo data (reps, forms, a few hundred leads) and an API
   token; `refinery serve --workers 2` (two web processes, four threads each) and its worker.
2. Two user classes, each user at one request per second (``constant_throughput(1)``):
   - **mixed**: API inquiries (new buyers, 30%), tracking visits (``POST /t/v``, 30%), reps
     at work (signed in: the lead list, a lead's page, the Today page; 30%) and public form
     pages (10%);
   - **bare**: ``GET /healthz`` (one database round trip), the baseline.
3. For each class, steps of increasing users (``--steps``), ``--step-seconds`` each after a
   few seconds of ramp-up: a step passes when it has no failed request, its p99 is under
   200 ms and it reached 90% of the offered rate. The sustained rate is the highest achieved
   rate of a passing step.

Prints both sustained rates and the ratio mixed / bare (the load generator shares the
machine's cores with the server: the ratio is what compares across machines).

    .venv/bin/python bench/load.py [--steps 10,20,40,60,80,120] [--step-seconds 20]
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

# locust patches the standard library with gevent: it must be imported first.
from locust import HttpUser, constant_throughput, task
from locust.env import Environment

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import install, machine, table

TARGET_P99_MS = 200.0
MAX_USERS = 2000
HOST = "127.0.0.1"
_counter = itertools.count()
_setup: dict[str, str] = {}


class Mixed(HttpUser):
    wait_time = constant_throughput(1)

    def on_start(self) -> None:
        self.rep = random.choice(["riley", "jordan", "casey"])
        page = self.client.get("/login/", name="login")
        csrf = self.client.cookies.get("csrftoken", "")
        self.client.post(
            "/login/",
            data={"username": self.rep, "password": f"{self.rep}-demo-pw",
                  "csrfmiddlewaretoken": csrf},
            headers={"Referer": page.url},
            name="login",
        )  # fmt: skip
        self.visitor = uuid.uuid4().hex

    @task(3)
    def api_inquiry(self) -> None:
        n = next(_counter)
        self.client.post(
            "/api/v1/inquiries",
            json={"email": f"load{n}-{uuid.uuid4().hex[:6]}@loadtest.example",
                  "first_name": "Pat", "last_name": f"Load{n}", "company": f"Load Co {n % 50}",
                  "message": "Please call me about a demo"},
            headers={"Authorization": f"Bearer {_setup['token']}",
                     "Idempotency-Key": uuid.uuid4().hex},
            name="api inquiry",
        )  # fmt: skip

    @task(3)
    def visit(self) -> None:
        self.client.post(
            "/t/v",
            data=f'{{"vid": "{self.visitor}", "url": "https://www.example.com/pricing"}}',
            headers={"Content-Type": "text/plain"},
            name="tracking visit",
        )

    @task(1)
    def lead_list(self) -> None:
        self.client.get("/leads/", name="rep: lead list")

    @task(1)
    def today(self) -> None:
        self.client.get("/today/", name="rep: today")

    @task(1)
    def lead_page(self) -> None:
        # A lead of another rep answers 404: that is the app working, not an error.
        with self.client.get(
            f"/leads/{random.randint(1, 300)}/", name="rep: lead page", catch_response=True
        ) as response:
            if response.status_code in (200, 404):
                response.success()

    @task(1)
    def form_page(self) -> None:
        self.client.get("/f/contact/", name="public form page")


class Bare(HttpUser):
    wait_time = constant_throughput(1)

    @task
    def health(self) -> None:
        self.client.get("/healthz", name="healthz")


def step(env: Environment, users: int, seconds: float) -> dict[str, float]:
    runner = env.runner
    assert runner is not None
    runner.start(users, spawn_rate=min(max(users, 1), 100))
    time.sleep(min(5.0, seconds / 3) + users / 100)  # ramp up (100 users/s) and settle
    env.stats.reset_all()
    started = time.monotonic()
    time.sleep(seconds)
    spent = time.monotonic() - started
    total = env.stats.total
    slowest = max(
        env.stats.entries.values(),
        key=lambda e: e.get_response_time_percentile(0.99) or 0,
        default=None,
    )
    return {
        "slowest": f"{slowest.name} p99 {slowest.get_response_time_percentile(0.99):.0f} ms"
        if slowest is not None
        else "",
        "users": users,
        "requests": total.num_requests,
        "failures": total.num_failures,
        "rps": total.num_requests / spent,
        "p50": total.get_response_time_percentile(0.5) or 0.0,
        "p99": total.get_response_time_percentile(0.99) or 0.0,
    }


def sustained(user: type[HttpUser], base: str, steps: list[int], seconds: float):  # type: ignore[no-untyped-def]
    env = Environment(user_classes=[user], host=base)
    env.create_local_runner()
    results = []
    best = 0.0

    # The given steps, then 25% more users at a time until a step fails (so the ceiling is
    # found, not the end of the list), up to MAX_USERS.
    def offered() -> Iterator[int]:
        yield from steps
        users = steps[-1]
        while users < MAX_USERS:
            users = int(users * 1.25)
            yield users

    try:
        for users in offered():
            r = step(env, users, seconds)
            r["pass"] = r["failures"] == 0 and r["p99"] < TARGET_P99_MS and r["rps"] >= 0.9 * users
            results.append(r)
            print(
                f"  {user.__name__.lower()}: {users} users -> {r['rps']:.1f} req/s, p99 "
                f"{r['p99']:.0f} ms, {r['failures']} failed: {'pass' if r['pass'] else 'FAIL'} "
                f"(slowest: {r['slowest']})",
                flush=True,
            )
            if not r["pass"]:
                break
            best = max(best, r["rps"])
    finally:
        env.runner.quit()  # type: ignore[union-attr]
    return best, results


def _refinery(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "leadrefinery", *args], env=env, capture_output=True, text=True,
        timeout=900,
    )  # fmt: skip
    if done.returncode:
        raise SystemExit(f"refinery {' '.join(args)} failed: {done.stderr[-2000:]}")
    return done.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", default="10,20,40,60,80,120,160", help="users per step")
    parser.add_argument("--step-seconds", type=float, default=20.0, help="seconds per step")
    parser.add_argument("--port", type=int, default=8431, help="the server's port (8431)")
    args = parser.parse_args(argv)
    steps = [int(s) for s in args.steps.split(",") if s.strip()]

    installation = install("load")
    env = installation.env
    env.pop("DJANGO_SETTINGS_MODULE", None)  # the app's own settings, as a user runs it
    env["REFINERY_WORKERS"] = "1"
    # All the load comes from one address: the per-address limits of anonymous entry points
    # (which answer 429 past them) are lifted, so the bench measures the work, not the limit.
    env["REFINERY_TRACKING_RATE_LIMIT_PER_HOUR"] = "100000000"
    env["REFINERY_FORM_RATE_LIMIT_PER_HOUR"] = "100000000"
    server = None
    try:
        _refinery(env, "migrate", "--no-input")
        _refinery(env, "demo")
        token = _refinery(
            env, "shell", "-c",
            "from leadrefinery.accounts.models import User\n"
            "from leadrefinery.accounts.services import token_create\n"
            "print(token_create(user=User.objects.get(username='admin'), "
            "scopes=['inquiries:write']).secret)",
        ).strip().splitlines()[-1]  # fmt: skip
        _setup["token"] = token
        log = installation.home / "serve.log"
        with log.open("w") as out:
            server = subprocess.Popen(
                [sys.executable, "-m", "leadrefinery", "serve", "--port", str(args.port),
                 "--workers", "2"],
                env=env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        base = f"http://{HOST}:{args.port}"
        for _ in range(240):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=2).read()
                break
            except OSError:
                time.sleep(0.5)
        print(f"Server up at {base}; stepping the bare endpoint ...", flush=True)
        bare, bare_steps = sustained(Bare, base, steps, args.step_seconds)
        print("Stepping the mixed load ...", flush=True)
        mixed, mixed_steps = sustained(Mixed, base, steps, args.step_seconds)
        load_end = os.getloadavg()[0]
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=90)
        installation.cleanup()

    print()
    print(f"Lead Refinery load benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"Machine:  {machine()}; load average at the end {load_end:.1f}")
    print(f"Database: {installation.vendor}; refinery serve --workers 2 (4 threads each)")
    rows = [("Load", "users", "req/s", "p50 ms", "p99 ms", "failed", "")]
    for label, results in (("bare /healthz", bare_steps), ("mixed", mixed_steps)):
        for r in results:
            rows.append((label, str(int(r["users"])), f"{r['rps']:.1f}", f"{r['p50']:.0f}",
                         f"{r['p99']:.0f}", str(int(r["failures"])),
                         "pass" if r["pass"] else "FAIL"))  # fmt: skip
    print(table(rows))
    ratio = mixed / bare if bare else 0.0
    print()
    print(
        f"Sustained with p99 < {TARGET_P99_MS:.0f} ms and no error: bare {bare:.1f} req/s, "
        f"mixed {mixed:.1f} req/s; ratio mixed / bare {ratio:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
