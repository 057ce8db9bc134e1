from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo users and data (`refinery demo`): drives the real intake and lead services, so it
    sits above every other app and nothing imports it."""

    name = "leadrefinery.demo"
    label = "demo"
    verbose_name = "Demo data"
