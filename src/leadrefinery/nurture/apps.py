from django.apps import AppConfig

from leadrefinery.common.subscriptions import Subscriber


class NurtureConfig(AppConfig):
    name = "leadrefinery.nurture"
    label = "nurture"
    verbose_name = "Nurture programs and email"

    lead_event_subscribers = (
        Subscriber(
            name="nurture: exits",
            kinds=frozenset(
                {
                    "created",
                    "score",
                    "stage_changed",
                    "assigned",
                    "disposed",
                    "merged",
                    "accepted",
                    "import_undone",
                }
            ),
            handler="leadrefinery.nurture.subscribers.on_lead_events",
            description="A lead that turned hot, was taken back by sales, or closed leaves its "
            "nurture programs.",
        ),
        Subscriber(
            name="nurture: opens and clicks",
            kinds=frozenset({"email_engaged"}),
            handler="leadrefinery.nurture.subscribers.on_email_engaged",
            description="Counts each open and click on the nurture send it came from.",
        ),
    )

    def ready(self) -> None:
        from . import subscribers

        subscribers.connect()
