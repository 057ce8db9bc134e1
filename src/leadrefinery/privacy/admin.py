"""The privacy log in the Django admin, read-only: it is an audit trail."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import PrivacyEvent


@admin.register(PrivacyEvent)
class PrivacyEventAdmin(admin.ModelAdmin):
    list_display = ["occurred_at", "kind", "actor_label", "person_ids", "reason"]
    list_filter = ["kind"]
    readonly_fields = [f.name for f in PrivacyEvent._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
