"""A bulk job on PostgreSQL analyzes the tables it reads when their statistics are missing or
stale, as autovacuum would: planned from guesses, a 20,000-row import into a million leads
took twice as long."""

from __future__ import annotations

import pytest
from django.db import connection

from leadrefinery.common import planner_stats
from leadrefinery.common.clock import now
from leadrefinery.common.db import build, insert_rows
from leadrefinery.common.planner_stats import stale, statistics_refresh
from leadrefinery.leads.models import Account, Lead


def test_a_table_is_analyzed_when_never_analyzed_or_changed_by_a_fifth():
    assert stale(reltuples=-1, pages=10_000, changed=0, analyzed=False)
    assert not stale(reltuples=-1, pages=10, changed=0, analyzed=False)  # small: read whole
    assert not stale(reltuples=1_000_000, pages=50_000, changed=100_000, analyzed=True)
    assert stale(reltuples=1_000_000, pages=50_000, changed=200_000, analyzed=True)
    assert not stale(reltuples=1_000, pages=600, changed=5_000, analyzed=True)  # < 10,000
    assert stale(reltuples=1_000, pages=600, changed=10_000, analyzed=True)


@pytest.mark.django_db
def test_the_tables_without_statistics_are_analyzed_once(monkeypatch):
    monkeypatch.setattr(planner_stats, "MIN_PAGES", 1)
    at = now()
    insert_rows(
        Account,
        [build(Account, name=f"Firm {i}", name_key=f"firm {i}", created_at=at) for i in range(300)],
    )
    if connection.vendor != "postgresql":
        assert statistics_refresh([Account, Lead]) == []  # SQLite plans without them
        return
    assert "leads_account" in statistics_refresh([Account, Lead])
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stats WHERE tablename = 'leads_account'")
        assert cursor.fetchone()[0] > 0
    assert statistics_refresh([Account, Lead]) == []  # fresh now
