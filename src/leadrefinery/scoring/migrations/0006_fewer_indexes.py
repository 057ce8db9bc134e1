# Foreign-key indexes that another index covers are dropped, and the keys most rows leave
# empty are indexed only where set (common/migration_ops.py: without_index).

import django.db.models.deletion
from django.db import migrations, models

from leadrefinery.common.migration_ops import without_index


class Migration(migrations.Migration):

    dependencies = [
        ('leads', '0021_fewer_indexes'),
        ('scoring', '0005_predict_due'),
    ]

    operations = [
        without_index('scoring', 'scorelog', 'lead', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='score_log', to='leads.lead')),
    ]
