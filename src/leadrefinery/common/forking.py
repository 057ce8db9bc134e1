"""Work done in a fork of this process, on the other core, while this one goes on.

The machine a team runs this on has two cores or more, and a long job (an import, a scan)
is one process on one of them. A part of the job that needs only what is in memory can run
in a copy of the process made by ``fork``: it starts at once with everything loaded, and
hands back its result over a pipe (pickled).

A fork copies only the thread that makes it; a lock another thread held at that moment
would be held in the copy for good. So a fork is made only from the main thread of a process
running no other thread (the command line, the tests), but for multiprocessing's queue
feeder: a django-q worker process runs one after its first job, to send results back to the
cluster, and the child takes no lock it holds. Elsewhere (the web server's threads) the work
is done here, in turn.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import pickle
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Sequence
from contextlib import suppress
from typing import Generic, TypeVar

T = TypeVar("T")


# Threads a fork may leave behind (see the module docstring).
_HARMLESS_THREADS = frozenset({"QueueFeederThread"})


def can_fork() -> bool:
    """Whether this process can fork safely now: POSIX, called from the main thread, and no
    other thread running but harmless ones."""
    if not hasattr(os, "fork"):
        return False
    main = threading.main_thread()
    return threading.current_thread() is main and all(
        t is main or t.name in _HARMLESS_THREADS for t in threading.enumerate()
    )


def in_fork_child() -> None:
    """What a forked child does first: the parent's objects are never collected there (their
    pages stay shared with the parent instead of being copied as the collector walks them),
    Ctrl-C is the parent's to handle (it ends the child), and a signal to stop ends it."""
    gc.freeze()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def flush_std_streams() -> None:
    """Before a fork: nothing buffered is written twice, by the parent and by the child."""
    for stream in (sys.stdout, sys.stderr):
        with suppress(Exception):
            stream.flush()


def fork_child(child: Callable[[], int], *, close: Sequence[int] = ()) -> int:
    """Fork this process; the child's pid, in this one (OSError when no fork can be made).
    The child closes the descriptors ``close`` (this process's ends of their pipes), does what
    ``in_fork_child`` does, runs ``child`` and exits with its status (1 when it raises),
    never returning into the caller's code."""
    flush_std_streams()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            for fd in close:
                os.close(fd)
            in_fork_child()
            code = child()
        except BaseException:
            with suppress(BaseException):
                traceback.print_exc()
        finally:
            os._exit(code)
    return pid


class Beside(Generic[T]):
    """``work()`` computed in a fork of this process from now on; ``result()`` waits for it.

    ``work`` must use only what is in memory (no database: the child must not touch the
    parent's connections). Where no fork can be made, or the child fails, ``result()``
    computes it here instead: the result is the same either way, only sooner or later."""

    def __init__(self, work: Callable[[], T]) -> None:
        self._work = work
        self._pid: int | None = None
        self._read: int | None = None
        self.forked = False  # whether the work runs in a fork (else result() does it here)
        if not can_fork():
            return
        read, write = os.pipe()

        def child() -> int:
            with os.fdopen(write, "wb") as out:
                pickle.dump(work(), out, pickle.HIGHEST_PROTOCOL)
            return 0

        try:
            pid = fork_child(child, close=(read,))
        except OSError:
            os.close(read)
            os.close(write)
            return
        os.close(write)
        self._pid, self._read = pid, read
        self.forked = True

    def result(self) -> T:
        if self._pid is None or self._read is None:
            return self._work()
        value: T
        try:
            with os.fdopen(self._read, "rb") as source:
                self._read = None
                value = pickle.load(source)
        except (EOFError, pickle.UnpicklingError, OSError):
            self._reap()
            return self._work()  # the child failed: done here after all
        self._reap()
        return value

    def cancel(self) -> None:
        """The result is not wanted: stop the child."""
        if self._pid is not None:
            with suppress(ProcessLookupError):
                os.kill(self._pid, signal.SIGKILL)
        if self._read is not None:
            os.close(self._read)
            self._read = None
        self._reap()

    def _reap(self) -> None:
        if self._pid is not None:
            with suppress(ChildProcessError):
                os.waitpid(self._pid, 0)
            self._pid = None


class BothEnds(Generic[T]):
    """``work(start, stop)`` over the items ``0 .. total - 1``, shared with a fork: the fork
    takes ``step`` items at a time from the front from now on, this process takes them from
    the back when it calls ``finish()``, and they stop where they meet. Neither waits for
    the other while there is work left, whichever is faster or busier.

    ``merge(a, b)`` adds the result of the parts after ``a``'s to it; ``finish()`` merges
    every part in the order of the items (the result is what one ``work(0, total)`` and its
    parts merged in turn would give, wherever they met). Where no fork can be made, or the
    fork fails, ``finish()`` does its share here."""

    def __init__(
        self,
        total: int,
        work: Callable[[int, int], T],
        merge: Callable[[T, T], T],
        *,
        step: int = 1000,
    ) -> None:
        self._total, self._work, self._merge, self._step = total, work, merge, max(1, step)
        context = multiprocessing.get_context("fork")  # the semaphore unlinked at once
        self._lock = context.Lock()
        self._ends = context.RawArray("q", [0, total])  # [front, back], shared with the fork
        self._fork: Beside[T | None] | None = None
        if total and can_fork():
            self._fork = Beside(self._front)
            if not self._fork.forked:
                self._fork = None

    def _take(self, front: bool) -> tuple[int, int] | None:
        with self._lock:
            start, stop = self._ends[0], self._ends[1]
            if start >= stop:
                return None
            if front:
                self._ends[0] = stop = min(start + self._step, stop)
            else:
                self._ends[1] = start = max(stop - self._step, start)
            return start, stop

    def _front(self) -> T | None:
        """The fork's share: parts from the front, merged in order."""
        done: T | None = None
        while (part := self._take(True)) is not None:
            result = self._work(*part)
            done = result if done is None else self._merge(done, result)
        return done

    def finish(self) -> T:
        """This process's share, then the fork's result: every part, merged in order."""
        if self._fork is None:  # no fork to share with: all of it here
            return self._work(0, self._total)
        back: list[T] = []
        while (part := self._take(False)) is not None:
            back.append(self._work(*part))
        met = self._ends[1]
        fork, self._fork = self._fork, None
        done = fork.result()  # None when the fork took no part, or failed
        if met and done is None:  # it took parts but failed: they are done here
            done = self._work(0, met)
        for result in reversed(back):
            done = result if done is None else self._merge(done, result)
        assert done is not None  # total > 0 here: some part was done, by one or the other
        return done

    def cancel(self) -> None:
        """The result is not wanted: stop the fork."""
        if self._fork is not None:
            self._fork.cancel()
            self._fork = None
