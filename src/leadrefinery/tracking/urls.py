from django.urls import path, re_path

from . import views

urlpatterns = [
    path("t/snippet.js", views.snippet, name="tracking-snippet"),
    path("t/v", views.collect, name="tracking-collect"),
    re_path(r"^t/o/(?P<token>[^/]+)\.gif$", views.open_pixel, name="tracking-open"),
    path("t/c/<str:token>", views.click, name="tracking-click"),
]
