from django.apps import AppConfig

from leadrefinery.common.subscriptions import Subscriber


class CadencesConfig(AppConfig):
    name = "leadrefinery.cadences"
    label = "cadences"
    verbose_name = "Follow-up cadences"

    # What the lead page and the lead API ask for by name (leads imports no app above it).
    lead_actions = {
        "touch": "leadrefinery.cadences.services.touch_record",
        "accept": "leadrefinery.cadences.services.lead_accept",
        "cadence_running": "leadrefinery.cadences.services.running_enrollment",
    }

    lead_event_subscribers = (
        Subscriber(
            name="cadences: start, stop, outcome checks",
            kinds=frozenset({"stage_changed", "disposed"}),
            handler="leadrefinery.cadences.subscribers.on_stage_change",
            description="Working starts the default cadence; leaving it stops the cadence; "
            "lost for no decision, no response or recycled schedules a 12-month outcome check.",
        ),
        Subscriber(
            name="cadences: replies and meetings",
            kinds=frozenset({"touch"}),
            handler="leadrefinery.cadences.subscribers.on_touch",
            description="A reply or a booked meeting stops the cadence; an inbound touch marks "
            "the buyer as having answered and tells the owner.",
        ),
        Subscriber(
            name="cadences: another inquiry",
            kinds=frozenset({"inquiry"}),
            handler="leadrefinery.cadences.subscribers.on_inquiry",
            description="Another inquiry on an open lead counts as an answer and tells the owner.",
        ),
    )
