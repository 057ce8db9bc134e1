"""The nurture pages: per-message results, the invisible pipeline, the message preview."""

from __future__ import annotations

import re

import pytest

from leadrefinery.leads.models import Lead
from leadrefinery.nurture import services
from leadrefinery.nurture.models import NurtureSend
from leadrefinery.nurture.sweep import nurture_sweep

pytestmark = pytest.mark.django_db


def test_the_program_page_counts_sends_opens_clicks_unsubscribes_per_message(
    smtp_server,
    make_program,
    nurture_lead,
    frozen_now,
    client_for,
    users,
    django_assert_max_num_queries,
):
    program = make_program(entry_rules=["new_inquiry"])
    leads = [nurture_lead(email=f"p{n}@example.com", country="GB", consent=True) for n in range(4)]
    nurture_sweep()
    sends = {s.lead_id: s for s in NurtureSend.objects.filter(status="sent")}
    services.engagement_record(message_ref=sends[leads[0].pk].ref, kind="open")
    services.engagement_record(message_ref=sends[leads[0].pk].ref, kind="open")
    services.engagement_record(message_ref=sends[leads[1].pk].ref, kind="click")
    services.send_unsubscribe(token=sends[leads[2].pk].token)

    client = client_for(users.marketer)
    with django_assert_max_num_queries(12):
        page = client.get("/nurture/")
    assert page.status_code == 200
    html = page.content.decode()
    first_step = program.steps.get(position=1).pk
    row = html[html.index(f'id="step-{first_step}"') :]
    row = row[: row.index("</tr>")]
    for cls, value in [("sent", 4), ("opened", 2), ("clicked", 1), ("unsubscribed", 1)]:
        assert re.search(rf'<td class="{cls}"[^>]*>{value}</td>', row), (cls, row)
    assert "3</span> in the program now" in html

    detail = client.get(f"/nurture/programs/{program.pk}/")
    assert detail.status_code == 200 and "Tip 1: measure response time" in detail.content.decode()
    assert client_for(users.rep).get("/nurture/").status_code == 403


def test_the_invisible_pipeline_counts_nurtured_leads_by_temperature(
    make_program, nurture_lead, client_for, users, frozen_now
):
    from leadrefinery.leads.actors import Actor
    from leadrefinery.leads.services import lead_transition

    make_program(entry_rules=["warm"])
    for n, temperature in enumerate(["warm", "warm", "cool", "cold", ""]):
        lead = nurture_lead(email=f"t{n}@example.com")
        lead_transition(lead=lead, to_stage="nurture", actor=Actor.system("test"))
        Lead.objects.filter(pk=lead.pk).update(temperature=temperature)
    nurture_sweep()
    html = client_for(users.marketer).get("/nurture/pipeline/").content.decode()
    for temperature, leads, in_program in [
        ("warm", 2, 2),
        ("cool", 1, 0),
        ("cold", 1, 0),
        ("unscored", 1, 0),
        ("hot", 0, 0),
    ]:
        row = html[html.index(f'id="temp-{temperature}"') :]
        row = row[: row.index("</tr>")]
        assert f'<td class="leads">{leads}</td>' in row
        assert f'<td class="in-program">{in_program}</td>' in row


def test_the_preview_shows_the_message_with_sample_data(make_program, client_for, users):
    program = make_program()
    message = program.steps.get(position=1).message
    html = client_for(users.marketer).get(f"/nurture/messages/{message.pk}/preview/")
    text = html.content.decode()
    assert "Tip 1: measure response time" in text
    assert "Hello Dana," in text and "Mill Road" in text
