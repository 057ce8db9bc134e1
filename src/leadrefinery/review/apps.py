from django.apps import AppConfig

from leadrefinery.common.subscriptions import Subscriber

# Lead events after which a lead's hygiene flags may have changed.
FOLLOWED = frozenset(
    {
        "created",
        "stage_changed",
        "assigned",
        "next_action",
        "touch",
        "disposed",
        "merged",
        "accepted",
        "rejected",
        "recycled",
        "cadence",
        "nurture",
        "duplicate",
        "sla",
        "import_undone",
        "reviewed",
    }
)


class ReviewConfig(AppConfig):
    name = "leadrefinery.review"
    label = "review"
    verbose_name = "Weekly review and hygiene"

    # What the lead list asks for by name: the flag filter, the flag column, "flagged first".
    lead_actions = {
        "flag_choices": "leadrefinery.review.selectors.flag_choices",
        "flag_labels": "leadrefinery.review.selectors.flag_labels",
        "with_flag": "leadrefinery.review.selectors.leads_with_flag",
        "flagged_first": "leadrefinery.review.selectors.flagged_first",
    }

    lead_event_subscribers = (
        Subscriber(
            name="review: hygiene flags",
            kinds=FOLLOWED,
            handler="leadrefinery.review.subscribers.on_lead_change",
            description="A changed lead's flags are worked out again in the next hygiene sweep "
            "(within a minute).",
        ),
    )
