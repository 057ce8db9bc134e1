from django.apps import AppConfig

from leadrefinery.common.subscriptions import LeadSection, Subscriber


class ScoringConfig(AppConfig):
    name = "leadrefinery.scoring"
    label = "scoring"
    verbose_name = "Scoring and temperature"

    lead_sections = (LeadSection("score", "leadrefinery.scoring.selectors.lead_score_summary"),)

    lead_event_subscribers = (
        Subscriber(
            name="scoring: predict again when a lead's own fields change",
            kinds=frozenset({"qualified"}),
            handler="leadrefinery.scoring.subscribers.on_fields_changed",
            description="A change of a lead's custom fields puts it on the predict sweep, so "
            "its predicted readiness follows the fields the model reads.",
        ),
    )
