"""scoring/queries.py answers exactly as the ORM does for the same question."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction

from leadrefinery.scoring.models import LeadScore, ScoreLog, ScoringRule
from leadrefinery.scoring.queries import engagement_logs, scores_locked

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 3, 29, 1, 30, 15, 123456, tzinfo=UTC)


def as_dicts(objs) -> list[dict]:
    return [{f.attname: getattr(o, f.attname) for f in type(o)._meta.concrete_fields} for o in objs]


def log(lead, *, axis="engagement", delta=5, rule=None, event_type="visit", at=T0) -> None:
    ScoreLog.objects.create(
        lead=lead,
        axis=axis,
        delta=delta,
        rule=rule,
        event_type=event_type,
        event_ref="ref",
        points=abs(delta),
        half_life_days=30 if rule else None,
        reason=f"{event_type} {delta:+d}",
        occurred_at=at,
    )


def test_engagement_logs_answer_as_the_orm(make_lead):
    a, b, other = make_lead(), make_lead(), make_lead()
    rule = ScoringRule.objects.filter(kind="engagement").first() or ScoringRule.objects.create(
        name="Visit", kind="engagement", event_type="visit", points=5, created_at=T0, updated_at=T0
    )
    for i, lead in enumerate((a, b, other)):
        log(lead, rule=rule, at=T0 - timedelta(days=2, hours=i))  # before ``since``
        log(lead, rule=rule, at=T0 + timedelta(hours=i))
        log(lead, rule=rule, at=T0 + timedelta(hours=i))  # same time: newest id first
        log(lead, at=T0 + timedelta(minutes=i))  # no rule
        log(lead, rule=rule, delta=-3, at=T0 + timedelta(minutes=i))  # not an award
        log(lead, rule=rule, event_type="decay", delta=-1, at=T0)
        log(lead, axis="fit", rule=rule, at=T0)
    ids = [b.pk, a.pk]
    engagement = ScoreLog.objects.filter(lead__in=ids, axis="engagement").exclude(
        event_type="decay"
    )
    newest_first = ("-occurred_at", "-id")
    assert as_dicts(engagement_logs(ids)) == as_dicts(engagement.order_by(*newest_first))
    since = T0 - timedelta(days=1)
    capped = engagement.filter(occurred_at__gte=since, rule__isnull=False, delta__gt=0)
    got = engagement_logs(ids, since=since)
    assert as_dicts(got) == as_dicts(capped.order_by(*newest_first))
    assert sum(1 for row in got if row.event_type == "visit") == 4  # and the inquiries' awards
    assert engagement_logs([]) == []


def test_scores_locked_answer_as_the_orm(make_lead):
    leads = [make_lead() for _ in range(3)]
    ids = [leads[2].pk, leads[0].pk, 10**9]
    with transaction.atomic():
        got = scores_locked(ids)
        orm = list(LeadScore.objects.select_for_update().filter(lead__in=ids).order_by("lead_id"))
    assert as_dicts(got) == as_dicts(orm)
    assert [s.lead_id for s in got] == sorted([leads[0].pk, leads[2].pk])
    assert scores_locked([]) == []
