"""Custom fields: defining them, reading their definitions, setting a lead's values (its own,
its person's and its account's; leads/custom_fields.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction

from leadrefinery.common.clock import now
from leadrefinery.common.errors import ServiceError

from . import custom_fields, queries
from .actors import Actor
from .models import Account, CustomField, Lead, LeadEvent, Person
from .services import event_record


def definitions() -> list[custom_fields.Definition]:
    """Every custom field, by label (a handful of rows: read once per batch or page)."""
    return [f.definition() for f in CustomField.objects.all()]


def lead_values(lead: Lead) -> dict[str, object]:
    """Every custom value of a lead: its own, its person's and its account's, by name."""
    account = lead.account
    return custom_fields.merged(
        lead.custom, lead.person.custom, account.custom if account is not None else None
    )


def custom_field_create(
    *,
    name: str,
    label: str = "",
    kind: str = "text",
    choices: Sequence[str] = (),
    help_text: str = "",
    applies_to: str = "lead",
) -> CustomField:
    """Define a custom field; ServiceError with the field at fault when it cannot be."""
    if applies_to not in custom_fields.ENTITIES:
        raise ServiceError(
            f"applies_to must be one of {', '.join(custom_fields.ENTITIES)}", field="applies_to"
        )
    field = CustomField(
        name=name.strip(),
        label=(label or name).strip()[:100],
        applies_to=applies_to,
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
        queries.index_create(field.name, field.pk, field.applies_to)
    return field


def custom_field_delete(*, field: CustomField) -> None:
    """Remove a field's definition and its index. The values stay in the custom data of the
    leads, people or accounts (nothing is deleted), unseen until a field of that name exists
    again."""
    with transaction.atomic():
        queries.index_drop(field.pk)
        field.delete()


@transaction.atomic
def lead_custom_set(
    *, lead: Lead, changes: Mapping[str, object], actor: Actor, at: datetime | None = None
) -> Lead:
    """Set custom field values of a lead, its person or its account, by each field's
    ``applies_to`` (name -> value as text, or None / "" to clear).

    Each value is read against its field (a number, a date, one of a choice's options...); a
    value that cannot be read refuses the whole change, naming the field, as does a field of
    an account on a lead without one. The change is on the lead's timeline ("Qualification
    updated") with each old and new value."""
    at = at or now()
    by_name = {d.name: d for d in definitions()}
    unknown = sorted(set(changes) - set(by_name))
    if unknown:
        raise ServiceError(f"no custom field is named '{unknown[0]}'", field=unknown[0])
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    rows: dict[str, Lead | Person | Account] = {"lead": lead}
    if any(by_name[name].entity == "person" for name in changes):
        rows["person"] = Person.objects.select_for_update().get(pk=lead.person_id)
    if any(by_name[name].entity == "account" for name in changes):
        if lead.account_id is None:
            name = next(n for n in changes if by_name[n].entity == "account")
            raise ServiceError(
                f"{by_name[name].label} is a field of the account, and this lead has none",
                field=name,
            )
        rows["account"] = Account.objects.select_for_update().get(pk=lead.account_id)
    values = {entity: dict(row.custom or {}) for entity, row in rows.items()}
    diff: dict[str, dict[str, object]] = {}
    for name, raw in changes.items():
        definition = by_name[name]
        try:
            value = custom_fields.read(definition, raw)
        except ValueError as exc:
            raise ServiceError(str(exc), field=name) from None
        mine = values[definition.entity]
        if value != mine.get(name):
            diff[name] = {"from": mine.get(name), "to": value}
            if value is None:
                mine.pop(name, None)
            else:
                mine[name] = value
    if not diff:
        return lead
    for entity, row in rows.items():
        if values[entity] == (row.custom or {}):
            continue
        row.custom = values[entity]
        if isinstance(row, Account):
            row.save(update_fields=["custom"])
        else:
            row.updated_at = at
            row.save(update_fields=["custom", "updated_at"])
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


_HOLDER = {"lead": "", "person": "the person's", "account": "the company's"}


def custom_field_rows(
    lead: Lead, fields: Sequence[custom_fields.Definition] | None = None
) -> list[tuple[str, str, str]]:
    """(label, value as shown, whose value it is: "" for the lead's own, "the person's" or
    "the company's", shared by their other leads) of every custom field, for the lead page."""
    values = lead_values(lead)
    return [
        (d.label or d.name, custom_fields.show(values.get(d.name)), _HOLDER[d.entity])
        for d in (definitions() if fields is None else fields)
    ]
