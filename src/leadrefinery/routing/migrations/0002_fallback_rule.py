"""The fallback rule: whatever no other rule places waits in the unassigned queue."""

from django.db import migrations
from django.utils import timezone


def seed(apps, schema_editor):
    RoutingRule = apps.get_model("routing", "RoutingRule")
    Queue = apps.get_model("leads", "Queue")
    if RoutingRule.objects.filter(is_fallback=True).exists():
        return
    queue = Queue.objects.get(slug="unassigned")
    now = timezone.now()
    RoutingRule.objects.create(
        name="Everything else: unassigned queue",
        order=10000,
        is_fallback=True,
        conditions=[],
        target_kind="queue",
        target_queue=queue,
        created_at=now,
        updated_at=now,
    )


class Migration(migrations.Migration):
    dependencies = [("routing", "0001_initial"), ("leads", "0002_seed_reference_data")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
