"""The staff UI (login required everywhere except the login page itself)."""

from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    # POST only (Django 5): a link or an image cannot log anyone out.
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("leads/", views.lead_list, name="lead-list"),
    path("leads/export.csv", views.lead_export, name="lead-export"),
    path("leads/bulk/", views.lead_bulk, name="lead-bulk"),
    path("leads/<int:pk>/", views.lead_detail, name="lead-detail"),
    path("leads/<int:pk>/reasons/", views.lead_reasons, name="lead-reasons"),
    path(
        "leads/<int:pk>/<slug:action>/",
        views.lead_action,
        name="lead-action",
    ),
]
