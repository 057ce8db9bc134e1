"""Fill the match keys of existing people (and the cleanco keys of accounts), in batches.

Uses dedupe.keys, the same functions intake uses, so stored and computed keys agree. People
that already point at a survivor get status 'merged'."""

from django.db import migrations

BATCH = 2000
PERSON_FIELDS = (
    "email",
    "website",
    "company_name",
    "first_name",
    "last_name",
    "postcode",
    "street",
)


def backfill(apps, schema_editor):
    from leadrefinery.dedupe.keys import KEY_FIELDS, company_key, person_keys

    Person = apps.get_model("leads", "Person")
    Account = apps.get_model("leads", "Account")
    last = 0
    while True:
        people = list(Person.objects.filter(pk__gt=last).order_by("pk")[:BATCH])
        if not people:
            break
        for person in people:
            keys = person_keys({name: getattr(person, name) or "" for name in PERSON_FIELDS})
            for name, value in keys.items():
                setattr(person, name, value)
            if person.merged_into_id is not None:
                person.status = "merged"
        Person.objects.bulk_update(people, [*KEY_FIELDS, "status"])
        last = people[-1].pk
    last = 0
    while True:
        accounts = list(Account.objects.filter(pk__gt=last).order_by("pk")[:BATCH])
        if not accounts:
            break
        for account in accounts:
            account.name_key = company_key(account.name)
        Account.objects.bulk_update(accounts, ["name_key"])
        last = accounts[-1].pk


class Migration(migrations.Migration):
    dependencies = [("leads", "0007_person_match_keys")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True)]
