"""Stage definitions, disposition reasons, queues, default sources and a contact form.

All of these are data: admins edit them afterwards. Re-running is harmless (update_or_create).
"""

from django.db import migrations

STAGES = [
    ("inquiry", "Inquiry", 10, "An inbound response that nobody has qualified yet.", "Qualify the inquiry", 60),
    ("nurture", "Nurture", 20, "A real buyer who is not sales-ready yet. Marketing owns it and keeps "
     "sending useful, non-selling content until engagement shows readiness.",
     "Keep in nurture; review engagement", 20160),
    ("qualifying", "Qualifying", 30, "The qualifying center is working it to learn need, budget, "
     "authority and timeline.", "Call to qualify (need, budget, authority, timeline)", 240),
    ("sales_ready", "Sales ready", 40, "Handed to a rep; the speed-to-lead clock is running.",
     "First contact: call within the hour", 60),
    ("working", "Working", 50, "The rep accepted it and the follow-up cadence is running.",
     "Next follow-up touch", 1440),
    ("opportunity", "Opportunity", 60, "Qualified: need, budget, authority and timeline confirmed.",
     "Advance the opportunity", 10080),
    ("won", "Won", 70, "Closed with a sale.", "", 0),
    ("lost", "Lost", 80, "Closed without a sale, with the reason recorded.", "", 0),
    ("disqualified", "Disqualified", 90, "Not a buyer for us (not a fit, bad data, student, "
     "competitor, spam).", "", 0),
    ("merged", "Merged", 100, "A duplicate, merged into the surviving lead (kept with a pointer).", "", 0),
]

# code, label, stage, needs_persistence, system_only, order
REASONS = [
    ("won", "Won", "won", False, False, 10),
    ("lost_competitor", "Lost to a competitor", "lost", False, False, 10),
    ("lost_no_decision", "No decision", "lost", False, False, 20),
    ("lost_price", "Price", "lost", False, False, 30),
    ("lost_timing", "Timing", "lost", False, False, 40),
    ("lost_no_response", "No response after persistent follow-up", "lost", True, False, 50),
    ("dq_not_fit", "Not a fit", "disqualified", False, False, 10),
    ("dq_bad_data", "Bad data", "disqualified", False, False, 20),
    ("dq_student", "Student", "disqualified", False, False, 30),
    ("dq_competitor", "Competitor", "disqualified", False, False, 40),
    ("dq_spam", "Spam", "disqualified", False, False, 50),
    ("import_undone", "Import batch undone", "disqualified", False, True, 90),
    ("recycle_not_ready", "Not ready to buy yet", "nurture", False, False, 10),
    ("recycle_no_budget", "No budget yet", "nurture", False, False, 20),
    ("recycle_timing", "Buying later", "nurture", False, False, 30),
    ("recycle_no_response", "No response after N touches", "nurture", True, False, 40),
    ("recycle_rejected", "Rejected by sales (not sales-ready)", "nurture", False, False, 50),
]

QUEUES = [
    ("unassigned", "Unassigned", "New inquiries waiting for routing. Nothing should stay here long."),
    ("qualifying", "Qualifying center", "Inquiries being qualified before they go to a rep."),
    ("marketing", "Marketing nurture", "Leads marketing keeps warm until they are sales-ready."),
]

CONTACT_FIELDS = [
    {"name": "first_name", "label": "First name", "type": "text", "required": True},
    {"name": "last_name", "label": "Last name", "type": "text", "required": True},
    {"name": "email", "label": "Work email", "type": "email", "required": True},
    {"name": "phone", "label": "Phone", "type": "tel", "required": False},
    {"name": "company", "label": "Company", "type": "text", "required": True},
    {"name": "country", "label": "Country", "type": "text", "required": False},
    {"name": "message", "label": "How can we help?", "type": "textarea", "required": False},
    {"name": "consent", "label": "Send me occasional useful tips by email", "type": "checkbox", "required": False},
]


def seed(apps, schema_editor):
    StageDefinition = apps.get_model("leads", "StageDefinition")
    DispositionReason = apps.get_model("leads", "DispositionReason")
    Queue = apps.get_model("leads", "Queue")
    Source = apps.get_model("leads", "Source")
    WebForm = apps.get_model("leads", "WebForm")
    for code, name, order, definition, action, minutes in STAGES:
        StageDefinition.objects.update_or_create(
            code=code,
            defaults=dict(name=name, order=order, definition=definition, default_next_action=action,
                          default_due_minutes=minutes),
        )
    for code, label, stage, persist, system_only, order in REASONS:
        DispositionReason.objects.update_or_create(
            code=code,
            defaults=dict(label=label, stage=stage, needs_persistence=persist, system_only=system_only,
                          order=order, active=True),
        )
    for slug, name, description in QUEUES:
        Queue.objects.update_or_create(slug=slug, defaults=dict(name=name, description=description))
    web, _ = Source.objects.get_or_create(name="Website", defaults={"channel": "web_form"})
    Source.objects.get_or_create(name="API", defaults={"channel": "api"})
    WebForm.objects.get_or_create(
        slug="contact",
        defaults=dict(
            name="Contact us",
            source=web,
            fields=CONTACT_FIELDS,
            intro="Tell us what you need and the right person will get back to you within the hour.",
            submit_label="Send",
            consent_wording="Send me occasional useful tips by email. Unsubscribe at any time.",
            min_fill_seconds=3,
        ),
    )


class Migration(migrations.Migration):
    dependencies = [("leads", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
