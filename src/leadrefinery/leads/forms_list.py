"""Forms of the lead list: its filters and sort orders (the actions on a lead are in forms.py).

Invalid filter values are ignored rather than refused: the list is a search.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.db.models import Case, F, IntegerField, QuerySet, When

from leadrefinery.accounts.models import Role, User
from leadrefinery.common.clock import now

from . import domain, events
from .models import CustomField, Lead, Queue, Source
from .selectors import leads_filtered, leads_for_listing, leads_overdue

OPEN = "open"
ALL = "all"
ME = "me"
PAGE_SIZE = 50


def set_choices(form: forms.Form, name: str, choices: list[Any]) -> None:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    field.choices = choices


# --- The lead list ---------------------------------------------------------------------


@dataclass(frozen=True)
class FilterOptions:
    """What the owner and source filters offer to one user (three small queries)."""

    queues: list[Queue]
    users: list[User]
    sources: list[Source]

    @classmethod
    def for_user(cls, user: User) -> FilterOptions:
        queues = Queue.objects.order_by("name")
        if user.role == Role.REP and not user.is_superuser:
            # A rep sees only their own leads and their queues, so other owners would
            # always give an empty list.
            queues = queues.filter(members=user)
            people: list[User] = []
        else:
            people = list(
                User.objects.filter(is_active=True, role__in=[Role.REP, Role.MANAGER]).order_by(
                    "first_name", "last_name", "username"
                )
            )
        return cls(queues=list(queues), users=people, sources=list(Source.objects.order_by("name")))


TEMPERATURES = [("hot", "Hot"), ("warm", "Warm"), ("cool", "Cool"), ("cold", "Cold")]
# The list's sort keys (a leading "-" reverses); each with its ORDER BY, ties newest first.
SORTS = {
    "received": "Received",
    "due": "Next action due",
    "stage": "Stage",
    "owner": "Owner",
    "temperature": "Temperature",
}
DEFAULT_SORT = "-received"


def _sort_order(key: str) -> list[Any]:
    """ORDER BY terms for a sort key like "due" or "-temperature" (unknown: newest first)."""
    descending = key.startswith("-")
    name = key.removeprefix("-")
    if name not in SORTS:
        return ["-received_at", "-id"]

    def by(expr: Any) -> Any:
        expr = F(expr) if isinstance(expr, str) else expr
        return expr.desc(nulls_last=True) if descending else expr.asc(nulls_last=True)

    if name == "received":
        terms = [by("received_at")]
    elif name == "due":
        terms = [by("next_action_due_at")]
    elif name == "stage":  # in lifecycle order, not alphabetical
        terms = [by(Case(*[When(stage=s.value, then=i) for i, s in enumerate(domain.Stage)]))]
    elif name == "owner":  # people by name, then queues by name
        terms = [by("owner_user__first_name"), by("owner_user__last_name"), by("owner_queue__name")]
    else:  # hottest first when ascending; unscored last either way
        rank = Case(
            *[When(temperature=t, then=i) for i, (t, _) in enumerate(TEMPERATURES)],
            default=None,
            output_field=IntegerField(),
        )
        terms = [by(rank)]
    return [*terms, "-received_at", "-id"]


ANY_FLAG = "any"


class LeadFilterForm(forms.Form):
    """Filters of /leads/. Invalid values are ignored rather than refused: it is a search."""

    stage = forms.ChoiceField(required=False, label="Stage")
    temperature = forms.ChoiceField(
        required=False, label="Temperature", choices=[("", "Any"), *TEMPERATURES]
    )
    overdue = forms.BooleanField(required=False, label="Overdue only")
    flag = forms.ChoiceField(required=False, label="Flag")
    sort = forms.ChoiceField(
        required=False,
        label="Sort",
        choices=[
            ("-received", "Newest first"),
            ("received", "Oldest first"),
            ("due", "Next action due, soonest first"),
            ("-due", "Next action due, latest first"),
            ("temperature", "Hottest first"),
            ("-temperature", "Coldest first"),
            ("flagged", "Flagged first (most urgent flag)"),
            ("stage", "Stage, earliest first"),
            ("-stage", "Stage, latest first"),
            ("owner", "Owner, A to Z"),
            ("-owner", "Owner, Z to A"),
        ],
    )
    owner = forms.ChoiceField(required=False, label="Owner")
    source = forms.ChoiceField(required=False, label="Source")
    q = forms.CharField(
        required=False,
        max_length=100,
        label="Search",
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "Name, email or company", "autocomplete": "off"}
        ),
    )

    field = forms.ChoiceField(required=False, label="Field")
    field_value = forms.CharField(
        required=False,
        max_length=200,
        label="is",
        widget=forms.TextInput(attrs={"placeholder": "value", "autocomplete": "off"}),
    )

    def __init__(self, data: Any, *, user: User, options: FilterOptions) -> None:
        super().__init__(data)
        self.user = user
        self.custom_fields = [(f.name, f.label) for f in CustomField.objects.all()]
        set_choices(self, "field", [("", "Any field"), *self.custom_fields])
        set_choices(
            self,
            "stage",
            [
                (OPEN, "Open leads"),
                (ALL, "All leads"),
                *[(s.value, s.label) for s in domain.Stage],
            ],
        )
        owner_choices: list[Any] = [("", "Anyone"), (ME, "Me")]
        if options.queues:
            owner_choices.append(("Queues", [(f"q{q.pk}", q.name) for q in options.queues]))
        if options.users:
            owner_choices.append(("People", [(f"u{u.pk}", str(u)) for u in options.users]))
        set_choices(self, "owner", owner_choices)
        set_choices(
            self, "source", [("", "Any source")] + [(str(s.pk), s.name) for s in options.sources]
        )
        # Hygiene flags are the review app's: asked for by name (leads imports no app above).
        set_choices(
            self,
            "flag",
            [("", "Any"), (ANY_FLAG, "Any flag"), *events.lead_action("flag_choices")()],
        )
        self.full_clean()

    def value(self, name: str) -> str:
        return str(self.cleaned_data.get(name) or "")

    @property
    def stage_value(self) -> str:
        return self.value("stage") or OPEN

    @property
    def sort_value(self) -> str:
        return self.value("sort") or DEFAULT_SORT

    def filter(self, leads: QuerySet[Lead]) -> QuerySet[Lead]:
        # Owner choices are "me", "q<queue id>" or "u<user id>"; anything else filters nothing.
        owner = self.value("owner")
        owner_id = int(owner[1:]) if owner[:1] in ("q", "u") and owner[1:].isdigit() else None
        source = self.value("source")
        leads = leads_filtered(
            leads,
            stages=[self.stage_value],
            owner_user=self.user.pk if owner == ME else owner_id if owner[:1] == "u" else None,
            owner_queue=owner_id if owner[:1] == "q" else None,
            source=int(source) if source.isdigit() else None,
            q=self.value("q"),
            custom=(self.value("field"), self.value("field_value"))
            if self.value("field")
            else None,
        )
        if self.value("temperature"):
            leads = leads.filter(temperature=self.value("temperature"))
        if self.cleaned_data.get("overdue"):
            leads = leads_overdue(leads, at=now())
        flag = self.value("flag")
        if flag:
            leads = events.lead_action("with_flag")(leads, None if flag == ANY_FLAG else flag)
        if self.sort_value == "flagged":
            newest = ["-received_at", "-id"]
            return events.lead_action("flagged_first")(leads_for_listing(leads), newest)
        return leads_for_listing(leads).order_by(*_sort_order(self.sort_value))
