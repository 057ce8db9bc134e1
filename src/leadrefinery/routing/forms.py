"""Forms of the routing pages: a rule with its condition rows, the "test a lead" preview, and a
rep's availability. Forms parse; the services validate and save."""

from __future__ import annotations

import zoneinfo
from datetime import time
from typing import Any

from django import forms
from django.utils import timezone

from leadrefinery.accounts.models import Role, Team, User
from leadrefinery.leads import normalize
from leadrefinery.leads.custom_field_services import definitions
from leadrefinery.leads.models import Queue
from leadrefinery.sla import access as sla_access
from leadrefinery.sla import services as sla_services

from . import domain, services
from .models import METHOD_CHOICES, OP_CHOICES, RoutingRule

EXTRA_CONDITION_ROWS = 3
MAX_CONDITION_ROWS = 20
# The fields most rules test; any other (custom) field name may be typed in.
COMMON_FIELDS = [
    "country",
    "region",
    "city",
    "industry",
    "employee_band",
    "product_interest",
    "source",
    "campaign",
    "language",
    "temperature",
    "title",
    "company",
    "email_domain",
    "utm_source",
    "utm_campaign",
]
OPS_WITHOUT_VALUE = {domain.Op.IS_EMPTY, domain.Op.IS_NOT_EMPTY}
OPS_WITH_LIST = {domain.Op.IN, domain.Op.NOT_IN}


def value_to_text(op: str, value: Any) -> str:
    if value is None:
        return ""
    if op == domain.Op.RANGE and isinstance(value, list):
        low, high = [*value, None, None][:2]
        return f"{'' if low is None else low}..{'' if high is None else high}"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def text_to_value(op: str, text: str) -> Any:
    """What a condition row's value box means for its operator: a list for in / not in
    ("US, CA"), [min, max] for range ("10..500", either side may be empty)."""
    text = text.strip()
    if op in OPS_WITHOUT_VALUE:
        return None
    if op in OPS_WITH_LIST:
        return [part.strip() for part in text.split(",") if part.strip()]
    if op == domain.Op.RANGE:
        low, sep, high = text.partition("..")
        if not sep:
            return [text or None, None] if text else []

        def number(part: str) -> Any:
            part = part.strip()
            if not part:
                return None
            try:
                return float(part) if "." in part else int(part)
            except ValueError:
                return part  # left for the rule's validation to name

        return [number(low), number(high)]
    return text


def condition_rows(data: Any, prefix: str = "cond") -> list[dict[str, Any]]:
    """Condition rows posted as cond-N-field / cond-N-op / cond-N-value; blank rows are
    ignored, so the form can always offer a few empty ones."""
    rows = []
    for i in range(MAX_CONDITION_ROWS):
        field = str(data.get(f"{prefix}-{i}-field", "")).strip()
        op = str(data.get(f"{prefix}-{i}-op", "")).strip()
        value = str(data.get(f"{prefix}-{i}-value", ""))
        if not field:
            continue
        rows.append({"field": field, "op": op, "value": text_to_value(op, value)})
    return rows


