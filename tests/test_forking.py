"""common/forking.py: work done in a fork on the other core, or here when no fork can be
made; the same result either way."""

from __future__ import annotations

import itertools
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


def _parts(start: int, stop: int) -> list[tuple[int, int, int]]:
    """A part of BothEnds' work: who did which items."""
    return [(os.getpid(), start, stop)]


def _merge(first: list, then: list) -> list:
    return first + then


def _covered_once_in_order(parts: list[tuple[int, int, int]], total: int) -> bool:
    edges = [(start, stop) for _, start, stop in parts]
    return (
        edges[0][0] == 0
        and edges[-1][1] == total
        and all(a[1] == b[0] for a, b in itertools.pairwise(edges))
    )


def test_both_ends_share_the_items_and_merge_every_part_in_order(forks):
    import multiprocessing

    here = os.getpid()
    fork_started = multiprocessing.get_context("fork").Event()

    def work(start: int, stop: int) -> list[tuple[int, int, int]]:
        if os.getpid() != here:
            fork_started.set()
            threading.Event().wait(0.005)  # 1 s for all: this process takes the last parts
        else:  # this process takes its first part once the fork has taken one
            assert fork_started.wait(30)
        return _parts(start, stop)

    parts = forking.BothEnds(2_000, work, _merge, step=10).finish()
    assert _covered_once_in_order(parts, 2_000)
    workers = [pid for pid, _, _ in parts]
    assert workers[0] != here and workers[-1] == here  # the fork the first, this one the last


def test_both_ends_does_it_all_here_when_no_fork_can_be_made(monkeypatch):
    monkeypatch.setattr(forking, "can_fork", lambda: False)
    shared = forking.BothEnds(50, _parts, _merge, step=10)
    assert shared._fork is None
    parts = shared.finish()
    assert _covered_once_in_order(parts, 50) and {pid for pid, _, _ in parts} == {os.getpid()}


def test_both_ends_does_the_fork_share_here_when_the_fork_dies(forks):
    import multiprocessing

    here = os.getpid()
    fork_died = multiprocessing.get_context("fork").Event()

    def work(start: int, stop: int) -> list[tuple[int, int, int]]:
        if os.getpid() != here and start >= 100:
            fork_died.set()
            os._exit(3)  # the fork dies after its first parts, without an answer
        if os.getpid() == here:
            assert fork_died.wait(30)
        return _parts(start, stop)

    parts = forking.BothEnds(1_000, work, _merge, step=50).finish()
    assert _covered_once_in_order(parts, 1_000)
    assert {pid for pid, _, _ in parts} == {here}
    assert (here, 0, 150) in parts  # the fork's three parts, done here in one


def test_both_ends_cancelled_stops_the_fork(forks):
    shared = forking.BothEnds(10**6, _parts, _merge, step=1)
    fork = shared._fork
    assert fork is not None and fork._pid is not None
    pid = fork._pid
    shared.cancel()
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
