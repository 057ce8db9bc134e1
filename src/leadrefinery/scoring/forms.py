"""The admin's rule editor and settings forms. Conditions are edited as JSON, the same
shape the API takes; the model validates them on save."""

from __future__ import annotations

import json
from typing import Any

from django import forms

from leadrefinery.routing.domain import Op

from . import domain
from .models import ScoringRule, ScoringSettings

FIELDS = (
    "name",
    "kind",
    "event_type",
    "points",
    "self_reported",
    "daily_cap",
    "half_life_days",
    "active",
    "order",
)


def _is_message_words(condition: Any) -> bool:
    return (
        isinstance(condition, dict)
        and condition.get("field") == "message"
        and condition.get("op") == Op.CONTAINS_ANY
    )


def parse_words(text: str) -> list[str]:
    """One word or phrase per line or between commas; blanks and repeats dropped."""
    words = (w.strip() for line in text.splitlines() for w in line.split(","))
    return list(dict.fromkeys(w for w in words if w))


class RuleForm(forms.ModelForm):
    message_words = forms.CharField(
        label="Message contains any of",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "demo\nsend pricing\nquote"}),
        help_text="Words or phrases, one per line or separated by commas, found in the "
        "inquiry's message as whole words (case, accents and punctuation do not matter). "
        "Leave empty for none.",
    )
    conditions_json = forms.CharField(
        label="Other conditions (all must hold)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text='e.g. [{"field": "title", "op": "contains", "value": "director"}]',
    )

    class Meta:
        model = ScoringRule
        fields = FIELDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            conditions = list(self.instance.conditions or [])
            words = [c for c in conditions if _is_message_words(c)]
            others = [c for c in conditions if not _is_message_words(c)]
            self.initial["conditions_json"] = json.dumps(others)
            self.initial["message_words"] = "\n".join(
                str(w) for c in words[:1] for w in c.get("value") or []
            )
            if len(words) > 1:  # more than one such condition: keep the rest as JSON
                self.initial["conditions_json"] = json.dumps(words[1:] + others)

    def clean_conditions_json(self) -> list[Any]:
        text = self.cleaned_data.get("conditions_json") or "[]"
        try:
            value = json.loads(text)
        except ValueError:
            raise forms.ValidationError("not valid JSON") from None
        if not isinstance(value, list):
            raise forms.ValidationError("a list of conditions")
        return value

    def changes(self) -> dict[str, Any]:
        data = {f: self.cleaned_data.get(f) for f in FIELDS}
        conditions = list(self.cleaned_data.get("conditions_json") or [])
        words = parse_words(self.cleaned_data.get("message_words") or "")
        if words:
            conditions.insert(0, {"field": "message", "op": Op.CONTAINS_ANY.value, "value": words})
        data["conditions"] = conditions
        data["event_type"] = data["event_type"] or ""
        return data

    def _post_clean(self) -> None:
        # The service validates (and saves); the form only parses.
        pass


class SettingsForm(forms.Form):
    self_reported_weight = forms.FloatField(
        min_value=0,
        max_value=1,
        label="Weight of self-reported answers",
        help_text="Points of rules on what a person says about themselves (job title, budget, "
        "timeline in a form) are multiplied by this, 0 to 1: prospects overstate, behaviour "
        "does not. 0.5 = half the points; 1 = full points.",
    )
    hand_raiser_hot_days = forms.IntegerField(
        min_value=0,
        max_value=3650,
        label="Hand-raisers stay hot for (days)",
        help_text="A demo or price request makes the lead hot at once, whatever its score, for "
        "this many days; 0 = hand-raisers are scored like everyone else.",
    )

    def __init__(self, *args: Any, row: ScoringSettings, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.row = row
        for grade, minimum in (row.grade_thresholds or {}).items():
            self.fields[f"grade_{grade}"] = forms.IntegerField(
                label=f"Grade {grade} from",
                help_text=f"fit points a lead needs for grade {grade}",
            )
            self.initial[f"grade_{grade}"] = minimum
        for band, minimum in (row.engagement_bands or {}).items():
            self.fields[f"band_{band}"] = forms.IntegerField(
                label=f"Engagement {band} from",
                help_text=f"engagement points (after decay) for the {band} band",
            )
            self.initial[f"band_{band}"] = minimum
        choices = [(t, t) for t in domain.TEMPERATURES]
        for grade in domain.GRADES:
            for band in domain.BANDS:
                name = f"cell_{grade}_{band}"
                self.fields[name] = forms.ChoiceField(choices=choices, label=f"{grade} x {band}")
                self.initial[name] = (row.matrix or {}).get(grade, {}).get(band, "cold")
        self.initial["self_reported_weight"] = row.self_reported_weight
        self.initial["hand_raiser_hot_days"] = row.hand_raiser_hot_days

    def matrix_rows(self) -> list[tuple[str, list[Any]]]:
        return [(g, [self[f"cell_{g}_{b}"] for b in domain.BANDS]) for g in domain.GRADES]

    def changes(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "grade_thresholds": {g: d[f"grade_{g}"] for g in ("A", "B", "C")},
            "engagement_bands": {b: d[f"band_{b}"] for b in ("high", "medium", "low")},
            "matrix": {g: {b: d[f"cell_{g}_{b}"] for b in domain.BANDS} for g in domain.GRADES},
            "self_reported_weight": d["self_reported_weight"],
            "hand_raiser_hot_days": d["hand_raiser_hot_days"],
        }
