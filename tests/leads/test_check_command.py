"""`refinery check` verifies the invariants and reports planted violations."""

import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command

from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import Lead
from leadrefinery.leads.services import lead_assign, lead_dispose, lead_transition

pytestmark = pytest.mark.django_db


def test_no_violation_after_a_journey(make_lead, users, capsys):
    a, b, c = make_lead(), make_lead(), make_lead()
    lead_assign(lead=a, owner_user=users.rep, actor=Actor.of(users.manager))
    lead_transition(lead=a, to_stage="sales_ready", actor=Actor.of(users.manager))
    lead_dispose(lead=b, reason_code="dq_student", actor=Actor.of(users.rep))
    lead_transition(lead=c, to_stage="qualifying", actor=Actor.of(users.rep))
    call_command("checkleads")
    assert "All lead invariants hold" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("plant", "expected"),
    [
        ({"owner_queue": None}, "has 0 owners"),
        ({"next_action": ""}, "has no next action"),
        ({"next_action_due_at": None}, "no due time"),
        ({"stage": "working"}, "timeline's last stage change says inquiry"),
    ],
)
def test_reports_a_planted_violation_and_fails(make_lead, plant, expected, capsys):
    good, bad = make_lead(), make_lead()
    Lead.objects.filter(pk=bad.pk).update(**plant)
    with pytest.raises(CommandError, match="1 invariant violation"):
        call_command("checkleads")
    out = capsys.readouterr().out
    assert f"lead {bad.pk}: " in out and expected in out
    assert f"lead {good.pk}:" not in out


def test_closed_lead_without_disposition_is_reported(make_lead, capsys):
    lead = make_lead()
    Lead.objects.filter(pk=lead.pk).update(stage="won", next_action="", next_action_due_at=None)
    with pytest.raises(CommandError):
        call_command("checkleads")
    assert "won lead has no disposition reason" in capsys.readouterr().out


def test_refinery_check_help_and_deploy_passthrough():
    out = subprocess.run(
        [sys.executable, "-m", "leadrefinery", "check", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Verify the lead invariants" in out
