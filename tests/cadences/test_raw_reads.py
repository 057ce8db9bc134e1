"""cadences/queries.py answers exactly as the ORM does for the same question."""

import pytest

from leadrefinery.cadences.queries import owned_with_people
from leadrefinery.leads.models import Lead

pytestmark = pytest.mark.django_db


def test_owned_with_people_answers_as_the_orm(users, make_lead, django_assert_num_queries):
    leads = [make_lead(company_name=f"Firm {i}") for i in range(4)]
    Lead.objects.filter(pk__in=[leads[0].pk, leads[2].pk]).update(
        owner_user=users.rep, owner_queue=None
    )
    Lead.objects.filter(pk=leads[3].pk).update(owner_user=users.rep2, owner_queue=None)
    ids = [leads[3].pk, leads[1].pk, leads[0].pk, leads[2].pk, 10**9]

    got = owned_with_people(ids)
    orm = list(
        Lead.objects.filter(pk__in=ids, owner_user__isnull=False)
        .select_related("person", "owner_user", "source")
        .order_by("pk")
    )
    assert (
        [lead.pk for lead in got]
        == [lead.pk for lead in orm]
        == sorted([leads[0].pk, leads[2].pk, leads[3].pk])
    )
    for mine, theirs in zip(got, orm, strict=True):
        for a, b in (
            (mine, theirs),
            (mine.person, theirs.person),
            (mine.owner_user, theirs.owner_user),
            (mine.source, theirs.source),
        ):
            fields = type(b)._meta.concrete_fields
            assert {f.attname: getattr(a, f.attname) for f in fields} == {
                f.attname: getattr(b, f.attname) for f in fields
            }
    with django_assert_num_queries(0):
        assert {lead.owner_user.username for lead in got} == {"ron", "rita"}
        assert all(lead.person.email and lead.source.name for lead in got)
    assert owned_with_people([]) == []
