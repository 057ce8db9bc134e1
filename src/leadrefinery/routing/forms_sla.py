"""The SLA policy form: it parses; ``sla_policy_save`` validates (``SlaPolicy.clean``) and
saves, and its refusals land on the fields they are about."""

from __future__ import annotations

from typing import Any

from django import forms

from leadrefinery.common.errors import ConfigRefused
from leadrefinery.leads.models import Source
from leadrefinery.sla.models import SlaPolicy
from leadrefinery.sla.services import sla_policy_save

TEMPERATURES = [
    ("", "Any temperature"),
    ("hot", "Hot"),
    ("warm", "Warm"),
    ("cool", "Cool"),
    ("cold", "Cold"),
]
FIELDS = (
    "name",
    "order",
    "active",
    "temperature",
    "source",
    "first_touch_minutes",
    "accept_minutes",
    "business_hours",
    "remind_at_percent",
    "notify_manager_at_breach",
    "reassign_after_minutes",
)


class SlaPolicyForm(forms.Form):
    name = forms.CharField(max_length=120)
    order = forms.IntegerField(
        min_value=0, initial=100, help_text="lower numbers are tried first; the first match applies"
    )
    active = forms.BooleanField(required=False, initial=True)
    temperature = forms.ChoiceField(
        choices=TEMPERATURES, required=False, label="For leads that are"
    )
    source = forms.ModelChoiceField(
        queryset=Source.objects.none(), required=False, empty_label="Any source", label="From"
    )
    first_touch_minutes = forms.IntegerField(
        min_value=1,
        initial=60,
        label="First contact within (minutes)",
        help_text="from assignment to the first sales touch (a call, an email)",
    )
    accept_minutes = forms.IntegerField(
        min_value=1,
        initial=240,
        label="Accept within (minutes)",
        help_text="from assignment to the owner accepting the lead",
    )
    business_hours = forms.BooleanField(
        required=False,
        initial=True,
        label="Count only the owner's working hours",
        help_text="off: the clock runs day and night",
    )
    remind_at_percent = forms.IntegerField(
        min_value=1,
        max_value=99,
        initial=50,
        label="Remind the owner at (% of the time)",
    )
    notify_manager_at_breach = forms.BooleanField(
        required=False, initial=True, label="Tell the team manager at breach"
    )
    reassign_after_minutes = forms.IntegerField(
        min_value=1,
        required=False,
        label="Reassign this long after breach (minutes)",
        help_text="empty: never reassign",
    )

    def __init__(self, data: Any = None, *, policy: SlaPolicy | None = None, **kwargs: Any) -> None:
        self.policy = policy
        if policy is not None and data is None:
            kwargs.setdefault(
                "initial", {name: getattr(policy, name) for name in FIELDS if name != "source"}
            )
            kwargs["initial"]["source"] = policy.source_id
        super().__init__(data, **kwargs)
        self.fields["source"].queryset = Source.objects.order_by("name")  # type: ignore[attr-defined]

    def save(self) -> SlaPolicy | None:
        """The saved policy, or None with the refusals on the form."""
        try:
            return sla_policy_save(
                policy=self.policy, changes={name: self.cleaned_data[name] for name in FIELDS}
            )
        except ConfigRefused as exc:
            for field, messages in exc.errors.items():
                for message in messages:
                    self.add_error(field if field in self.fields else None, message)
            return None
