from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "leadrefinery.common"
    label = "common"
    verbose_name = "Common"

    def ready(self) -> None:
        from . import config

        config.connect_signals()
