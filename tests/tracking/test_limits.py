"""Rate-limit counters: a window's uses stop at the limit, the next window starts afresh, a
single-use secret works once, and expired counters are pruned by the limits-prune job."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from leadrefinery.common.jobs import REGISTRY
from leadrefinery.tracking import limits
from leadrefinery.tracking.models import RateCounter

pytestmark = pytest.mark.django_db

AT = datetime(2026, 3, 2, 9, 59, tzinfo=UTC)


def test_uses_stop_at_the_limit_and_the_next_hour_starts_afresh():
    taken = [limits.address_allows("form", "203.0.113.9", limit=3, at=AT) for _ in range(5)]
    assert taken == [True, True, True, False, False]
    assert limits.address_allows("form", "203.0.113.9", limit=3, at=AT + timedelta(minutes=2))
    assert limits.address_allows("form", None, limit=0, at=AT)  # no address: not limited here


def test_a_secret_is_good_once_and_counters_are_pruned_when_expired():
    assert limits.use_once("token-1", expires_at=AT + timedelta(days=7))
    assert not limits.use_once("token-1", expires_at=AT + timedelta(days=7))
    assert limits.use_once("token-2", expires_at=AT + timedelta(days=7))
    limits.address_allows("visit", "203.0.113.9", limit=5, at=AT)
    assert "limits-prune" in {job.name for job in REGISTRY}

    assert limits.counters_prune(at=AT + timedelta(hours=2)) == 1  # the visit's hour is over
    assert limits.counters_prune(at=AT + timedelta(days=8)) == 2
    assert not RateCounter.objects.exists()
