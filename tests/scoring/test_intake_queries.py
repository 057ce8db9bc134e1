"""Scoring and visitor identification add a constant number of queries to an intake batch,
however many inquiries it holds (hand-raisers and visitor ids included)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leadrefinery.intake.services import intake_receive, process_records
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import IntakeRecord, Lead, Source

pytestmark = pytest.mark.django_db


def batch_queries(n: int, offset: int) -> int:
    source = Source.objects.get_or_create(name="Website")[0]
    ids = []
    for i in range(offset, offset + n):
        payload = {
            "email": f"p{i}@corp{i}.example.com",
            "company": f"Company {i}",
            "title": "Director" if i % 2 else "Engineer",
            "visitor_id": f"visitor-{i:08d}",
        }
        if i % 3 == 0:
            payload["request_type"] = "demo"
        record, _ = intake_receive(
            channel=IntakeRecord.Channel.FORM, payload=payload, source=source
        )
        ids.append(record.pk)
    with CaptureQueriesContext(connection) as ctx:
        done = process_records(ids, actor=Actor.system("test"))
    assert {r.status for r in done} == {"processed"}
    return len(ctx.captured_queries)


def test_a_batch_of_thirty_costs_the_queries_of_a_batch_of_three(frozen_now):
    batch_queries(3, 0)  # warm-up: first-use loads
    small = batch_queries(3, 100)
    large = batch_queries(30, 200)
    assert large == small
    assert Lead.objects.filter(temperature="hot").count() == 1 + 1 + 10
