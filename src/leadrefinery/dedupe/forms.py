"""The merge form of the review page: which person survives, and per field whose value."""

from __future__ import annotations

from django import forms

from leadrefinery.leads.models import Person

from . import merging
from .models import DuplicatePair

SIDES = [("a", "A"), ("b", "B")]


class MergeForm(forms.Form):
    survivor = forms.ChoiceField(choices=SIDES, initial="a", widget=forms.RadioSelect)
    reason = forms.CharField(max_length=300, required=False)

    def __init__(self, *args, pair: DuplicatePair, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.pair = pair
        for name in merging.MERGE_FIELDS:
            self.fields[f"value_{name}"] = forms.ChoiceField(
                choices=SIDES, required=False, widget=forms.RadioSelect
            )

    def survivor_and_takes(self) -> tuple[Person, list[str]]:
        """The surviving person, and the fields whose value comes from the other record (a
        field left unchosen keeps the survivor's value, or the other's when it is blank)."""
        side = self.cleaned_data["survivor"]
        survivor = self.pair.person_a if side == "a" else self.pair.person_b
        takes = [
            name
            for name in merging.MERGE_FIELDS
            if self.cleaned_data.get(f"value_{name}") not in ("", None, side)
        ]
        return survivor, takes
