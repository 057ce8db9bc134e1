from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "leadrefinery.accounts"
    label = "accounts"
    verbose_name = "People and security"