class RuleForm(forms.Form):
    name = forms.CharField(max_length=120)
    order = forms.IntegerField(
        min_value=0, max_value=1_000_000, initial=100, help_text="lower numbers are tried first"
    )
    active = forms.BooleanField(required=False, initial=True)
    target_kind = forms.ChoiceField(
        label="Send matching leads to", choices=RoutingRule.TargetKind.choices
    )
    target_user = forms.ModelChoiceField(queryset=User.objects.none(), required=False, label="Rep")
    target_team = forms.ModelChoiceField(queryset=Team.objects.none(), required=False, label="Team")
    target_queue = forms.ModelChoiceField(
        queryset=Queue.objects.none(), required=False, label="Queue"
    )
    method = forms.ChoiceField(
        choices=METHOD_CHOICES, label="Distribution in the team", initial="round_robin"
    )
    account_owner_first = forms.BooleanField(
        required=False, label="The account owner first, when the lead's company has one"
    )

    def __init__(self, data: Any = None, *, rule: RoutingRule | None = None, **kwargs: Any) -> None:
        self.rule = rule
        # An unbound form (data None, as `request.POST or None` gives on GET) shows the rule's
        # saved values; a bound one shows what was posted.
        if rule is not None and data is None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": rule.name,
                "order": rule.order,
                "active": rule.active,
                "target_kind": rule.target_kind,
                "target_user": rule.target_user_id,
                "target_team": rule.target_team_id,
                "target_queue": rule.target_queue_id,
                "method": rule.method,
                "account_owner_first": rule.account_owner_first,
            }
        super().__init__(data, **kwargs)
        self.fields["target_user"].queryset = User.objects.filter(  # type: ignore[attr-defined]
            is_active=True, role__in=[Role.REP, Role.MANAGER]
        ).order_by("username")
        self.fields["target_team"].queryset = Team.objects.order_by("name")  # type: ignore[attr-defined]
        self.fields["target_queue"].queryset = Queue.objects.order_by("name")  # type: ignore[attr-defined]
        if rule is not None and rule.is_fallback:
            self.fields["active"].disabled = True
        self.conditions: list[dict[str, Any]] = list(rule.conditions) if rule else []
        if self.is_bound:
            self.conditions = condition_rows(self.data)
        self.condition_errors: list[str] = []

    @property
    def condition_rows_for_display(self) -> list[dict[str, str]]:
        rows = [
            {
                "field": str(c.get("field", "")),
                "op": str(c.get("op", "")),
                "value": value_to_text(str(c.get("op", "")), c.get("value")),
            }
            for c in self.conditions
        ]
        if not (self.rule and self.rule.is_fallback):
            rows += [{"field": "", "op": "equals", "value": ""}] * EXTRA_CONDITION_ROWS
        return [{**row, "index": str(i)} for i, row in enumerate(rows)]

    op_choices = OP_CHOICES

    @property
    def common_fields(self) -> list[str]:
        """The field names offered while typing: the common ones, then the custom fields."""
        return [*COMMON_FIELDS, *(d.name for d in definitions())]

    def save(self) -> RoutingRule | None:
        """Validate through the service; on refusal the errors land on the form."""
        data = self.cleaned_data
        changes = {
            key: data[key]
            for key in (
                "name",
                "order",
                "target_kind",
                "target_user",
                "target_team",
                "target_queue",
                "method",
                "account_owner_first",
            )
        }
        changes["conditions"] = self.conditions
        if not (self.rule and self.rule.is_fallback):
            changes["active"] = data["active"]
        try:
            return services.routing_rule_save(rule=self.rule, changes=changes)
        except services.ConfigRefused as exc:
            for field, messages in exc.errors.items():
                if field == "conditions":
                    self.condition_errors += messages
                elif field in self.fields:
                    for message in messages:
                        self.add_error(field, message)
                else:
                    for message in messages:
                        self.add_error(None, message)
            return None


class PreviewForm(forms.Form):
    """ "Test a lead": the fields a rule may look at; other fields as name=value lines."""

    country = forms.CharField(required=False, max_length=100)
    region = forms.CharField(required=False, max_length=100)
    industry = forms.CharField(required=False, max_length=100)
    employee_band = forms.CharField(required=False, max_length=100, label="Employee band")
    product_interest = forms.CharField(required=False, max_length=100, label="Product interest")
    source = forms.CharField(required=False, max_length=100)
    language = forms.CharField(required=False, max_length=100)
    temperature = forms.ChoiceField(
        required=False,
        choices=[("", "—"), ("hot", "hot"), ("warm", "warm"), ("cool", "cool"), ("cold", "cold")],
    )
    other = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Other fields",
        help_text="one name=value per line, e.g. segment=enterprise",
    )

    def lead_fields(self) -> dict[str, Any]:
        """The fields as intake would store them (same normalization: "United States" is
        US), so a preview places a lead where intake will. Notes land in ``self.warnings``."""
        data = self.cleaned_data
        fields = {k: normalize.clean_text(v) for k, v in data.items() if k != "other" and v}
        for line in (data.get("other") or "").splitlines():
            name, sep, value = line.partition("=")
            if sep and name.strip():
                fields.setdefault(name.strip(), normalize.clean_text(value))
        self.warnings: list[str] = []
        if fields.get("country"):
            code, warning = normalize.clean_country(fields["country"])
            if warning:
                self.warnings.append(warning)
            elif code != fields["country"]:
                self.warnings.append(
                    f"country '{fields['country']}' read as {code}, as intake does"
                )
            fields["country"] = code
        return fields


WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def working_hours_text(value: dict[str, list[list[str]]] | None) -> str:
    """{"0": [["09:00", "17:00"]]} as the lines the form shows: "Mon 09:00-17:00"."""
    lines = []
    for day in range(7):
        windows = (value or {}).get(str(day))
        if windows:
            lines.append(f"{WEEKDAYS[day]} " + ", ".join(f"{a}-{b}" for a, b in windows))
    return "\n".join(lines)


