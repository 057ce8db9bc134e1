"""visible_to(): reps see their own leads and queues, managers their teams, admins everything."""

import pytest

from leadrefinery.leads.access import access_lead, visible_to
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import Queue
from leadrefinery.leads.services import lead_assign

pytestmark = pytest.mark.django_db


@pytest.fixture
def owned(make_lead, users):
    system = Actor.system("test")
    leads = {
        "ron": lead_assign(lead=make_lead(), owner_user=users.rep, actor=system),
        "rita": lead_assign(lead=make_lead(), owner_user=users.rep2, actor=system),
        "walt": lead_assign(lead=make_lead(), owner_user=users.other_rep, actor=system),
        "unassigned": make_lead(),
    }
    return leads


def ids(qs):
    return set(qs.values_list("pk", flat=True))


def test_rep_sees_only_own_leads(owned, users):
    assert ids(visible_to(users.rep)) == {owned["ron"].pk}
    from django.http import Http404

    with pytest.raises(Http404):
        access_lead(users.rep, owned["walt"].pk)


def test_rep_sees_the_leads_of_queues_they_belong_to(owned, users):
    Queue.objects.get(slug="unassigned").members.add(users.rep)
    assert ids(visible_to(users.rep)) == {owned["ron"].pk, owned["unassigned"].pk}


def test_manager_sees_the_team_not_other_teams(owned, users):
    assert ids(visible_to(users.manager)) == {owned["ron"].pk, owned["rita"].pk}


def test_admin_and_marketer_see_everything(owned, users):
    every = {lead.pk for lead in owned.values()}
    assert ids(visible_to(users.admin)) == every
    assert ids(visible_to(users.marketer)) == every


def test_inactive_user_sees_nothing(owned, users):
    users.rep.is_active = False
    users.rep.save()
    assert ids(visible_to(users.rep)) == set()
