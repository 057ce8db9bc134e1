from django.apps import AppConfig


class CadencesConfig(AppConfig):
    name = "leadrefinery.cadences"
    label = "cadences"
    verbose_name = "Follow-up cadences"
