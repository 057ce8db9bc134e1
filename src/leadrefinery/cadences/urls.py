"""Cadence pages: /today/ (the rep's day), /cadences/ (the editor, admins)."""

from django.urls import path

from . import views

urlpatterns = [
    path("today/", views.today, name="cadence-today"),
    path("today/<int:lead_id>/<slug:action>/", views.today_action, name="cadence-action"),
    path("today/checks/<int:pk>/", views.outcome_check_answer, name="cadence-outcome-check"),
    path("cadences/", views.cadence_list, name="cadence-list"),
    path("cadences/new/", views.cadence_edit, name="cadence-new"),
    path("cadences/<int:pk>/", views.cadence_edit, name="cadence-edit"),
]
