from django.contrib import admin

from .models import Enrollment, Message, NurtureSend, Program, ProgramStep, Suppression


class StepInline(admin.TabularInline):
    model = ProgramStep
    extra = 0


@admin.register(Program)
class ProgramAdmin(admin.ModelAdmin):
    list_display = ["name", "active", "interval_days", "entry_rules"]
    inlines = [StepInline]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["name", "subject", "updated_at"]


@admin.register(Enrollment)
class EnrollmentAdmin(admin.ModelAdmin):
    list_display = ["lead", "program", "status", "entry_reason", "exit_reason", "enrolled_at"]
    list_filter = ["status", "program"]
    raw_id_fields = ["lead", "person"]


@admin.register(NurtureSend)
class NurtureSendAdmin(admin.ModelAdmin):
    list_display = ["pk", "recipient", "status", "send_after", "sent_at", "attempts"]
    list_filter = ["status"]
    raw_id_fields = ["enrollment", "lead", "person", "step"]


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    list_display = ["address", "reason", "source", "created_at"]
    search_fields = ["address"]
