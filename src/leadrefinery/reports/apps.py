from django.apps import AppConfig

from leadrefinery.common.subscriptions import Subscriber

# Lead events after which a lead may count differently in the reports.
FOLLOWED = frozenset(
    {
        "created",
        "inquiry",
        "stage_changed",
        "assigned",
        "touch",
        "disposed",
        "merged",
        "import_undone",
        "accepted",
        "rejected",
        "recycled",
        "outcome_check",
        "amount",
        "qualified",
    }
)


class ReportsConfig(AppConfig):
    name = "leadrefinery.reports"
    label = "reports"
    verbose_name = "Reports"

    lead_event_subscribers = (
        Subscriber(
            name="reports: rollups",
            kinds=FOLLOWED,
            handler="leadrefinery.reports.subscribers.on_lead_change",
            description="A changed lead (and the other leads of its person, whose attribution "
            "follows the person's touches) is counted again in the next rollup sweep (within "
            "a minute).",
        ),
    )
