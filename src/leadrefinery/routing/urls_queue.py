"""The qualifying center's pages: your queues and the "Next lead" button."""

from django.urls import path

from . import views_queue

urlpatterns = [
    path("queues/", views_queue.queue_list, name="queue-list"),
    path("queues/<int:pk>/next/", views_queue.queue_next, name="queue-next"),
]
