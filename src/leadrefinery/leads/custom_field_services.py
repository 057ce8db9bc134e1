"""Custom fields: defining them, reading their definitions, setting a lead's values
(leads/custom_fields.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction

from leadrefinery.common.clock import now
from leadrefinery.common.errors import ServiceError

from . import custom_fields, queries
from .actors import Actor
from .models import CustomField, Lead, LeadEvent
from .services import event_record


def definitions() -> list[custom_fields.Definition]:
    """Every custom field, by label (a handful of rows: read once per batch or page)."""
    return [f.definition() for f in CustomField.objects.all()]


def custom_field_create(
    *, name: str, label: str = "", kind: str = "text", choices: Sequence[str] = (), help_text=""
) -> CustomField:
    """Define a custom field; ServiceError with the field at fault when it cannot be."""
    field = CustomField(
        name=name.strip(),
        label=(label or name).strip()[:100],
        kind=kind,
        choices=[str(c).strip() for c in choices if str(c).strip()],
        help_text=help_text[:200],
        created_at=now(),
    )
    if kind not in custom_fields.KINDS:
        raise ServiceError(f"kind must be one of {', '.join(custom_fields.KINDS)}", field="kind")
    try:
        field.clean()
    except ValidationError as exc:
        name_at_fault, messages = next(iter(exc.message_dict.items()))
        raise ServiceError(messages[0], field=name_at_fault) from None
    if CustomField.objects.filter(name=field.name).exists():
        raise ServiceError(f"a custom field named '{field.name}' exists", field="name")
    with transaction.atomic():
        field.save()
        queries.index_create(field.name, field.pk)
    return field


def custom_field_delete(*, field: CustomField) -> None:
    """Remove a field's definition and its index. The values stay in the leads' custom data
    (nothing about a lead is deleted), unseen until a field of that name exists again."""
    with transaction.atomic():
        queries.index_drop(field.pk)
        field.delete()


@transaction.atomic
def lead_custom_set(
    *, lead: Lead, changes: Mapping[str, object], actor: Actor, at: datetime | None = None
) -> Lead:
    """Set custom field values of a lead (name -> value as text, or None / "" to clear).

    Each value is read against its field (a number, a date, one of a choice's options...); a
    value that cannot be read refuses the whole change, naming the field. The change is on
    the timeline ("Qualification updated") with each old and new value."""
    at = at or now()
    by_name = {d.name: d for d in definitions()}
    unknown = sorted(set(changes) - set(by_name))
    if unknown:
        raise ServiceError(f"no custom field is named '{unknown[0]}'", field=unknown[0])
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    values = dict(lead.custom or {})
    diff: dict[str, dict[str, object]] = {}
    for name, raw in changes.items():
        try:
            value = custom_fields.read(by_name[name], raw)
        except ValueError as exc:
            raise ServiceError(str(exc), field=name) from None
        if value != values.get(name):
            diff[name] = {"from": values.get(name), "to": value}
            if value is None:
                values.pop(name, None)
            else:
                values[name] = value
    if not diff:
        return lead
    lead.custom = values
    lead.updated_at = at
    lead.save(update_fields=["custom", "updated_at"])
    event_record(
        lead=lead,
        kind=LeadEvent.Kind.QUALIFIED,
        actor=actor,
        at=at,
        note="\n".join(
            f"{by_name[name].label}: {custom_fields.show(change['to']) or '(cleared)'}"
            for name, change in diff.items()
        ),
        data={"custom": diff},
    )
    return lead


def custom_field_rows(
    lead: Lead, fields: Sequence[custom_fields.Definition] | None = None
) -> list[tuple[str, str]]:
    """(label, value as shown) of every custom field, for the lead page."""
    values = lead.custom or {}
    return [
        (d.label or d.name, custom_fields.show(values.get(d.name)))
        for d in (definitions() if fields is None else fields)
    ]
