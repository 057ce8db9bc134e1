"""Privacy pages (admins only)."""

from django.urls import path

from . import views

urlpatterns = [
    path("privacy/people/<int:person_id>/export.json", views.person_export, name="privacy-export"),
    path("privacy/people/<int:person_id>/erase/", views.person_erase, name="privacy-erase"),
]
