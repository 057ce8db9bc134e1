"""REFINERY_RAW_PAYLOAD_RETENTION_MONTHS: the raw payloads of leads closed longer ago than
that are erased by an idempotent periodic sweep; open leads and recent closes keep theirs."""

from __future__ import annotations

from datetime import timedelta

import pytest

from leadrefinery.common.jobs import REGISTRY
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import IntakeRecord, Lead
from leadrefinery.leads.services import lead_dispose
from leadrefinery.privacy.models import PrivacyEvent
from leadrefinery.privacy.retention import retention_sweep

pytestmark = pytest.mark.django_db


def payload_of(lead: Lead) -> dict:
    return IntakeRecord.objects.get(lead=lead).payload


def test_payloads_of_leads_closed_long_ago_are_erased_once(make_lead, frozen_now, settings):
    old_closed = make_lead(email="old@example.com")
    lead_dispose(lead=old_closed, reason_code="dq_not_fit", actor=Actor.system("test"))
    frozen_now.advance(timedelta(days=150))
    recent_closed = make_lead(email="recent@example.com")
    open_lead = make_lead(email="open@example.com")
    frozen_now.advance(timedelta(days=60))
    lead_dispose(lead=recent_closed, reason_code="dq_not_fit", actor=Actor.system("test"))
    frozen_now.advance(timedelta(days=40))  # old closed 250 days ago, recent 40 days ago

    settings.REFINERY_RAW_PAYLOAD_RETENTION_MONTHS = None
    assert retention_sweep() == 0  # off when unset
    assert payload_of(old_closed)["email"] == "old@example.com"

    settings.REFINERY_RAW_PAYLOAD_RETENTION_MONTHS = 6
    assert retention_sweep() == 1
    record = IntakeRecord.objects.get(lead=old_closed)
    assert record.payload.get("_erased") is True and "old@example.com" not in str(record.payload)
    assert record.ip is None and record.user_agent == ""
    assert payload_of(recent_closed)["email"] == "recent@example.com"
    assert payload_of(open_lead)["email"] == "open@example.com"
    assert Lead.objects.filter(pk=old_closed.pk, stage="disqualified").exists()
    assert retention_sweep() == 0  # idempotent: nothing left to do
    assert PrivacyEvent.objects.filter(kind="retention").count() == 1


def test_the_sweep_is_a_registered_periodic_job():
    job = next(j for j in REGISTRY if j.name == "privacy-retention")
    assert job.func == "leadrefinery.privacy.retention.retention_sweep"
