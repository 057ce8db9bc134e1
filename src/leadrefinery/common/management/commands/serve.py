"""`refinery serve`: the web server (gunicorn) and the background worker, together.

Both run as child processes of this one. It forwards Ctrl-C / SIGTERM to them and stops the
other when either dies: restarting is the job of whatever supervises `refinery serve`
(systemd, a container runtime), which then sees one process to watch.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

# How long children get to finish in-flight requests and tasks before they are killed.
STOP_TIMEOUT_SECONDS = 30
# gunicorn's default access log line without the query string and the referrer: both carry
# what people typed (a search for an email address, a form's fields in a link), and the
# access log is kept by whatever collects standard output. %(U)s is the path alone.
ACCESS_LOG_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(a)s"'
READY_TIMEOUT_SECONDS = 60
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Runs in each child before exec: own process group (so a kill of the group reaches its
    grandchildren too) and, on Linux, SIGTERM when `serve` itself dies without cleaning up
    (e.g. SIGKILL), so no orphaned web server or worker keeps running."""
    os.setpgid(0, 0)
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class Child:
    name: str
    process: subprocess.Popen

    @property
    def alive(self) -> bool:
        """Checked without reaping: an exited leader stays a zombie until ``reap``, which
        keeps its process-group id ours so that leftovers in the group can still be killed."""
        try:
            info = os.waitid(os.P_PID, self.process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return False
        return info is None

    def signal_group(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signum)


# Longest request line (method, URL with query string, version) gunicorn accepts; a longer
# one is answered 414 in plain text, as docs/api.md and the OpenAPI document say.
LIMIT_REQUEST_LINE = 8190


def _gunicorn_extra_args() -> list[str]:
    import gunicorn

    args = ["--limit-request-line", str(LIMIT_REQUEST_LINE)]
    # Since 25.1 gunicorn opens a control socket at one fixed path per user, so two
    # instances (tests, a benchmark next to a running app) would fight over it.
    if tuple(gunicorn.version_info) >= (25, 1):
        args.append("--no-control-socket")
    return args


def _metrics_folder(port: int) -> None:
    """The web processes write their request metrics into one folder that GET /metrics
    adds up (prometheus-client's multi-process mode): one per server (by its port, so two
    servers on one machine are scraped apart), emptied at each start, as the numbers of
    processes that are gone would otherwise count forever."""
    folder = Path(settings.REFINERY_HOME) / "prometheus" / str(port)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        folder = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)  # inherited by the children


def _access_log() -> list[str]:
    """gunicorn's access log, unless the logs are JSON: then the app writes the access line
    itself (common/logs.py), with the request id and without the path."""
    if getattr(settings, "LOG_FORMAT", "plain") == "json":
        return []
    return ["--access-logfile", "-", "--access-logformat", ACCESS_LOG_FORMAT]


def _url_host(host: str) -> str:
    if host in ("", "0.0.0.0", "::"):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def _bind_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


