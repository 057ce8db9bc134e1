from django.apps import AppConfig

from leadrefinery.common.subscriptions import Subscriber


class RoutingConfig(AppConfig):
    name = "leadrefinery.routing"
    label = "routing"
    verbose_name = "Routing and assignment"

    lead_event_subscribers = (
        Subscriber(
            name="routing: SLA reassignment",
            kinds=frozenset({"sla"}),
            handler="leadrefinery.routing.subscribers.on_sla_reassign",
            description="When the SLA sweep says a rep missed the first contact, the rules "
            "choose another owner (never the one who missed it).",
        ),
    )
