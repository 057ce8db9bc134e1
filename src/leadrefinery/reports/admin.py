from django.contrib import admin

from .models import CostEntry, CurrencyRate


@admin.register(CostEntry)
class CostEntryAdmin(admin.ModelAdmin):
    """Also on /reports/costs for marketers; an entry is voided there, never deleted."""

    list_display = (
        "source", "campaign", "starts_on", "ends_on", "amount", "currency", "created_by",
        "voided_at",
    )  # fmt: skip
    list_filter = ("source", "voided_at")
    search_fields = ("note", "source__name", "campaign__name")
    raw_id_fields = ("created_by",)
    date_hierarchy = "starts_on"

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(CurrencyRate)
class CurrencyRateAdmin(admin.ModelAdmin):
    list_display = ("currency", "rate", "updated_at")
