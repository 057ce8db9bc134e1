from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "leadrefinery.tracking"
    label = "tracking"
    verbose_name = "Engagement tracking"
