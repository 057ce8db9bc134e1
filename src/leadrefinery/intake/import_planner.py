"""The import's matching pass in a second process, beside the writes.

An import decides who each row of its file is against the people stored when it started
(import_plan.py). Made first, in the importing process, that pass was half of an import's
time. A large import runs it instead in a child process (this module's ``main``) that reads the stored people inside one read-only
snapshot transaction begun before the import writes anybody: it sees exactly what a plan made
first would see, so the people made are the same, while this process writes the rows planned
so far. Each process has a core of its own.

The child reads the file's rows chunk by chunk and answers each chunk with its decisions over
a pipe, pickled. A fork has the settings and the header mapping already and reads the file
itself; a new interpreter gets them, and the rows, over its stdin from a feeder thread of this
process (so that neither side can block the other). The child is our own code, run with our
own data, and reads nothing else from its pipe.

The child is a fork of this process where it can be (common/forking.py: can_fork; on the
command line and in the worker): it starts at once with everything loaded, where a new
interpreter spent 1.2 to 1.5 s setting Django up while the import waited for its first
answer (a fifth of a 10,000-row import). This process closes its database connection first,
so that the child holds none of its handles (SQLite forbids carrying one across a fork) and
opens its own. Elsewhere (a process with threads, such as the web server) the child is a new
interpreter (``_CHILD``).

Used for a new import of at least ``REFINERY_IMPORT_PLAN_PROCESS_ROWS`` rows made outside a
transaction (a child cannot see uncommitted rows, and an in-memory database is not shared);
otherwise, and for a resume, the plan is made first, in this process. When the child stops,
the import stops with the usual message: ``refinery import --resume`` continues it.
"""

from __future__ import annotations

import logging
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from types import TracebackType
from typing import IO, Any

from django.conf import settings
from django.db import connection, connections

from leadrefinery.common.checkpoint import truncate_wal
from leadrefinery.common.collector import fewer_collections
from leadrefinery.common.db import sqlite_unmapped
from leadrefinery.common.forking import can_fork as _can_fork
from leadrefinery.common.forking import fork_child

from .import_mapping import HeaderMapping
from .import_plan import Plan, Planned, Planner

log = logging.getLogger(__name__)

Chunk = Sequence[tuple[int, list[str]]]  # (row number, cells) of some rows of the file

_PROTOCOL = pickle.HIGHEST_PROTOCOL
# How long an import that wrote every chunk waits for its matching process to end on its own
# (copying the WAL back, _copy_back: bounded by the disk, it never waits for a lock) before
# stopping it.
_COPY_BACK_WAIT = 600.0
# The child's program: Django first (this module's imports need the app registry).
_CHILD = (
    "import django; django.setup(); "
    "from leadrefinery.intake import import_planner; raise SystemExit(import_planner.main())"
)


# The import's one phase when it plans beside the writes (ImportJob.phase; the page then
# shows one pass instead of two).
MATCHING_AND_IMPORTING = "matching+importing"


class PlanFailed(Exception):
    """The matching process stopped or could not start."""


def wanted(rows: int) -> bool:
    """Whether an import of ``rows`` rows, on this connection, plans in a second process."""
    least = settings.REFINERY_IMPORT_PLAN_PROCESS_ROWS
    name = str(connection.settings_dict.get("NAME") or "")
    shared = connection.vendor == "postgresql" or (
        bool(name) and ":memory:" not in name and "mode=memory" not in name
    )
    return bool(least) and rows >= least and shared and not connection.in_atomic_block


def _settings() -> dict[str, Any]:
    """The project's settings as this process has them (tests override some)."""
    return {
        name: getattr(settings, name)
        for name in dir(settings)
        if name.startswith("REFINERY_") and _picklable(getattr(settings, name))
    }


def _picklable(value: object) -> bool:
    try:
        pickle.dumps(value, _PROTOCOL)
    except Exception:
        return False
    return True


