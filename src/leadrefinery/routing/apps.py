from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "leadrefinery.routing"
    label = "routing"
    verbose_name = "Routing and assignment"
