"""Forms for marketers: write a message, build a program. They only parse; the services
validate and save (nurture.services.message_create / program_create)."""

from __future__ import annotations

from datetime import time
from typing import Any

from django import forms

from . import domain
from .models import Message, Program

MAX_STEPS = 6
WEEKDAY_CHOICES = [
    (0, "Mon"),
    (1, "Tue"),
    (2, "Wed"),
    (3, "Thu"),
    (4, "Fri"),
    (5, "Sat"),
    (6, "Sun"),
]


class MessageForm(forms.Form):
    name = forms.CharField(max_length=120, help_text="For you; recipients see the subject.")
    subject = forms.CharField(max_length=200)
    body_markdown = forms.CharField(
        label="Body (Markdown)",
        widget=forms.Textarea(attrs={"rows": 12}),
        help_text="Merge fields: {{ first_name }}, {{ last_name }}, {{ full_name }}, {{ company }}, "
        '{{ country }}; {{ first_name | default:"there" }} for a fallback. The postal '
        "address and the unsubscribe link are added to every message.",
    )


class ProgramForm(forms.Form):
    name = forms.CharField(max_length=120)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    interval_days = forms.IntegerField(
        label="Days between messages", min_value=1, max_value=365, initial=14
    )
    entry_rules = forms.MultipleChoiceField(
        label="Who joins",
        choices=list(domain.ENTRY_RULES.items()),
        widget=forms.CheckboxSelectMultiple,
        initial=["recycled", "warm", "cool", "lost_no_decision"],
    )
    exit_rules = forms.MultipleChoiceField(
        label="Who leaves (closed and merged leads always do)",
        choices=list(domain.EXIT_RULES.items()),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        initial=list(domain.EXIT_RULES),
    )
    window_start = forms.TimeField(label="Send from", initial=time(9, 0))
    window_end = forms.TimeField(label="Send until", initial=time(17, 0))
    window_weekdays = forms.TypedMultipleChoiceField(
        label="On",
        choices=WEEKDAY_CHOICES,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        initial=list(domain.WEEKDAYS),
    )
    active = forms.BooleanField(label="Sending (off: paused)", required=False, initial=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", "-")] + [(m.pk, m.name) for m in Message.objects.order_by("name")]
        for n in range(1, MAX_STEPS + 1):
            self.fields[f"step_{n}"] = forms.TypedChoiceField(
                label=f"Message {n}",
                choices=choices,
                coerce=int,
                empty_value=None,
                required=n == 1,
            )

    @staticmethod
    def initial_for(program: Program) -> dict[str, Any]:
        """The form's values for an existing program (to edit it)."""
        initial: dict[str, Any] = {
            "name": program.name,
            "description": program.description,
            "interval_days": program.interval_days,
            "entry_rules": list(program.entry_rules),
            "exit_rules": list(program.exit_rules or domain.EXIT_RULES),
            "window_start": program.window_start,
            "window_end": program.window_end,
            "window_weekdays": list(program.window_weekdays or domain.WEEKDAYS),
            "active": program.active,
        }
        for step in program.steps.order_by("position")[:MAX_STEPS]:
            initial[f"step_{step.position}"] = step.message_id
        return initial

    def step_fields(self) -> list[forms.BoundField]:
        return [self[f"step_{n}"] for n in range(1, MAX_STEPS + 1)]

    def steps(self) -> list[int]:
        return [
            self.cleaned_data[f"step_{n}"]
            for n in range(1, MAX_STEPS + 1)
            if self.cleaned_data.get(f"step_{n}")
        ]
