"""Nurture URLs: the public one-click unsubscribe and bounce webhook, and the staff pages."""

from django.urls import path

from . import views

urlpatterns = [
    path("u/<str:token>", views.unsubscribe, name="nurture-unsubscribe"),
    path("nurture/bounces", views.bounce_webhook, name="nurture-bounces"),
    path("nurture/", views.program_list, name="nurture-programs"),
    path("nurture/programs/new/", views.program_new, name="nurture-program-new"),
    path("nurture/programs/<int:pk>/", views.program_detail, name="nurture-program"),
    path("nurture/programs/<int:pk>/toggle/", views.program_toggle, name="nurture-program-toggle"),
    path("nurture/programs/<int:pk>/edit/", views.program_edit, name="nurture-program-edit"),
    path("nurture/messages/new/", views.message_new, name="nurture-message-new"),
    path(
        "nurture/messages/<int:pk>/preview/", views.message_preview, name="nurture-message-preview"
    ),
    path(
        "nurture/messages/<int:pk>/preview.html",
        views.message_preview_html,
        name="nurture-message-preview-html",
    ),
    path("nurture/pipeline/", views.pipeline, name="nurture-pipeline"),
]
