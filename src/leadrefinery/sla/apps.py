from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "leadrefinery.sla"
    label = "sla"
    verbose_name = "Speed-to-lead SLA"
