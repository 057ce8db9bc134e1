# Foreign-key indexes that another index covers are dropped, and the keys most rows leave
# empty are indexed only where set (common/migration_ops.py: without_index).

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from leadrefinery.common.migration_ops import without_index


class Migration(migrations.Migration):

    dependencies = [
        ('leads', '0020_custom_on_people_and_accounts'),
        ('sla', '0003_admin_names'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='intakerecord',
            name='intake_ip_recent',
        ),
        without_index('leads', 'intakerecord', 'campaign', models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, to='leads.campaign')),
        without_index('leads', 'intakerecord', 'form', models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, to='leads.webform')),
        without_index('leads', 'intakerecord', 'submitted_by', models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, to=settings.AUTH_USER_MODEL)),
        without_index('leads', 'lead', 'merged_into', models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='leads.lead')),
        without_index('leads', 'lead', 'owner_queue', models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='leads', to='leads.queue')),
        without_index('leads', 'lead', 'owner_user', models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='owned_leads', to=settings.AUTH_USER_MODEL)),
        without_index('leads', 'lead', 'person', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='leads', to='leads.person')),
        without_index('leads', 'leadevent', 'actor', models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, to=settings.AUTH_USER_MODEL)),
        without_index('leads', 'leadevent', 'lead', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='events', to='leads.lead')),
        without_index('leads', 'person', 'merged_by', models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
        without_index('leads', 'person', 'merged_into', models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='leads.person')),
        without_index('leads', 'touch', 'actor', models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, to=settings.AUTH_USER_MODEL)),
        without_index('leads', 'touch', 'lead', models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='touches', to='leads.lead')),
        migrations.AddIndex(
            model_name='intakerecord',
            index=models.Index(condition=models.Q(('ip__isnull', False)), fields=['ip', 'received_at'], name='intake_ip_recent'),
        ),
        migrations.AddIndex(
            model_name='intakerecord',
            index=models.Index(condition=models.Q(('campaign__isnull', False)), fields=['campaign'], name='intake_campaign'),
        ),
        migrations.AddIndex(
            model_name='intakerecord',
            index=models.Index(condition=models.Q(('form__isnull', False)), fields=['form'], name='intake_form'),
        ),
        migrations.AddIndex(
            model_name='intakerecord',
            index=models.Index(condition=models.Q(('submitted_by__isnull', False)), fields=['submitted_by'], name='intake_submitted_by'),
        ),
        migrations.AddIndex(
            model_name='lead',
            index=models.Index(condition=models.Q(('merged_into__isnull', False)), fields=['merged_into'], name='lead_merged_into'),
        ),
        migrations.AddIndex(
            model_name='leadevent',
            index=models.Index(condition=models.Q(('actor__isnull', False)), fields=['actor'], name='event_actor'),
        ),
        migrations.AddIndex(
            model_name='person',
            index=models.Index(condition=models.Q(('merged_into__isnull', False)), fields=['merged_into'], name='person_merged_into'),
        ),
        migrations.AddIndex(
            model_name='person',
            index=models.Index(condition=models.Q(('merged_by__isnull', False)), fields=['merged_by'], name='person_merged_by'),
        ),
        migrations.AddIndex(
            model_name='touch',
            index=models.Index(condition=models.Q(('actor__isnull', False)), fields=['actor'], name='touch_actor'),
        ),
    ]
