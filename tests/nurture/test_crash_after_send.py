"""A worker killed after the SMTP server accepted a message, before it wrote the touch, the
timeline event and the next step: the next sweep finishes the row and sends nothing again."""

from __future__ import annotations

from datetime import timedelta

import pytest

from leadrefinery.leads.models import LeadEvent, Touch
from leadrefinery.nurture import dispatch
from leadrefinery.nurture.models import NurtureSend
from leadrefinery.nurture.sweep import nurture_sweep

pytestmark = pytest.mark.django_db


def test_a_send_cut_off_before_it_was_recorded_is_finished_once_and_not_resent(
    smtp_server, make_program, nurture_lead, frozen_now, monkeypatch
):
    make_program(entry_rules=["new_inquiry"])
    lead = nurture_lead(email="cut@example.com", country="GB", consent=True)
    # The worker "dies" right after the UPDATE that marks the row sent.
    monkeypatch.setattr(dispatch, "_record", lambda send, token, stamp: 0)
    nurture_sweep()
    monkeypatch.undo()
    assert len(smtp_server.messages) == 1
    send = NurtureSend.objects.get(lead=lead)
    assert send.status == "sent" and send.pending_record
    assert not Touch.objects.filter(lead=lead, channel="email").exists()

    nurture_sweep()  # the lease has not ended: another worker might still be recording it
    assert NurtureSend.objects.get(pk=send.pk).pending_record

    frozen_now.advance(dispatch.LEASE + timedelta(seconds=1))
    nurture_sweep()
    nurture_sweep()
    send.refresh_from_db()
    assert not send.pending_record and send.status == "sent"
    assert len(smtp_server.messages) == 1, "never sent a second time"
    assert Touch.objects.filter(lead=lead, channel="email", note__startswith="Nurture").count() == 1
    assert LeadEvent.objects.filter(lead=lead, kind="nurture", reason="sent").count() == 1
    following = NurtureSend.objects.filter(lead=lead).exclude(pk=send.pk)
    assert following.count() == 1 and following.get().status == "scheduled"
