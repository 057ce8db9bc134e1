"""Managers and admins see every queue on /queues/ (how many wait, who works it, a warning
when nobody does); members pull from theirs; reps see only their own queues."""

from __future__ import annotations

import pytest
from django.test import Client

from leadrefinery.leads.models import Queue

pytestmark = pytest.mark.django_db


def page_for(user) -> str:
    client = Client()
    client.force_login(user)
    return client.get("/queues/").content.decode()


def test_a_manager_sees_every_queue_and_who_works_it(users, make_lead):
    make_lead()  # waits in the unassigned queue
    qualifying = Queue.objects.get(slug="qualifying")
    qualifying.members.add(users.rep2)
    page = page_for(users.manager)
    assert "Qualifying center" in page or qualifying.name in page
    assert "Worked by" in page and str(users.rep2) in page
    unassigned = page[page.index('id="queue-unassigned"') :]
    unassigned = unassigned[: unassigned.index("</article>")]
    assert "Nobody active works this queue" in unassigned
    assert "Next lead" not in unassigned  # the manager is no member: no pull button


def test_an_admin_can_open_the_leads_waiting_in_a_queue(users, make_lead):
    lead = make_lead()
    page = page_for(users.admin)
    unassigned = page[page.index('id="queue-unassigned"') :]
    link = unassigned[unassigned.index('href="/leads/?owner=') :].split('"')[1]
    client = Client()
    client.force_login(users.admin)
    assert lead.person.display_name in client.get(link).content.decode()


def test_a_rep_sees_only_the_queues_they_work(users):
    Queue.objects.get(slug="qualifying").members.add(users.rep)
    page = page_for(users.rep)
    assert 'id="queue-qualifying"' in page and 'id="queue-unassigned"' not in page
    assert "Next lead" in page and "Worked by" not in page