class PlanProcess:
    """The child process that plans an import's rows; ``fill`` adds its decisions to a Plan
    up to a row."""

    def __init__(self, mapping: HeaderMapping, chunks: Callable[[], Iterator[Chunk]]):
        """``chunks``: reads the file's rows, chunk by chunk, from the top (a fork of this
        process calls it itself; for a new interpreter a thread of this one does and sends
        them)."""
        context = {
            "database": connection.settings_dict["NAME"],
            "settings": _settings(),
            "mapping": mapping,
        }
        try:
            self._child: subprocess.Popen[bytes] | _Forked = (
                _Forked(context, chunks) if _can_fork() else _spawn()
            )
        except OSError as exc:
            raise PlanFailed(f"the matching process could not start: {exc}") from exc
        log.info(
            "matching process %s started (%s)",
            self._child.pid,
            "a fork of this one" if self.forked else "a new interpreter",
        )
        self._fed: BaseException | None = None
        self._planned_to = 0  # the last row number the child has answered for
        self._ended = False
        self._feeder: threading.Thread | None = None
        if not self.forked:
            self._feeder = threading.Thread(
                target=self._feed, args=(context, chunks), name="import-plan-feed", daemon=True
            )
            self._feeder.start()
        # SQLite: while the child's snapshot holds checkpoints back, each commit's attempt to
        # checkpoint the WAL synced it for nothing (half of the import's commit time); the WAL
        # is checkpointed once, at close.
        self._autocheckpoint: int | None = None
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                self._autocheckpoint = cursor.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
                cursor.execute("PRAGMA wal_autocheckpoint=0")

    @property
    def forked(self) -> bool:
        """Whether the child is a fork of this process (not a new interpreter)."""
        return isinstance(self._child, _Forked)

    def _feed(self, context: dict[str, Any], chunks: Callable[[], Iterator[Chunk]]) -> None:
        stdin = self._child.stdin
        assert stdin is not None
        try:
            pickle.dump(context, stdin, _PROTOCOL)
            for chunk in chunks():
                pickle.dump(list(chunk), stdin, _PROTOCOL)
            pickle.dump(None, stdin, _PROTOCOL)
            stdin.flush()
        except BaseException as exc:  # the child died (a broken pipe) or the file failed
            self._fed = exc
        finally:
            with suppress(OSError):
                stdin.close()

    def fill(self, plan: Plan, through: int) -> None:
        """Add the child's decisions to ``plan`` for every row up to row number ``through``."""
        while not self._ended and self._planned_to < through:
            message = self._next()
            if message[0] == "end":
                self._ended = True
            else:
                _, last, decisions = message
                plan.rows.update(decisions)
                self._planned_to = last

    def _next(self) -> tuple[Any, ...]:
        stdout = self._child.stdout
        assert stdout is not None
        try:
            message = pickle.load(stdout)
        except (EOFError, pickle.UnpicklingError, OSError) as exc:
            code = self._child.wait()
            why = f" ({self._fed})" if self._fed is not None else ""
            raise PlanFailed(f"the matching process stopped (exit status {code}){why}") from exc
        if message[0] == "error":
            raise PlanFailed(f"the matching process failed: {message[1]}")
        return message

    def close(self, *, finished: bool = False) -> None:
        """Stop the child; ``finished``: every chunk is written, and the child may end on its
        own first (it copies the WAL back, see ``_plan``), for at most ``_COPY_BACK_WAIT``
        seconds."""
        try:
            if finished:
                self._let_finish()
        finally:  # Ctrl-C while it finishes stops it too
            if self._child.poll() is None:
                self._child.kill()
            self._child.wait()
        if self._child.stdout is not None:
            self._child.stdout.close()
        if self._feeder is not None:
            self._feeder.join(timeout=10)
        if self._autocheckpoint is not None:
            with connection.cursor() as cursor:
                cursor.execute(f"PRAGMA wal_autocheckpoint={int(self._autocheckpoint)}")
        # SQLite: the child's snapshot held checkpoints back, and the WAL grew with every
        # write of the import (about 20 KB a row); give the disk space back now.
        if not connection.in_atomic_block:
            truncate_wal()

    def _let_finish(self) -> None:
        try:
            while not self._ended:
                self._ended = self._next()[0] == "end"
        except PlanFailed:
            return  # it failed after its last answer: nothing to wait for
        deadline = time.monotonic() + _COPY_BACK_WAIT
        while self._child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.002)

    def __enter__(self) -> PlanProcess:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close(finished=kind is None)


def _spawn() -> subprocess.Popen[bytes]:
    """The child as a new interpreter running ``_CHILD``."""
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "leadrefinery.settings")
    # The modules this process can import, the settings module among them.
    env["PYTHONPATH"] = os.pathsep.join(p or os.getcwd() for p in sys.path)
    return subprocess.Popen(
        [sys.executable, "-c", _CHILD], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env
    )


class _Forked:
    """The child as a fork of this process, with what PlanProcess uses of ``Popen``: its
    answers (``stdout``), ``poll``, ``kill`` and ``wait``. It has the context and reads the
    file itself: nothing is sent to it (a thread of this process feeding it rows took the
    interpreter's lock from the writes, a few milliseconds at a time)."""

    def __init__(self, context: dict[str, Any], chunks: Callable[[], Iterator[Chunk]]) -> None:
        pragmas = _close_connections()
        from_child, to_parent = os.pipe()
        try:
            pid = fork_child(lambda: _forked_main(context, chunks, to_parent), close=(from_child,))
        except OSError:
            for fd in (from_child, to_parent):
                os.close(fd)
            _restore(pragmas)
            raise
        os.close(to_parent)
        self.pid = pid
        self.returncode: int | None = None
        self.stdin: IO[bytes] | None = None
        self.stdout: IO[bytes] | None = os.fdopen(from_child, "rb")
        _restore(pragmas)

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self) -> int:
        if self.returncode is None:
            _, status = os.waitpid(self.pid, 0)
            self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def kill(self) -> None:
        if self.returncode is None:
            with suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)


