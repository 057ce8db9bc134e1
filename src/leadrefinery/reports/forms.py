"""The forms of the costs page. They only read the input; the rules (a campaign of the source,
the last day after the first, an ISO 4217 currency) live in ``costs`` and hold for the API too."""

from __future__ import annotations

from typing import Any

from django import forms

from leadrefinery.leads.models import Campaign, Source


def _campaign_choices() -> list[Any]:
    """Campaigns grouped under their source, so the choice reads as what it is."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for pk, name, source in Campaign.objects.order_by("source__name", "name").values_list(
        "pk", "name", "source__name"
    ):
        groups.setdefault(source, []).append((str(pk), name))
    return [("", "(the whole source)"), *groups.items()]


class CostEntryForm(forms.Form):
    source = forms.ModelChoiceField(
        queryset=Source.objects.order_by("name"), empty_label="Choose a source"
    )
    campaign = forms.ChoiceField(required=False, label="Campaign")
    starts_on = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label="To (included)", widget=forms.DateInput(attrs={"type": "date"}))
    amount = forms.DecimalField(
        max_digits=14,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0", "inputmode": "decimal"}),
    )
    currency = forms.CharField(
        max_length=3,
        required=False,
        widget=forms.TextInput(attrs={"size": "4", "autocomplete": "off"}),
    )
    note = forms.CharField(max_length=300, required=False)

    def __init__(self, *args: Any, reporting: str = "USD", **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["currency"].label = f"Currency (empty: {reporting})"
        campaign = self.fields["campaign"]
        assert isinstance(campaign, forms.ChoiceField)
        campaign.choices = _campaign_choices()
        self.fields["currency"].widget.attrs["placeholder"] = reporting

    def clean_campaign(self) -> Campaign | None:
        value = self.cleaned_data.get("campaign") or ""
        if not value:
            return None
        campaign = Campaign.objects.filter(pk=int(value)).first() if value.isdigit() else None
        if campaign is None:
            raise forms.ValidationError("no such campaign")
        return campaign


class RateForm(forms.Form):
    currency = forms.CharField(
        max_length=3, widget=forms.TextInput(attrs={"size": "4", "autocomplete": "off"})
    )
    rate = forms.DecimalField(
        max_digits=16,
        decimal_places=8,
        widget=forms.NumberInput(attrs={"step": "any", "min": "0", "inputmode": "decimal"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
