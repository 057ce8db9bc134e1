from django.apps import AppConfig

from leadrefinery.common.subscriptions import Subscriber


class SlaConfig(AppConfig):
    name = "leadrefinery.sla"
    label = "sla"
    verbose_name = "Speed-to-lead SLA"

    lead_event_subscribers = (
        Subscriber(
            name="sla: a new rep's clock",
            kinds=frozenset({"assigned"}),
            handler="leadrefinery.sla.subscribers.on_assigned",
            description="A lead handed to a rep before any sales touch gets a fresh "
            "speed-to-lead clock in that rep's business hours.",
        ),
    )
