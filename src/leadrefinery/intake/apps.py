from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "leadrefinery.intake"
    label = "intake"
    verbose_name = "Intake"
