from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "leadrefinery.common"
    label = "common"
    verbose_name = "Common"
