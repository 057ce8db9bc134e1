from django.apps import AppConfig


class NurtureConfig(AppConfig):
    name = "leadrefinery.nurture"
    label = "nurture"
    verbose_name = "Nurture programs and email"

    def ready(self) -> None:
        from . import receivers

        receivers.connect()
