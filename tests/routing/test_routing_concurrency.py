"""Inquiries arriving at the same time still share a team's round robin evenly.

Real threads, each with its own database connection, on a transactional database (no
wrapping transaction), so the counter lock is the production one: one UPDATE ... RETURNING
that holds the team's rotation counters until the intake commits.
"""

from __future__ import annotations

import itertools
import threading
from collections import Counter

import pytest
from django.db import connection

from leadrefinery.intake.services import intake_receive, process_records
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import IntakeRecord, Lead, Source
from leadrefinery.routing.models import RoutingCounter
from leadrefinery.routing.queries import counters_locked
from tests.routing.test_api_fairness import team_of, team_rule

THREADS = 4
PER_THREAD = 15
_serial = itertools.count()


def submit_one(source: Source) -> int:
    i = next(_serial)
    record, _ = intake_receive(
        channel=IntakeRecord.Channel.API,
        payload={"email": f"rush{i}@example.com", "last_name": f"Rush {i}"},
        source=source,
    )
    process_records([record.pk], actor=Actor.system("test"), stored=[record])
    return record.pk


@pytest.mark.django_db(transaction=True)
def test_concurrent_inquiries_share_the_round_robin_evenly(frozen_now):
    team, reps = team_of("Rush", {}, {}, {})
    team_rule(team)
    source = Source.objects.get(name="API")
    connection.close()  # the threads write now; this thread holds no connection meanwhile

    start = threading.Barrier(THREADS)
    records: list[int] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            start.wait()
            for _ in range(PER_THREAD):
                records.append(submit_one(source))
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)

    assert not errors, errors
    assert len(records) == THREADS * PER_THREAD
    lead_ids = IntakeRecord.objects.filter(pk__in=records).values("lead_id")
    owners = Counter(
        Lead.objects.filter(pk__in=lead_ids).values_list("owner_user__username", flat=True)
    )
    assert set(owners) == {r.username for r in reps}
    assert max(owners.values()) - min(owners.values()) <= 1, owners
    # The stored rotation agrees with what was handed out: no increment was lost.
    rotation = dict(
        RoutingCounter.objects.filter(team=team).values_list("user__username", "rotation_count")
    )
    assert rotation == dict(owners)


@pytest.mark.django_db
def test_counters_locked_answers_as_the_orm(frozen_now):
    north, _ = team_of("North", {}, {})
    south, _ = team_of("South", {}, {})
    west, _ = team_of("West", {})
    pairs = [(team, user) for team in (north, south, west) for user in team.members.all()]
    for i, (team, user) in enumerate(pairs):
        RoutingCounter.objects.create(
            team=team, user=user, rotation_count=i * 3, day=frozen_now.at.date(), day_count=i
        )
    wanted = [west.pk, north.pk]
    got = counters_locked(wanted)
    orm = RoutingCounter.objects.filter(team__in=wanted).order_by("id")
    fields = RoutingCounter._meta.concrete_fields
    assert [{f.attname: getattr(c, f.attname) for f in fields} for c in got] == [
        {f.attname: getattr(c, f.attname) for f in fields} for c in orm
    ]
    assert len(got) == 3
    assert counters_locked([]) == []
