"""The web process checkpoints SQLite's WAL in the background, so that the file stays small
without any commit paying for a checkpoint."""

import os
import threading
import time

import pytest
from django.db import connection, transaction

from leadrefinery.common import checkpoint

PAGE = 4096  # SQLite's default page size
BATCH_ROWS = 200  # a 2 kB text per row: about 100 pages of WAL per batch
BATCHES = 8


def _wal_pages() -> int:
    path = connection.settings_dict["NAME"] + "-wal"
    return os.path.getsize(path) // PAGE if os.path.exists(path) else 0


def _write_batches(pause: float) -> tuple[int, int]:
    """Commit BATCHES transactions of rows with a pause after each; the WAL file's size (in
    pages) after the first one and after all of them."""
    with connection.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS wal_probe (id INTEGER PRIMARY KEY, body TEXT)")
        cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # start from an empty WAL file
    sizes = []
    for _ in range(BATCHES):
        with transaction.atomic(), connection.cursor() as cur:
            cur.executemany(
                "INSERT INTO wal_probe (body) VALUES (%s)", [("x" * 2048,)] * BATCH_ROWS
            )
        sizes.append(_wal_pages())
        time.sleep(pause)
    with connection.cursor() as cur:
        cur.execute("DROP TABLE wal_probe")
    return sizes[0], sizes[-1]


@pytest.fixture
def sqlite_only():
    if connection.vendor != "sqlite":
        pytest.skip("the WAL checkpointer is for SQLite; PostgreSQL checkpoints by itself")
    checkpoint.stop()
    yield
    checkpoint.stop()


@pytest.mark.django_db(transaction=True)
def test_background_checkpoints_keep_the_wal_at_one_batch(sqlite_only):
    connection.close()  # the next connection is made with the checkpointer running
    assert checkpoint.start(interval=0.05) is True
    assert checkpoint.start(interval=0.05) is False  # once per process
    with connection.cursor() as cur:
        cur.execute("PRAGMA wal_autocheckpoint")
        assert cur.fetchone()[0] == 10_000  # commits leave checkpoints to the thread
    # The WAL is copied back between batches and starts over, so the file never holds much
    # more than one batch; without the thread it would hold all eight (under 10,000 pages).
    first, last = _write_batches(pause=0.25)
    assert first > 50
    assert last < 2 * first


@pytest.mark.django_db(transaction=True)
def test_without_the_thread_commits_keep_the_default(sqlite_only):
    connection.close()
    assert checkpoint.start(interval=0) is False  # 0 switches it off
    with connection.cursor() as cur:
        cur.execute("PRAGMA wal_autocheckpoint")
        assert cur.fetchone()[0] == 1000  # SQLite's own: the filling commit checkpoints


@pytest.mark.django_db
def test_nothing_to_start_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("runs in the PostgreSQL pass of the suite")
    assert checkpoint.start(interval=1) is False


def test_a_forked_child_runs_its_own_thread(sqlite_only):
    """gunicorn --preload imports the app, then forks the workers: each needs the thread."""
    assert checkpoint.start(interval=0.05) is True
    pid = os.fork()
    if pid == 0:  # the child: threads do not survive a fork, so this one was started anew
        names = [t.name for t in threading.enumerate() if t.is_alive()]
        os._exit(0 if "refinery-wal-checkpoint" in names else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