def parse_working_hours(text: str) -> dict[str, list[list[str]]]:
    """The form's lines back to the stored shape; every line's mistake is reported.

    "Mon 09:00-12:00, 13:00-17:00" or "Mon-Fri 09:00-17:00"; days not listed are days off;
    an empty text means the default, Monday to Friday 09:00-17:00."""
    result: dict[str, list[list[str]]] = {}
    errors = []
    names = {name.lower(): i for i, name in enumerate(WEEKDAYS)}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        days_part, _, hours_part = line.partition(" ")
        first, _, last = days_part.lower().partition("-")
        if first not in names or (last and last not in names):
            errors.append(
                f"line {number}: start with a day such as Mon, or a range such as Mon-Fri"
            )
            continue
        days = range(names[first], (names[last] if last else names[first]) + 1)
        windows = []
        for window in filter(None, (w.strip() for w in hours_part.split(","))):
            start, _, end = window.partition("-")
            try:
                a, b = time.fromisoformat(start.strip()), time.fromisoformat(end.strip())
            except ValueError:
                errors.append(f"line {number}: {window!r} is not HH:MM-HH:MM")
                continue
            if a >= b:
                errors.append(f"line {number}: {window} ends before it starts")
                continue
            windows.append([a.strftime("%H:%M"), b.strftime("%H:%M")])
        if not windows and not any(e.startswith(f"line {number}:") for e in errors):
            errors.append(f"line {number}: give the hours, e.g. {WEEKDAYS[days[0]]} 09:00-17:00")
        for day in days:
            result.setdefault(str(day), []).extend(windows)
    if errors:
        raise forms.ValidationError(errors)
    return result


class AvailabilityForm(forms.Form):
    """Away until a date, working hours and time zone for everyone; weight and caps for managers
    and admins."""

    away_until = forms.DateTimeField(
        required=False,
        label="Away until",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="empty = available; times in your time zone",
    )
    time_zone = forms.CharField(max_length=64, required=False, label="Time zone")
    working_hours = forms.CharField(
        required=False,
        label="Working hours",
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "Mon-Fri 09:00-17:00"}),
        help_text="one line per day or range of days, e.g. Mon-Thu 08:00-12:00, 13:00-17:00; "
        "days not listed are days off; empty = Mon-Fri 09:00-17:00",
    )
    routing_weight = forms.IntegerField(min_value=1, max_value=100, label="Weight", required=False)
    max_open_leads = forms.IntegerField(min_value=0, required=False, label="Max open leads")
    max_leads_per_day = forms.IntegerField(min_value=0, required=False, label="Max new leads a day")

    def __init__(self, *args: Any, member: User, editor: User, **kwargs: Any) -> None:
        self.member = member
        self.editor = editor
        kwargs.setdefault(
            "initial",
            {
                "away_until": timezone.localtime(member.away_until) if member.away_until else None,
                "time_zone": member.time_zone,
                "working_hours": working_hours_text(member.working_hours),
                "routing_weight": member.routing_weight,
                "max_open_leads": member.max_open_leads,
                "max_leads_per_day": member.max_leads_per_day,
            },
        )
        kwargs.setdefault("prefix", f"u{member.pk}")
        super().__init__(*args, **kwargs)
        self.sets_caps = sla_access.can_edit_availability(
            editor, member, sla_access.AVAILABILITY_ALL
        )
        if not self.sets_caps:
            for name in ("routing_weight", "max_open_leads", "max_leads_per_day"):
                del self.fields[name]

    def clean_time_zone(self) -> str:
        value = self.cleaned_data["time_zone"].strip() or self.member.time_zone
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise forms.ValidationError(f"unknown time zone {value!r}") from None
        return value

    def clean_working_hours(self) -> dict[str, list[list[str]]]:
        return parse_working_hours(self.cleaned_data["working_hours"])

    def save(self) -> bool:
        changes = {k: v for k, v in self.cleaned_data.items()}
        if self.add_prefix("working_hours") not in self.data:
            changes.pop("working_hours", None)  # not on the posted form: leave the hours alone
        if "routing_weight" in changes and changes["routing_weight"] is None:
            changes.pop("routing_weight")
        try:
            sla_services.rep_availability_set(user=self.member, editor=self.editor, changes=changes)
        except services.ConfigRefused as exc:
            for field, messages in exc.errors.items():
                for message in messages:
                    self.add_error(field if field in self.fields else None, message)
            return False
        return True
