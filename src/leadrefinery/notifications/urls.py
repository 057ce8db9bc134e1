"""The Webhooks page (administrators only)."""

from django.urls import path

from . import views

urlpatterns = [
    path("webhooks/", views.webhook_page, name="webhook-page"),
    path("webhooks/<int:pk>/active/", views.webhook_toggle, name="webhook-toggle"),
]
