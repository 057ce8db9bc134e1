from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "leadrefinery.notifications"
    label = "notifications"
    verbose_name = "Notifications and webhooks"
