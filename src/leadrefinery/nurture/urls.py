"""Nurture URLs: the public one-click unsubscribe and bounce webhook, and the staff pages."""

from django.urls import path

from . import views

urlpatterns = [
    path("u/<str:token>", views.unsubscribe, name="nurture-unsubscribe"),
    path("nurture/bounces", views.bounce_webhook, name="nurture-bounces"),
    path("nurture/", views.program_list, name="nurture-programs"),
    path("nurture/programs/<int:pk>/", views.program_detail, name="nurture-program"),
    path(
        "nurture/messages/<int:pk>/preview/", views.message_preview, name="nurture-message-preview"
    ),
    path("nurture/pipeline/", views.pipeline, name="nurture-pipeline"),
]
