"""Django admin: the reference data (stages, reasons, queues, sources, forms) is edited here.

Leads, touches, timeline events and intake records are read-only in the admin: every change to a
lead goes through the services so that the timeline records who, when and why.
"""

from django import forms
from django.contrib import admin
from django.db import transaction

from leadrefinery.common.clock import now
from leadrefinery.common.weburl import web_url

from . import queries
from .custom_field_services import custom_field_delete
from .models import (
    Account,
    Campaign,
    CustomField,
    DispositionReason,
    ImportBatch,
    IntakeRecord,
    Lead,
    LeadEvent,
    Person,
    Queue,
    Source,
    StageDefinition,
    WebForm,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(StageDefinition)
class StageDefinitionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "order", "default_next_action", "default_due_minutes"]
    readonly_fields = ["code"]

    def has_add_permission(self, request):
        return False  # the stages are the state machine's; their wording and defaults are editable

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(DispositionReason)
class DispositionReasonAdmin(admin.ModelAdmin):
    list_display = ["code", "label", "stage", "needs_persistence", "active", "system_only", "order"]
    list_filter = ["stage", "active"]
    list_editable = ["active", "order"]

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate instead: closed leads keep pointing at their reason

    def get_readonly_fields(self, request, obj=None):
        return ["code", "stage", "system_only"] if obj else ["system_only"]


@admin.register(Queue)
class QueueAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "team"]
    filter_horizontal = ["members"]


class CampaignInline(admin.TabularInline):
    model = Campaign
    extra = 0


@admin.register(CustomField)
class CustomFieldAdmin(admin.ModelAdmin):
    list_display = ["label", "name", "applies_to", "kind", "help_text"]
    readonly_fields = ["created_at"]

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        # A field's name is where its values live: renaming it would orphan them.
        return ["name", "applies_to", "created_at"] if obj else ["created_at"]

    actions = None  # a bulk delete would leave the indexes: fields go one at a time

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        if not obj.created_at:
            obj.created_at = now()
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            if not change:
                queries.index_create(obj.name, obj.pk, obj.applies_to)

    def delete_model(self, request, obj):  # type: ignore[no-untyped-def]
        custom_field_delete(field=obj)


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = ["name", "channel", "cost", "starts_on", "ends_on"]
    list_filter = ["channel"]
    inlines = [CampaignInline]


class WebFormAdminForm(forms.ModelForm):
    class Meta:
        model = WebForm
        fields = "__all__"  # noqa: DJ007  (the admin edits every field)

    def clean_thank_you_url(self) -> str:
        url, problem = web_url(self.cleaned_data.get("thank_you_url", ""))
        if problem:
            raise forms.ValidationError(f"The thank-you page {problem}.")
        return url


@admin.register(WebForm)
class WebFormAdmin(admin.ModelAdmin):
    form = WebFormAdminForm
    list_display = ["name", "slug", "source", "campaign", "active"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["name", "domain", "industry", "employee_band", "country", "owner"]
    search_fields = ["name", "domain"]


@admin.register(Person)
class PersonAdmin(ReadOnlyAdmin):
    list_display = ["display_name", "email", "phone", "company_name", "country", "created_at"]
    search_fields = ["email", "phone", "last_name", "company_name"]


@admin.register(Lead)
class LeadAdmin(ReadOnlyAdmin):
    list_display = ["id", "person", "stage", "owner_user", "owner_queue", "source", "received_at"]
    list_filter = ["stage", "source"]
    list_select_related = ["person", "owner_user", "owner_queue", "source"]


@admin.register(LeadEvent)
class LeadEventAdmin(ReadOnlyAdmin):
    list_display = [
        "lead_id",
        "kind",
        "actor_label",
        "from_stage",
        "to_stage",
        "reason",
        "occurred_at",
    ]
    list_filter = ["kind"]


@admin.register(IntakeRecord)
class IntakeRecordAdmin(ReadOnlyAdmin):
    list_display = ["id", "channel", "status", "source", "received_at", "lead_id"]
    list_filter = ["channel", "status"]


@admin.register(ImportBatch)
class ImportBatchAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "filename",
        "source",
        "total_rows",
        "imported_rows",
        "rejected_rows",
        "created_at",
        "undone_at",
    ]
