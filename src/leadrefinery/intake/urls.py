"""The staff pages of intake (login required)."""

from django.urls import path

from . import views

urlpatterns = [
    path("forms/", views.form_list, name="form-list"),
]
