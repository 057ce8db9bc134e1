"""Read-only admin views of what tracking recorded."""

from django.contrib import admin

from leadrefinery.leads.admin import ReadOnlyAdmin

from .models import Hit, TrackedEvent, Visit, Visitor


@admin.register(Visitor)
class VisitorAdmin(ReadOnlyAdmin):
    list_display = ("key", "person", "first_seen_at", "last_seen_at", "identified_at")


@admin.register(Visit)
class VisitAdmin(ReadOnlyAdmin):
    list_display = ("url", "visitor", "person", "occurred_at")


admin.site.register(Hit, ReadOnlyAdmin)
admin.site.register(TrackedEvent, ReadOnlyAdmin)
