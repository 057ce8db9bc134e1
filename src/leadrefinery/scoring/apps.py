from django.apps import AppConfig

from leadrefinery.common.subscriptions import LeadSection


class ScoringConfig(AppConfig):
    name = "leadrefinery.scoring"
    label = "scoring"
    verbose_name = "Scoring and temperature"

    lead_sections = (LeadSection("score", "leadrefinery.scoring.selectors.lead_score_summary"),)
