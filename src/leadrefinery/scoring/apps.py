from django.apps import AppConfig


class ScoringConfig(AppConfig):
    name = "leadrefinery.scoring"
    label = "scoring"
    verbose_name = "Scoring and temperature"
