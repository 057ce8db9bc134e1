"""`refinery serve` and `refinery worker` as real processes, on their own fresh database.

Each test gets a new data folder (and, under DATABASE_URL, a new PostgreSQL database that is
dropped afterwards), migrates it, and drives the commands as an operator would: over HTTP
and with signals. "No orphans" is checked by looking for any process that still carries the
test's REFINERY_HOME in its environment.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from leadrefinery.common.jobs import REGISTRY
from leadrefinery.demo.data import DEMO_USERS

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs Linux /proc"),
]


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


@pytest.fixture
def site(tmp_path: Path) -> Iterator[dict[str, str]]:
    """Environment for a freshly migrated installation of its own."""
    home = tmp_path / "home"
    env = dict(os.environ, REFINERY_HOME=str(home), PYTHONUNBUFFERED="1", REFINERY_WORKERS="1")
    env.pop("REFINERY_DEBUG", None)  # static files must be served with DEBUG off
    env.pop("DJANGO_SETTINGS_MODULE", None)
    base_url = os.environ.get("DATABASE_URL")
    database = None
    if base_url:
        import psycopg

        database = f"refinery_proc_{uuid.uuid4().hex[:12]}"
        admin_url = _with_database(base_url, "postgres")
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{database}"')
        env["DATABASE_URL"] = _with_database(base_url, database)
    try:
        migrate = subprocess.run(
            [sys.executable, "-m", "leadrefinery", "migrate", "--no-input"],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert migrate.returncode == 0, migrate.stderr
        yield env
    finally:
        _kill_leftovers(str(home))
        if database:
            import psycopg

            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def _processes_of(home: str) -> list[int]:
    """Every live process started with REFINERY_HOME=home (ours: the path is unique)."""
    needle = b"\0REFINERY_HOME=" + home.encode() + b"\0"
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            environ = Path(f"/proc/{entry}/environ").read_bytes()
            state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and needle in b"\0" + environ:
            found.append(int(entry))
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _parent(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except OSError:
        return 0


def _kill_leftovers(home: str) -> None:
    for pid in _processes_of(home):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _wait_for(check: Callable[[], object], timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def _get(url: str) -> tuple[int, dict[str, str], bytes] | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()
    except OSError:
        return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _django(env: dict[str, str], code: str) -> str:
    """Run Python code against the site's database in a fresh process; returns its stdout."""
    prelude = (
        "import os, django\n"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'leadrefinery.settings')\n"
        "django.setup()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", prelude + code], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _start(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen:
    # Output goes to a file: a full pipe would block the server mid-test.
    with log.open("w") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "leadrefinery", *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _stop(proc: subprocess.Popen, timeout: float = 60) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout=timeout)


def test_serve_answers_http_runs_the_worker_and_sigterm_stops_everything(site, tmp_path):
    port = _free_port()
    home = site["REFINERY_HOME"]
    log = tmp_path / "serve.log"
    proc = _start(site, log, "serve", "--port", str(port))
    try:
        base = f"http://127.0.0.1:{port}"
        health = _wait_for(lambda: _get(base + "/healthz"), 90, "the web server")
        assert isinstance(health, tuple)
        status, _, body = health
        assert status == 200
        assert json.loads(body)["status"] == "ok"

        css = _get(base + "/static/vendor/pico.min.css")
        assert css is not None
        assert css[0] == 200
        assert css[1]["Content-Type"].startswith("text/css")
        assert b"Pico" in css[2][:400]

        from django.urls import Resolver404, resolve

        try:
            resolve("/login/")
        except Resolver404:
            pass  # the sign-in page is not part of this build yet
        else:
            login = _get(base + "/login/")
            assert login is not None
            assert login[0] == 200
            assert b'name="password"' in login[2]

        # The background worker runs next to the web server.
        _wait_for(
            lambda: any(" worker" in _cmdline(pid) for pid in _processes_of(home)),
            30,
            "the worker process",
        )
        _wait_for(lambda: "Q Cluster" in log.read_text(), 30, "the worker to start its cluster")
        # serve prints its URL once its own health poll succeeds, which may come after ours.
        _wait_for(lambda: f"running at {base}/" in log.read_text(), 30, "serve to report its URL")

        assert _stop(proc) == 0
        _wait_for(lambda: not _processes_of(home), 20, "every child process to exit")
        assert "Stopped." in log.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()


