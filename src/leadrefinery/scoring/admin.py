"""Read-only admin views: rules are edited on the Scoring page (validated, with a preview and
a rescore), and scores and their ledger only change through the services."""

from django.contrib import admin

from leadrefinery.leads.admin import ReadOnlyAdmin

from .models import LeadScore, ScoreLog, ScoringModel, ScoringRule, TrainingExample


@admin.register(ScoringRule)
class ScoringRuleAdmin(ReadOnlyAdmin):
    list_display = ("name", "kind", "event_type", "points", "daily_cap", "half_life_days", "active")
    list_filter = ("kind", "active")


@admin.register(LeadScore)
class LeadScoreAdmin(ReadOnlyAdmin):
    list_display = ("lead", "fit_grade", "fit_points", "engagement", "temperature", "predicted")
    list_filter = ("temperature", "fit_grade")


@admin.register(ScoreLog)
class ScoreLogAdmin(ReadOnlyAdmin):
    list_display = ("lead", "axis", "delta", "event_type", "reason", "occurred_at")
    list_filter = ("axis", "event_type")


admin.site.register(ScoringModel, ReadOnlyAdmin)
admin.site.register(TrainingExample, ReadOnlyAdmin)
