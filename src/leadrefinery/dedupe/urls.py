"""The review queue of possible duplicates."""

from django.urls import path

from . import views

urlpatterns = [
    path("duplicates/", views.review_queue, name="duplicate-queue"),
    path("duplicates/<int:pk>/merge/", views.merge, name="duplicate-merge"),
    path("duplicates/<int:pk>/dismiss/", views.dismiss, name="duplicate-dismiss"),
]