class Command(BaseCommand):
    help = (
        "Run Lead Refinery: the web app under gunicorn and the background worker (django-q2 on "
        "the database queue) in one command. Ctrl-C or SIGTERM stops both; if either stops on "
        "its own, the other is stopped too and the exit status is non-zero. Settings come from "
        "the environment (REFINERY_HOME, DATABASE_URL, ...; see docs/configuration.md)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000, help="TCP port (default 8000)")
        parser.add_argument(
            "--host",
            default="127.0.0.1",
            help="address to listen on (default 127.0.0.1; 0.0.0.0 for every interface, "
            "then also set REFINERY_ALLOWED_HOSTS)",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=2,
            help="gunicorn worker processes (default 2; each has 4 threads)",
        )
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="do not start the background worker (run `refinery worker` elsewhere)",
        )

    def handle(self, *args, port: int, host: str, workers: int, no_worker: bool, **options):
        if not 0 < port < 65536:
            raise CommandError(f"--port must be between 1 and 65535, not {port}")
        if workers < 1:
            raise CommandError("--workers must be at least 1")
        self._refuse_unmigrated()
        # Children open their own connections; do not hand them (or keep) ours.
        connections.close_all()
        _metrics_folder(port)

        self._stop_signal: int | None = None
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGTERM, self._on_signal)

        children: list[Child] = []
        try:
            if not no_worker:
                children.append(
                    self._start("worker", [sys.executable, "-m", "leadrefinery", "worker"])
                )
            children.append(
                self._start(
                    "web server",
                    [
                        sys.executable,
                        "-m",
                        "gunicorn",
                        "leadrefinery.wsgi:application",
                        "--bind",
                        f"{_bind_host(host)}:{port}",
                        "--workers",
                        str(workers),
                        "--threads",
                        "4",
                        *_access_log(),
                        "--graceful-timeout",
                        str(STOP_TIMEOUT_SECONDS - 5),
                        *_gunicorn_extra_args(),
                    ],
                )
            )
            url = f"http://{_url_host(host)}:{port}/"
            self._announce_when_ready(url, children)
            died = self._watch(children)
        finally:
            self._stop_all(children)
        if died is not None:
            code = died.process.returncode  # reaped by _stop_all
            raise CommandError(
                f"the {died.name} stopped unexpectedly (exit status {code}); "
                "stopped everything else too"
            )
        self.stdout.write("Stopped.")

    # --- pieces ----------------------------------------------------------------------

    def _refuse_unmigrated(self) -> None:
        connection = connections[DEFAULT_DB_ALIAS]
        try:
            executor = MigrationExecutor(connection)
            plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        except Exception as exc:  # an unreachable database is the common case here
            raise CommandError(f"cannot reach the database: {exc}") from None
        if plan:
            raise CommandError(
                f"the database needs {len(plan)} migration(s); run `refinery migrate` first"
            )

    def _on_signal(self, signum, frame) -> None:
        self._stop_signal = signum

    def _start(self, name: str, argv: list[str]) -> Child:
        # Environment (REFINERY_HOME, DATABASE_URL, ...) is inherited unchanged.
        process = subprocess.Popen(argv, preexec_fn=_die_with_parent)
        self.stdout.write(f"Started the {name} (pid {process.pid}).")
        self.stdout.flush()
        return Child(name=name, process=process)

    def _announce_when_ready(self, url: str, children: list[Child]) -> None:
        """Print the address once the web server answers, so it is never a dead link."""
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self._stop_signal is not None or not all(c.alive for c in children):
                return
            try:
                with urllib.request.urlopen(url + "healthz", timeout=2):
                    pass
            except urllib.error.HTTPError as exc:
                if exc.code == 400:
                    self.stderr.write(
                        "The web server refuses this host name: add it to REFINERY_ALLOWED_HOSTS."
                    )
                elif exc.code == 503:
                    self.stderr.write("The web server is up but cannot reach the database.")
            except OSError:  # not listening yet (URLError is an OSError)
                time.sleep(0.2)
                continue
            self.stdout.write(
                self.style.SUCCESS(f"Lead Refinery is running at {url}  (Ctrl-C to stop)")
            )
            self.stdout.flush()
            return
        self.stderr.write(
            f"The web server has not answered at {url} after {READY_TIMEOUT_SECONDS} s; "
            "still waiting (see its log above)."
        )

    def _watch(self, children: list[Child]) -> Child | None:
        """Block until a stop signal (returns None) or until a child exits (returns it)."""
        while self._stop_signal is None:
            for child in children:
                if not child.alive:
                    return child
            time.sleep(0.2)
        self.stdout.write(f"Received {signal.Signals(self._stop_signal).name}; stopping...")
        self.stdout.flush()
        return None

    def _stop_all(self, children: list[Child]) -> None:
        for child in children:
            if child.alive:
                # The leader coordinates its own shutdown (gunicorn drains requests, the
                # cluster lets running tasks finish), so only it gets the polite signal.
                with contextlib.suppress(ProcessLookupError):
                    child.process.send_signal(signal.SIGTERM)
            else:
                # A leader that died abruptly may have left its processes behind.
                child.signal_group(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        while any(c.alive for c in children) and time.monotonic() < deadline:
            time.sleep(0.1)
        for child in children:
            if child.alive:
                self.stderr.write(f"The {child.name} did not stop in time; killing it.")
            # Whatever is left in its group (gunicorn workers, cluster processes) goes too.
            child.signal_group(signal.SIGKILL)
            child.process.wait()
