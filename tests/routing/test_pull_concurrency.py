"""Five reps press "Next lead" at the same time, over and over, until the queue is empty:
every one of 500 waiting leads is handed out exactly once, and nobody sees an error.

Real threads, each with its own database connection, on a transactional database (the test
does not run inside one wrapping transaction), so the locking is the production locking:
FOR UPDATE SKIP LOCKED on PostgreSQL, IMMEDIATE transactions and a conditional UPDATE on SQLite.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection

from leadrefinery.accounts.services import user_create
from leadrefinery.common.clock import now
from leadrefinery.leads.models import Lead
from leadrefinery.routing.pull import queue_pull_next
from tests.routing.pull_helpers import qualifying_center, queued_leads

LEADS = 500
REPS = 5


@pytest.mark.django_db(transaction=True)
def test_five_reps_pulling_at_once_never_get_the_same_lead(users):
    reps = [user_create(username=f"puller{i}", role="rep") for i in range(REPS)]
    queue = qualifying_center(*reps)
    at = now()
    specs = [
        [
            {"temperature": "hot", "received_ago": timedelta(minutes=i)},
            {"source": "Website", "received_ago": timedelta(minutes=i)},
            {"stage": "qualifying", "due_in": -timedelta(minutes=i + 1)},
            {"received_ago": timedelta(days=1, minutes=i)},
        ][i % 4]
        for i in range(LEADS)
    ]
    waiting = {lead.pk for lead in queued_leads(queue, specs, at=at)}
    connection.close()  # the threads write now; this thread holds no connection meanwhile

    start = threading.Barrier(REPS)
    got: dict[str, list[int]] = {rep.username: [] for rep in reps}
    errors: list[BaseException] = []

    def pull_until_empty(rep) -> None:
        try:
            start.wait()
            while (lead := queue_pull_next(queue=queue, user=rep)) is not None:
                got[rep.username].append(lead.pk)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=pull_until_empty, args=(rep,)) for rep in reps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)

    assert not errors, errors
    handed_out = Counter(pk for pulled in got.values() for pk in pulled)
    assert [pk for pk, times in handed_out.items() if times > 1] == []
    assert set(handed_out) == waiting
    # The database agrees: each lead is owned by the rep who was told they got it.
    owners = dict(Lead.objects.filter(pk__in=waiting).values_list("pk", "owner_user__username"))
    assert owners == {pk: name for name, pulled in got.items() for pk in pulled}
    assert Lead.objects.filter(owner_queue=queue).count() == 0
    # Everyone got work: the pulls really ran side by side, not one rep draining the queue.
    assert sum(1 for pulled in got.values() if pulled) >= 2