def test_serve_stops_the_worker_and_fails_when_the_web_server_dies(site, tmp_path):
    port = _free_port()
    home = site["REFINERY_HOME"]
    log = tmp_path / "serve.log"
    proc = _start(site, log, "serve", "--port", str(port))
    try:
        _wait_for(lambda: _get(f"http://127.0.0.1:{port}/healthz"), 90, "the web server")
        master = _wait_for(
            lambda: next(
                (
                    pid
                    for pid in _processes_of(home)
                    if "gunicorn" in _cmdline(pid) and _parent(pid) == proc.pid
                ),
                None,
            ),
            10,
            "the gunicorn master process",
        )
        assert isinstance(master, int)
        os.kill(master, signal.SIGKILL)

        assert proc.wait(timeout=60) != 0
        assert "web server stopped unexpectedly" in log.read_text()
        _wait_for(lambda: not _processes_of(home), 20, "the worker and web workers to exit")
    finally:
        if proc.poll() is None:
            proc.kill()


def test_serve_refuses_an_unmigrated_database(tmp_path):
    env = dict(os.environ, REFINERY_HOME=str(tmp_path / "empty"))
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "leadrefinery", "serve", "--port", str(_free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "run `refinery migrate` first" in done.stderr
    assert not _processes_of(env["REFINERY_HOME"])


def test_worker_syncs_the_schedule_and_runs_queued_tasks(site, tmp_path):
    home = site["REFINERY_HOME"]
    # An inquiry that a crash left unprocessed ten minutes ago, and a queued sweep task.
    record_id = _django(
        site,
        "from datetime import timedelta\n"
        "from django_q.tasks import async_task\n"
        "from leadrefinery.common.clock import now\n"
        "from leadrefinery.intake.services import intake_receive\n"
        "from leadrefinery.leads.models import Source\n"
        "record, _ = intake_receive(channel='api', source=Source.objects.get(name='API'),\n"
        "    payload={'email': 'stuck@example.com', 'first_name': 'Stuck'},\n"
        "    at=now() - timedelta(minutes=10))\n"
        "async_task('leadrefinery.intake.services.intake_retry_sweep')\n"
        "print(record.pk)\n",
    )
    status_code = (
        "import json\n"
        "from django_q.models import Schedule, Success\n"
        "from leadrefinery.leads.models import IntakeRecord\n"
        f"record = IntakeRecord.objects.get(pk={int(record_id)})\n"
        "print(json.dumps({'status': record.status, 'lead': record.lead_id,\n"
        "  'schedules': sorted(Schedule.objects.values_list('name', flat=True)),\n"
        "  'results': [t.result for t in Success.objects.filter(\n"
        "      func='leadrefinery.intake.services.intake_retry_sweep')]}))\n"
    )
    before = json.loads(_django(site, status_code))
    assert before["status"] == "received"
    assert before["schedules"] == []

    log = tmp_path / "worker.log"
    proc = _start(site, log, "worker")
    try:
        after = _wait_for(
            lambda: (
                (state := json.loads(_django(site, status_code)))["status"] == "processed"
                and state["results"]
                and state
            ),
            30,
            "the worker to process the waiting inquiry",
        )
        assert isinstance(after, dict)
        assert after["lead"] is not None
        assert after["results"] == [1]  # one record processed by the queued task
        assert after["schedules"] == sorted(job.name for job in REGISTRY)
        assert "Periodic job 'intake-retry'" in log.read_text()

        assert _stop(proc) == 0
        _wait_for(lambda: not _processes_of(home), 20, "the cluster processes to exit")
    finally:
        if proc.poll() is None:
            proc.kill()


def test_make_demo_flow_serves_a_login_page_where_the_printed_logins_work(site, tmp_path):
    """What `make demo` does (migrate, demo, serve), checked the way a first-time user would."""
    import http.cookiejar
    import re
    import urllib.parse

    demo = subprocess.run(
        [sys.executable, "-m", "leadrefinery", "demo", "--leads", "20", "--seed", "5"],
        env=site,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert demo.returncode == 0, demo.stderr
    rows = re.findall(r"^\s+(\w+)\s+(\S+-demo-pw)\s+(.+?)\s{2,}", demo.stdout, re.MULTILINE)
    assert {role for _, _, role in rows} >= {"Sales rep", "Sales manager", "Administrator"}
    username, password, _ = next(row for row in rows if row[2] == "Sales rep")

    port = _free_port()
    proc = _start(site, tmp_path / "serve.log", "serve", "--port", str(port))
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for(lambda: _get(base + "/healthz"), 90, "the web server")
        browser = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        with browser.open(base + "/", timeout=10) as resp:  # the front door leads to sign-in
            assert urlsplit(resp.url).path == "/login/"
            page = resp.read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert token, "the login page has no form"
        form = urllib.parse.urlencode(
            {"username": username, "password": password, "csrfmiddlewaretoken": token[1]}
        ).encode()
        with browser.open(base + "/login/", data=form, timeout=10) as resp:
            assert urlsplit(resp.url).path == "/leads/"
            assert resp.status == 200
            signed_in = resp.read().decode()
        demo_user = next(u for u in DEMO_USERS if u.username == username)
        # Signed in as that person: the page names them.
        assert f"{demo_user.first_name} {demo_user.last_name}" in signed_in
    finally:
        _stop(proc)
