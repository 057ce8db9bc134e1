from django.apps import AppConfig

from leadrefinery.common.subscriptions import Subscriber


class PrivacyConfig(AppConfig):
    name = "leadrefinery.privacy"
    label = "privacy"
    verbose_name = "Privacy: export, erasure, retention"

    lead_event_subscribers = (
        Subscriber(
            name="privacy: erased contacts",
            kinds=frozenset({"created", "inquiry"}),
            handler="leadrefinery.privacy.subscribers.on_new_inquiries",
            description="An inquiry from an address or phone of an erased person is kept, "
            "flagged on its timeline and suppressed from nurture email.",
        ),
    )
