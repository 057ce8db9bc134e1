"""common/forking.py: work done in a fork on the other core, or here when no fork can be
made; the same result either way."""

from __future__ import annotations

import os
import threading

import pytest

from leadrefinery.common import forking


@pytest.fixture
def forks(monkeypatch):
    # A browser test run earlier in this process leaves its idle live server thread.
    monkeypatch.setattr(forking, "can_fork", lambda: True)


def test_the_work_is_done_in_another_process_and_its_result_handed_back(forks):
    here = os.getpid()
    beside = forking.Beside(lambda: (os.getpid(), sorted({3, 1, 2})))
    assert beside.forked
    pid, value = beside.result()
    assert pid != here and value == [1, 2, 3]


def test_while_another_thread_runs_the_work_is_done_here():
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)
    other.start()
    try:
        assert not forking.can_fork()
        beside = forking.Beside(os.getpid)
        assert not beside.forked and beside.result() == os.getpid()
    finally:
        stop.set()
        other.join()


def test_when_the_child_dies_the_work_is_done_here(forks):
    here = os.getpid()

    def work() -> str:
        if os.getpid() != here:
            os._exit(3)  # the child dies without an answer
        return "done here"

    beside = forking.Beside(work)
    assert beside.forked and beside.result() == "done here"


def test_a_result_not_wanted_stops_the_child(forks):
    beside = forking.Beside(lambda: threading.Event().wait(60))
    pid = beside._pid
    assert pid is not None
    beside.cancel()
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # stopped and reaped


@pytest.mark.parametrize(
    ("other", "forks"), [("QueueFeederThread", True), ("refinery-wal-checkpoint", False)]
)
def test_a_django_q_worker_process_forks_beside_its_queue_feeder(monkeypatch, other, forks):
    """A worker process runs multiprocessing's feeder thread after its first job (the import
    page's imports run there); any other thread stops a fork."""
    running = [threading.main_thread(), threading.Thread(name=other)]
    monkeypatch.setattr(forking.threading, "enumerate", lambda: running)
    assert forking.can_fork() is forks


def test_no_fork_from_a_thread_other_than_the_main_one():
    seen: list[bool] = []
    thread = threading.Thread(target=lambda: seen.append(forking.can_fork()))
    thread.start()
    thread.join()
    assert seen == [False]
