from django.urls import path

from . import views

urlpatterns = [
    path("scoring/rules/", views.rule_list, name="scoring-rules"),
    path("scoring/rules/new/", views.rule_edit, name="scoring-rule-new"),
    path("scoring/rules/<int:rule_id>/", views.rule_edit, name="scoring-rule-edit"),
    path("scoring/rules/preview/", views.rule_preview, name="scoring-rule-preview"),
    path("scoring/settings/", views.settings_edit, name="scoring-settings"),
]
