"""The default cadence: 6 calls and 5 emails over three weeks, front-loaded.

80% of sales come on the 5th to 12th contact, yet 48% of reps never follow up and only 10%
make more than three attempts; most contact happens in the first days. So: two touches on the
first day, then calls and emails every day or two in the first week, spreading out to a
break-up email on day 20. Eleven touches over 20 days meet the persistence rule (6 touches
over 14 days) before the cadence may end as "no response". Admins edit it in the UI.
Re-running is harmless: it does nothing once any cadence exists.
"""

from django.db import migrations

INTRO = (
    "Hi {{ first_name }},\n\n"
    "Thank you for getting in touch. I tried to reach you by phone and would like to learn what "
    "you need, so that I only take your time with what is useful to {{ company }}.\n\n"
    "Would 15 minutes this week work? Just reply with a time that suits you.\n\n"
    "{{ rep_name }}"
)
VALUE = (
    "Hi {{ first_name }},\n\n"
    "Teams like yours usually ask us three things first: how long it takes to get started, what "
    "it costs, and who else uses it. I am happy to answer those for {{ company }} in a short "
    "call.\n\n{{ rep_name }}"
)
CASE = (
    "Hi {{ first_name }},\n\n"
    "A customer in a similar situation told us what made the difference for them; I thought it "
    "might be useful to you as well. Shall I send you the short version?\n\n{{ rep_name }}"
)
CHECK_IN = (
    "Hi {{ first_name }},\n\n"
    "I know how busy it gets. Is this still a priority for {{ company }}, or should I check back "
    "later in the year?\n\n{{ rep_name }}"
)
BREAK_UP = (
    "Hi {{ first_name }},\n\n"
    "I have not heard back, so I will stop following up for now. If the timing changes, reply to "
    "this email and I will pick it up straight away.\n\n{{ rep_name }}"
)

# day, channel, title, instructions, subject, body
STEPS = [
    (0, "call", "Call 1: first contact", "Call within the hour. Leave a voicemail naming "
     "their inquiry.", "", ""),
    (0, "email", "Email 1: introduction", "", "Your inquiry to us, {{ first_name }}", INTRO),
    (1, "call", "Call 2", "Try a different time of day than call 1.", "", ""),
    (2, "call", "Call 3", "No voicemail this time if you left one yesterday.", "", ""),
    (2, "email", "Email 2: what teams ask first", "", "", VALUE),
    (4, "call", "Call 4", "Mention the emails you sent.", "", ""),
    (6, "email", "Email 3: a customer story", "", "", CASE),
    (9, "call", "Call 5", "", "", ""),
    (12, "email", "Email 4: still a priority?", "", "", CHECK_IN),
    (16, "call", "Call 6: last call", "Say this is your last call for now.", "", ""),
    (20, "email", "Email 5: closing the loop", "", "", BREAK_UP),
]


def seed(apps, schema_editor):
    from leadrefinery.common.clock import now

    CadenceTemplate = apps.get_model("cadences", "CadenceTemplate")
    CadenceStep = apps.get_model("cadences", "CadenceStep")
    if CadenceTemplate.objects.exists():
        return
    at = now()
    template = CadenceTemplate.objects.create(
        name="Standard follow-up: 6 calls, 5 emails, 3 weeks",
        description="Front-loaded: two touches on day one, then every day or two, spreading out. "
        "Stops on a reply or a booked meeting; recycles to nurture when nobody answered.",
        active=True,
        is_default=True,
        end_wait_days=2,
        created_at=at,
        updated_at=at,
    )
    for position, (day, channel, title, instructions, subject, body) in enumerate(STEPS, 1):
        CadenceStep.objects.create(
            template=template,
            position=position,
            day=day,
            channel=channel,
            title=title,
            instructions=instructions,
            email_subject=subject,
            email_body=body,
        )


class Migration(migrations.Migration):
    dependencies = [("cadences", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