# SQLite settings of this process's connection that outlive a reconnection (sqlite_unmapped).
_KEPT_PRAGMAS = ("mmap_size", "cache_size")


def _close_connections() -> dict[str, int]:
    """Close this process's database connections before a fork; the SQLite settings the
    import made on its connection, to be made again on the next one."""
    pragmas: dict[str, int] = {}
    if connection.vendor == "sqlite" and connection.connection is not None:
        with connection.cursor() as cursor:
            for name in _KEPT_PRAGMAS:
                cursor.execute(f"PRAGMA {name}")
                pragmas[name] = int(cursor.fetchone()[0])
    connections.close_all()
    return pragmas


def _restore(pragmas: dict[str, int]) -> None:
    if pragmas:
        with connection.cursor() as cursor:
            for name, value in pragmas.items():
                cursor.execute(f"PRAGMA {name}={int(value)}")


def _forked_main(
    context: dict[str, Any], chunks: Callable[[], Iterator[Chunk]], write_fd: int
) -> int:
    """The forked child (common/forking.py: fork_child)."""
    with os.fdopen(write_fd, "wb") as stdout:
        return _plan(context, chunks, stdout)


# --- the child ------------------------------------------------------------------------------


@contextmanager
def _snapshot() -> Iterator[None]:
    """One read-only transaction for the whole pass: every read sees the database as it was
    at the first one, whatever the importing process writes meanwhile. (On SQLite Django's
    own transactions begin IMMEDIATE, taking the write lock; this one is a plain read.)"""
    from leadrefinery.leads.models import Person

    # SQLite: pages read through the OS cache, not mapped into this process, where every
    # page the pass read counted in its resident memory; a small page cache of its own.
    with sqlite_unmapped(cache_mib=8):
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            else:
                cursor.execute("BEGIN DEFERRED")
            # The snapshot is taken by the first read, now, before the parent writes anybody.
            table = connection.ops.quote_name(Person._meta.db_table)
            cursor.execute(f"SELECT 1 FROM {table} LIMIT 1")
            cursor.fetchall()
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("ROLLBACK")


def _copy_back() -> None:
    """SQLite: with this process's snapshot given back, copy the WAL written meanwhile back
    into the database (a passive checkpoint: it waits for no one), on this core, while the
    importing process writes its last chunks; at close it has only those left to copy.
    It was 0.4 s at the end of a 10,000-row import, the WAL at 80 MB."""
    if connection.vendor != "sqlite":
        return
    from django.db import DatabaseError

    try:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
    except DatabaseError as exc:  # best effort: the importing process copies it all at close
        log.info("WAL copy-back skipped: %s", exc)


def _child(stdin: IO[bytes], stdout: IO[bytes]) -> int:
    """A new interpreter's: the context, then the rows chunk by chunk, come over ``stdin``."""
    try:
        context = pickle.load(stdin)
    except (EOFError, pickle.UnpicklingError, OSError):
        return 1  # the importing process is gone
    return _plan(context, lambda: iter(lambda: pickle.load(stdin), None), stdout)


def _plan(context: dict[str, Any], chunks: Callable[[], Iterator[Chunk]], stdout: IO[bytes]) -> int:
    """Answer each chunk of rows with its decisions on ``stdout``, then ("end",)."""
    for name, value in context["settings"].items():
        setattr(settings, name, value)
    connection.settings_dict["NAME"] = context["database"]
    try:
        with _snapshot(), fewer_collections():
            planner = Planner(context["mapping"], keep_normalized=True)
            for chunk in chunks():
                decisions: list[tuple[int, Planned]] = planner.chunk(chunk) if chunk else []
                last = chunk[-1][0] if chunk else 0
                pickle.dump(("plan", last, decisions), stdout, _PROTOCOL)
                stdout.flush()

        pickle.dump(("end",), stdout, _PROTOCOL)
        stdout.flush()
        _copy_back()
    except BrokenPipeError:
        return 1  # the importing process is gone
    except BaseException as exc:
        traceback.print_exc()
        try:
            pickle.dump(("error", f"{type(exc).__name__}: {exc}"), stdout, _PROTOCOL)
            stdout.flush()
        except OSError:
            pass
        return 1
    finally:
        connection.close()
    return 0


def main() -> int:
    """The child: decisions on stdout, anything printed goes to stderr."""
    stdout = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    return _child(sys.stdin.buffer, stdout)
