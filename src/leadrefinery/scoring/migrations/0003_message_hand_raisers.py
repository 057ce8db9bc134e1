"""Default hand-raiser rules on the words of an inquiry's message.

"Please send pricing" or "we need a demo" written in a form's message is a hand-raise, like
ticking "request a demo": the lead goes hot at once. The words are matched as whole words,
ignoring case, accents and punctuation (routing.domain.Op.CONTAINS_ANY); admins edit the lists
on the scoring rules page.
"""

from django.db import migrations
from django.utils import timezone

# (name, words or phrases, order)
RULES = [
    ("Asks for a demo in the message", ["demo", "demos", "demonstration", "walkthrough", "walk through"], 250),
    ("Asks for pricing in the message", ["pricing", "price", "prices", "price list", "how much"], 260),
    ("Asks for a quote in the message", ["quote", "quotes", "quotation", "proposal", "estimate"], 270),
    ("Asks for a trial in the message", ["trial", "free trial", "pilot", "test drive"], 280),
]


def seed(apps, schema_editor):
    ScoringRule = apps.get_model("scoring", "ScoringRule")
    at = timezone.now()
    for name, words, order in RULES:
        ScoringRule.objects.get_or_create(
            name=name,
            defaults={
                "kind": "hand_raiser",
                "conditions": [{"field": "message", "op": "contains_any", "value": words}],
                "points": 0,
                "order": order,
                "created_at": at,
                "updated_at": at,
            },
        )


def unseed(apps, schema_editor):
    ScoringRule = apps.get_model("scoring", "ScoringRule")
    ScoringRule.objects.filter(name__in=[name for name, _, _ in RULES]).delete()


class Migration(migrations.Migration):
    dependencies = [("scoring", "0002_default_rules")]
    operations = [migrations.RunPython(seed, unseed)]
