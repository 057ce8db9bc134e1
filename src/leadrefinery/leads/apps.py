from django.apps import AppConfig


class LeadsConfig(AppConfig):
    name = "leadrefinery.leads"
    label = "leads"
    verbose_name = "Leads"
