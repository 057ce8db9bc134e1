"""Routing pages: /routing/ (rules, test a lead), /routing/team/ (availability) and /sla/
(speed-to-lead policies)."""

from django.urls import path

from . import views, views_sla

urlpatterns = [
    path("routing/", views.rule_list, name="routing-rules"),
    path("routing/new/", views.rule_edit, name="routing-rule-new"),
    path("routing/<int:pk>/", views.rule_edit, name="routing-rule-edit"),
    path("routing/<int:pk>/deactivate/", views.rule_deactivate, name="routing-rule-deactivate"),
    path("routing/team/", views.team, name="routing-team"),
    path(
        "routing/team/<str:username>/availability/",
        views.availability,
        name="routing-availability",
    ),
    path("routing/team/<str:username>/deactivate/", views.deactivate, name="routing-deactivate"),
    path("sla/", views_sla.policy_list, name="sla-policies"),
    path("sla/new/", views_sla.policy_edit, name="sla-policy-new"),
    path("sla/<int:pk>/", views_sla.policy_edit, name="sla-policy-edit"),
]
