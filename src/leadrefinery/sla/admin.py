from django.contrib import admin

from .models import Holiday, SlaPolicy


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    """Also on /sla/ for managers; the model's clean() validates both."""

    list_display = ("name", "order", "active", "temperature", "source", "first_touch_minutes")
    list_editable = ("active",)
    ordering = ("order", "id")


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):
    list_display = ("date", "name", "team")
    list_filter = ("team",)
