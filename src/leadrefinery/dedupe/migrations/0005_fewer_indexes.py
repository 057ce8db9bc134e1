# Foreign-key indexes that another index covers are dropped, and the keys most rows leave
# empty are indexed only where set (common/migration_ops.py: without_index).

import django.db.models.deletion
from django.db import migrations, models

from leadrefinery.common.migration_ops import without_index


class Migration(migrations.Migration):

    dependencies = [
        ('dedupe', '0004_match_model'),
        ('leads', '0020_custom_on_people_and_accounts'),
    ]

    operations = [
        without_index('dedupe', 'personvariant', 'person', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='variants', to='leads.person')),
    ]
