from django.apps import AppConfig


class DedupeConfig(AppConfig):
    name = "leadrefinery.dedupe"
    label = "dedupe"
    verbose_name = "Data quality and de-duplication"
