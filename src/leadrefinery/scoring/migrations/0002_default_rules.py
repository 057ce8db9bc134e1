"""Default scoring rules and settings: a starting point that admins edit.

Behaviour counts more than what prospects type in ("prospects lie"): budget and timeline
answers are self-reported (half weight), while visits, clicks and attendance count in full
and fade with a half-life. Demo and pricing requests are hand-raisers: hot at once.
"""

from django.db import migrations
from django.utils import timezone

FREE_MAIL = ["gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "aol.com", "icloud.com"]

# (name, kind, event_type, conditions, points, self_reported, daily_cap, half_life_days)
RULES = [
    ("Senior title: director", "fit", "", [{"field": "title", "op": "contains", "value": "director"}], 20, False, None, None),
    ("Senior title: VP", "fit", "", [{"field": "title", "op": "contains", "value": "vp"}], 20, False, None, None),
    ("Senior title: head of", "fit", "", [{"field": "title", "op": "contains", "value": "head"}], 15, False, None, None),
    ("Senior title: chief / owner", "fit", "", [{"field": "title", "op": "contains", "value": "chief"}], 25, False, None, None),
    ("Manager title", "fit", "", [{"field": "title", "op": "contains", "value": "manager"}], 10, False, None, None),
    ("Company given", "fit", "", [{"field": "company", "op": "is_not_empty"}], 15, False, None, None),
    ("Country given", "fit", "", [{"field": "country", "op": "is_not_empty"}], 5, False, None, None),
    ("Budget stated", "fit", "", [{"field": "budget", "op": "is_not_empty"}], 20, True, None, None),
    ("Timeline stated", "fit", "", [{"field": "timeline", "op": "is_not_empty"}], 20, True, None, None),
    ("Free mailbox", "fit", "", [{"field": "email_domain", "op": "in", "value": FREE_MAIL}], -15, False, None, None),
    ("Student email", "fit", "", [{"field": "email_domain", "op": "contains", "value": ".edu"}], -40, False, None, None),
    ("Bad data: no title or company", "fit", "", [{"field": "title", "op": "is_empty"}, {"field": "company", "op": "is_empty"}], -10, False, None, None),
    ("Page visit", "engagement", "page_visit", [], 3, False, 15, 30),
    ("Pricing page visit", "engagement", "page_visit", [{"field": "url", "op": "contains", "value": "pricing"}], 10, False, 20, 14),
    ("Email opened", "engagement", "email_open", [], 1, False, 3, 30),
    ("Email link clicked", "engagement", "email_click", [], 5, False, 15, 30),
    ("Form filled in", "engagement", "form_fill", [], 15, False, None, 60),
    ("Inquiry via API", "engagement", "inquiry", [], 10, False, None, 60),
    ("Webinar attended", "engagement", "webinar", [], 20, False, None, 60),
    ("Content downloaded", "engagement", "download", [], 10, False, 20, 45),
    ("Product sign-up", "engagement", "signup", [], 30, False, None, 60),
    ("Unsubscribed", "engagement", "unsubscribe", [], -30, False, None, None),
    ("Email bounced", "engagement", "bounce", [], -20, False, None, None),
    ("Demo or pricing request", "hand_raiser", "", [{"field": "request_type", "op": "in", "value": ["demo", "pricing", "quote"]}], 0, False, None, None),
]


def seed(apps, schema_editor):
    ScoringRule = apps.get_model("scoring", "ScoringRule")
    ScoringSettings = apps.get_model("scoring", "ScoringSettings")
    at = timezone.now()
    if not ScoringSettings.objects.exists():
        ScoringSettings.objects.create(updated_at=at)
    if ScoringRule.objects.exists():
        return
    for order, (name, kind, event, conditions, points, self_rep, cap, half) in enumerate(RULES):
        ScoringRule.objects.create(
            name=name,
            kind=kind,
            event_type=event,
            conditions=conditions,
            points=points,
            self_reported=self_rep,
            daily_cap=cap,
            half_life_days=half,
            order=(order + 1) * 10,
            created_at=at,
            updated_at=at,
        )


class Migration(migrations.Migration):
    dependencies = [("scoring", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
