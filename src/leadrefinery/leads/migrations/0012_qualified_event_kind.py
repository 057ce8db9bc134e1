"""A timeline event kind for changes of need, budget, authority and timeline."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("leads", "0011_stage_max_age_and_reviewed")]

    operations = [
        migrations.AlterField(
            model_name="leadevent",
            name="kind",
            field=models.CharField(
                choices=[
                    ("created", "Created"),
                    ("inquiry", "Inquiry received"),
                    ("stage_changed", "Stage changed"),
                    ("assigned", "Assigned"),
                    ("next_action", "Next action set"),
                    ("touch", "Touch logged"),
                    ("note", "Note"),
                    ("disposed", "Disposed"),
                    ("merged", "Merged"),
                    ("import_undone", "Import undone"),
                    ("accepted", "Accepted by the owner"),
                    ("rejected", "Rejected by the owner"),
                    ("recycled", "Recycled to marketing"),
                    ("cadence", "Cadence"),
                    ("outcome_check", "Outcome check"),
                    ("score", "Score or temperature changed"),
                    ("nurture", "Nurture program"),
                    ("duplicate", "Possible duplicate"),
                    ("qualified", "Qualification updated"),
                ],
                max_length=24,
            ),
        ),
    ]
