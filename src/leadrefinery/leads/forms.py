"""Forms of the staff UI: the actions on a lead, one lead or many (the list's filters are in
forms_list.py).

Forms parse and validate input; the lifecycle rules live in the services, which the action
forms call in ``submit()`` (one service each). A refused service call comes back as
``ServiceError`` and the view shows its message on the form.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django import forms
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from leadrefinery.accounts.models import Role, User

from . import custom_fields, domain, events, money, services
from .actors import Actor
from .custom_field_services import definitions, lead_custom_set, lead_values
from .forms_list import set_choices
from .models import DispositionReason, Lead, Queue, Touch

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser


def stage_label(code: str) -> str:
    try:
        return domain.Stage(code).label
    except ValueError:
        return code


# --- Actions on one lead ------------------------------------------------------------------


def stage_targets(lead: Lead) -> list[domain.Stage]:
    """Where a user may move this lead by hand (merging has its own service)."""
    allowed = domain.TRANSITIONS[domain.Stage(lead.stage)]
    return [s for s in domain.Stage if s in allowed and s != domain.Stage.MERGED]


def reason_required(lead: Lead, target: domain.Stage) -> bool:
    return target in domain.NEEDS_REASON or domain.is_recycle(domain.Stage(lead.stage), target)


DEAL_STAGES = (domain.Stage.OPPORTUNITY, domain.Stage.WON)


def submit_stage_change(
    *,
    lead: Lead,
    to_stage: str,
    reason_code: str,
    note: str,
    actor: Actor,
    amount: money.Money | None = None,
) -> Lead:
    """Move a lead by hand through the service the API calls for the same action: nurture is
    a recycle (marketing owns the lead after it), a closing stage a disposition, Working from
    sales-ready an acceptance (the cadence starts); other moves are plain transitions.
    ``amount`` is the expected value of a new opportunity or the amount of a win."""
    target = domain.Stage(to_stage) if to_stage in {s.value for s in domain.Stage} else None
    if amount is not None and target not in DEAL_STAGES:
        raise services.TransitionRefused(
            "a deal value goes with Opportunity or Won; leave it empty for other stages",
            field="amount",
        )
    currency = (amount.currency or None) if amount else None
    if target == domain.Stage.NURTURE:
        return services.lead_recycle(lead=lead, reason_code=reason_code, note=note, actor=actor)
    if target is not None and not target.is_open:
        if not reason_code:
            raise services.TransitionRefused(
                f"a reason for {target.label} is required", field="reason"
            )
        stage_of_reason = (
            DispositionReason.objects.filter(code=reason_code).values_list("stage", flat=True)
        ).first()
        if stage_of_reason and stage_of_reason != target:
            raise services.TransitionRefused(
                f"that reason is for {stage_label(stage_of_reason)}, not {target.label}",
                field="reason",
            )
        return services.lead_dispose(
            lead=lead,
            reason_code=reason_code,
            note=note,
            actor=actor,
            won_amount=amount.amount if amount else None,
            currency=currency,
        )
    if target == domain.Stage.WORKING and lead.stage == domain.Stage.SALES_READY:
        return events.lead_action("accept")(lead=lead, note=note, actor=actor)
    return services.lead_transition(
        lead=lead,
        to_stage=to_stage,
        reason_code=reason_code or None,
        note=note,
        actor=actor,
        opportunity_amount=amount.amount if amount else None,
        currency=currency,
    )


def offered_reasons(stages: list[domain.Stage]) -> list[DispositionReason]:
    return list(
        DispositionReason.objects.filter(
            stage__in=[s.value for s in stages], active=True, system_only=False
        ).order_by("stage", "order", "label")
    )


def reason_choices(
    lead: Lead, targets: list[domain.Stage], reasons: list[DispositionReason]
) -> list[Any]:
    """One group per target stage; a single target gives a flat list."""
    groups: list[Any] = []
    for target in targets:
        codes = [(r.code, r.label) for r in reasons if r.stage == target.value]
        if codes:
            groups.append((target.label, codes))
    if len(targets) == 1:
        flat = groups[0][1] if groups else []
        first = "Choose a reason" if reason_required(lead, targets[0]) else "No reason"
        return [("", first), *flat]
    return [("", "Choose a reason"), *groups]


class ActionForm(forms.Form):
    """A form posted from the lead page; ``submit`` calls one service and says what it did."""

    def __init__(self, *args: Any, lead: Lead, user: User | AnonymousUser, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.lead = lead
        self.user = user

    # Service field names that differ from this form's field names.
    service_fields: dict[str, str] = {}

    def submit(self, *, actor: Actor) -> str:
        raise NotImplementedError

    def add_service_error(self, exc: services.ServiceError) -> None:
        """Show a refusal next to the field it is about (or above the form)."""
        field = self.service_fields.get(exc.field or "", exc.field)
        self.add_error(field if field in self.fields else None, exc.message)


def amount_field(label: str, help_text: str = "") -> forms.CharField:
    return forms.CharField(
        required=False,
        max_length=40,
        label=label,
        help_text=help_text,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )


def read_amount(text: str) -> money.Money | None:
    """What a person typed as an amount ("12,500", "€12.500,00"); None when empty."""
    if not text.strip():
        return None
    try:
        return money.parse_amount(text)
    except ValueError as exc:
        raise forms.ValidationError(str(exc)) from None


class StageForm(ActionForm):
    service_fields = {
        "stage": "to_stage",
        "opportunity_amount": "amount",
        "won_amount": "amount",
        "currency": "amount",
    }
    to_stage = forms.ChoiceField(label="Move to")
    reason = forms.ChoiceField(
        required=False,
        label="Reason",
        help_text="Needed to close a lead, or to hand it back from sales to marketing.",
    )
    amount = amount_field("Deal value (optional)")
    note = forms.CharField(
        required=False,
        max_length=2000,
        label="Note",
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "Why? (optional)"}),
    )

    def __init__(self, *args: Any, lead: Lead, user: User | AnonymousUser, **kwargs: Any) -> None:
        super().__init__(*args, lead=lead, user=user, **kwargs)
        targets = stage_targets(lead)
        set_choices(
            self, "to_stage", [("", "Choose a stage")] + [(s.value, s.label) for s in targets]
        )
        self.targets = targets
        self.reasons = offered_reasons(targets)
        set_choices(self, "reason", reason_choices(lead, targets, self.reasons))
        # The deal value is asked for where a move can be to Opportunity or Won, and (with
        # htmx) only once one of them is chosen.
        self.asks_amount = any(s in DEAL_STAGES for s in targets)
        if not self.asks_amount:
            del self.fields["amount"]
        else:
            self._label_amount(None)
        # With htmx, choosing a stage swaps in the reasons for that stage only.
        self.fields["to_stage"].widget.attrs.update(
            {
                "hx-get": reverse("lead-reasons", args=[lead.pk]),
                "hx-target": "#reason-field",
                "hx-swap": "outerHTML",
            }
        )

    def narrow_reasons(self, to_stage: str | None) -> None:
        """Offer only the reasons of ``to_stage`` (for display; validation accepts all)."""
        chosen = [s for s in self.targets if s.value == to_stage]
        if not chosen:
            return
        set_choices(self, "reason", reason_choices(self.lead, chosen, self.reasons))
        needed = reason_required(self.lead, chosen[0])
        label = "Reason (required)" if needed else "Reason (optional)"
        self.fields["reason"].label = label
        # The bound field copied the label when validation first used it.
        self["reason"].label = label
        if self.asks_amount:
            # Hidden for other stages, unless it holds a refusal the user must see.
            deal = chosen[0] in DEAL_STAGES
            self.asks_amount = deal or (self.is_bound and "amount" in self.errors)
            self._label_amount(chosen[0] if deal else None)

    def _label_amount(self, target: domain.Stage | None) -> None:
        """Say what the amount means for ``target`` (None: no stage chosen yet; a lead can
        reach only one of Opportunity and Won, so that one)."""
        target = target or next(s for s in self.targets if s in DEAL_STAGES)
        field = self.fields["amount"]
        currency = self.lead.currency or services.reporting_currency()
        unless = f"In {currency} unless you write another, e.g. 12,500 or £12,500."
        expected = self.lead.opportunity_amount
        if target == domain.Stage.OPPORTUNITY:
            field.label = "Expected deal value (optional)"
            field.help_text = f"What the deal is worth if won. {unless}"
        elif expected is not None:
            field.label = "Amount won (optional)"
            field.help_text = (
                f"Empty: the expected value, {money.format_amount(expected, currency)}. "
                f"In {currency}, like the expected value."
            )
        else:
            field.label = "Amount won (optional)"
            field.help_text = unless
        self["amount"].label = field.label
        self["amount"].help_text = field.help_text

    def clean_amount(self) -> money.Money | None:
        return read_amount(self.cleaned_data.get("amount") or "")

    def submit(self, *, actor: Actor) -> str:
        data = self.cleaned_data
        lead = submit_stage_change(
            lead=self.lead,
            to_stage=data["to_stage"],
            reason_code=data["reason"],
            note=data["note"],
            actor=actor,
            amount=data.get("amount"),
        )
        moved = f"Moved to {stage_label(lead.stage)}."
        value = lead.won_amount if lead.stage == domain.Stage.WON else lead.opportunity_amount
        if lead.stage in DEAL_STAGES and value is not None:
            worth = money.format_amount(value, lead.currency or services.reporting_currency())
            at = " at" if lead.stage == domain.Stage.WON else ", worth"
            moved = f"{moved[:-1]}{at} {worth}."
        if lead.stage == domain.Stage.NURTURE and lead.owner_queue is not None:
            return f"{moved} The {lead.owner_queue.name} queue owns it now."
        return moved


class TouchForm(ActionForm):
    CHANNELS = [
        Touch.Channel.CALL,
        Touch.Channel.EMAIL,
        Touch.Channel.MEETING,
        Touch.Channel.SOCIAL,
        Touch.Channel.OTHER,
    ]
    channel = forms.ChoiceField(choices=[(c.value, c.label) for c in CHANNELS], label="Channel")
    direction = forms.ChoiceField(
        choices=[
            (Touch.Direction.OUTBOUND.value, "We reached out"),
            (Touch.Direction.INBOUND.value, "They reached us"),
        ],
        label="Direction",
    )
    outcome = forms.ChoiceField(
        required=False, choices=[("", "None"), *Touch.Outcome.choices], label="Outcome"
    )
    note = forms.CharField(
        required=False, max_length=2000, label="Note", widget=forms.Textarea(attrs={"rows": 2})
    )
    next_action = forms.CharField(
        required=False,
        max_length=200,
        label="Next step",
        help_text="Empty: call again the next working day if nobody answered, follow up in "
        "two days otherwise, answer today if they reached you.",
        widget=forms.TextInput(attrs={"placeholder": "e.g. Send the price list"}),
    )
    next_action_due_at = forms.DateTimeField(
        required=False,
        label="Next step due",
        help_text="Empty: the usual time for that follow-up, in your time zone.",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def __init__(self, *args: Any, lead: Lead, user: User | AnonymousUser, **kwargs: Any) -> None:
        super().__init__(*args, lead=lead, user=user, **kwargs)
        # While a cadence runs, the cadence decides the next step: the form does not ask.
        self.cadence_running = events.lead_action("cadence_running")(lead) is not None
        if self.cadence_running or not domain.Stage(lead.stage).is_open:
            del self.fields["next_action"], self.fields["next_action_due_at"]

    def submit(self, *, actor: Actor) -> str:
        data = self.cleaned_data
        logged = events.lead_action("touch")(
            lead=self.lead,
            channel=data["channel"],
            direction=data["direction"],
            outcome=data["outcome"],
            note=data["note"],
            next_action=data.get("next_action") or "",
            next_action_due_at=data.get("next_action_due_at"),
            actor=actor,
        )
        return f"{logged.done}. {what_next(logged.lead)}"


def what_next(lead: Lead) -> str:
    """ "Next: <action>, due <when>" in the user's time zone (or that the lead is closed)."""
    if not lead.next_action or lead.next_action_due_at is None:
        return "The lead is closed: no next step."
    due = timezone.localtime(lead.next_action_due_at).strftime("%a %b %-d, %H:%M")
    return f"Next: {lead.next_action}, due {due}."


class NoteForm(ActionForm):
    note = forms.CharField(max_length=5000, label="Note", widget=forms.Textarea(attrs={"rows": 3}))

    def submit(self, *, actor: Actor) -> str:
        services.lead_note_add(lead=self.lead, note=self.cleaned_data["note"], actor=actor)
        return "Note added."


class NextActionForm(ActionForm):
    service_fields = {"next_action": "action"}
    action = forms.CharField(max_length=200, label="What")
    # Entered and shown in the user's own time zone (the view activates it).
    due_at = forms.DateTimeField(
        label="Due",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def __init__(self, *args: Any, lead: Lead, user: User | AnonymousUser, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial", {"action": lead.next_action, "due_at": lead.next_action_due_at}
        )
        super().__init__(*args, lead=lead, user=user, **kwargs)

    def submit(self, *, actor: Actor) -> str:
        data = self.cleaned_data
        services.lead_set_next_action(
            lead=self.lead, action=data["action"], due_at=data["due_at"], actor=actor
        )
        return "Next action set."


def assignable_users(user: User) -> QuerySet[User]:
    """Admins assign to anyone active; managers within the teams they manage or belong to."""
    people = User.objects.filter(is_active=True, role__in=[Role.REP, Role.MANAGER])
    if not (user.is_superuser or user.role == Role.ADMIN):
        team_ids = set(user.managed_teams.values_list("pk", flat=True))
        if user.team_id:
            team_ids.add(user.team_id)
        people = people.filter(Q(team_id__in=team_ids) | Q(pk=user.pk))
    return people.order_by("first_name", "last_name", "username")


class AssignForm(ActionForm):
    owner = forms.ChoiceField(label="New owner")
    note = forms.CharField(required=False, max_length=500, label="Note")

    def __init__(self, *args: Any, lead: Lead, user: User | AnonymousUser, **kwargs: Any) -> None:
        super().__init__(*args, lead=lead, user=user, **kwargs)
        people = assignable_users(user) if isinstance(user, User) else User.objects.none()
        self._people = {f"u{u.pk}": u for u in people}
        self._queues = {f"q{q.pk}": q for q in Queue.objects.order_by("name")}
        set_choices(
            self,
            "owner",
            [
                ("", "Choose a person or a queue"),
                ("People", [(key, str(u)) for key, u in self._people.items()]),
                ("Queues", [(key, q.name) for key, q in self._queues.items()]),
            ],
        )

    def submit(self, *, actor: Actor) -> str:
        key = self.cleaned_data["owner"]
        services.require_live_queue(self._queues.get(key))
        lead = services.lead_assign(
            lead=self.lead,
            owner_user=self._people.get(key),
            owner_queue=self._queues.get(key),
            note=self.cleaned_data["note"],
            actor=actor,
            trace={"steps": [f"assigned by hand by {actor.label}"]},
        )
        return f"Assigned to {lead.owner_label}."


QUALIFICATION = ("need", "budget", "authority", "timeline")


def _text_input(placeholder: str) -> forms.TextInput:
    return forms.TextInput(attrs={"placeholder": placeholder})


class QualificationForm(ActionForm):
    """Need, budget, authority and timeline, as the qualifying center finds them out."""

    need = forms.CharField(
        required=False,
        max_length=300,
        label="Need",
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "What problem must they solve?"}),
    )
    budget = forms.CharField(
        required=False, max_length=120, label="Budget", widget=_text_input("e.g. 40k EUR approved")
    )
    authority = forms.CharField(
        required=False,
        max_length=120,
        label="Authority",
        widget=_text_input("e.g. CFO signs; IT lead evaluates"),
    )
    timeline = forms.CharField(
        required=False, max_length=120, label="Timeline", widget=_text_input("e.g. decide by Q3")
    )

    def __init__(self, *args: Any, lead: Lead, user: User | AnonymousUser, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {name: getattr(lead, name) for name in QUALIFICATION})
        super().__init__(*args, lead=lead, user=user, **kwargs)

    def submit(self, *, actor: Actor) -> str:
        services.lead_qualification_set(
            lead=self.lead,
            changes={name: self.cleaned_data[name] for name in QUALIFICATION},
            actor=actor,
        )
        return "Qualification saved."


class CustomFieldsForm(ActionForm):
    """The company's own fields (CustomField): one input per field, of its kind."""

    def __init__(self, *args: Any, lead: Lead, user: User | AnonymousUser, **kwargs: Any) -> None:
        self.definitions = definitions()
        values = lead_values(lead)
        kwargs.setdefault(
            "initial",
            {
                d.name: ("yes" if values[d.name] else "no")
                if d.kind == "yesno" and d.name in values
                else values.get(d.name, "")
                for d in self.definitions
            },
        )
        super().__init__(*args, lead=lead, user=user, **kwargs)
        for d in self.definitions:
            self.fields[d.name] = _custom_input(d)
            shared = {
                "person": "The person's: shared by their other leads.",
                "account": "The company's: shared by its people and their leads.",
            }.get(d.entity, "")
            self.fields[d.name].help_text = " ".join(filter(None, [d.help_text, shared]))

    def submit(self, *, actor: Actor) -> str:
        lead_custom_set(
            lead=self.lead,
            changes={d.name: self.cleaned_data.get(d.name) for d in self.definitions},
            actor=actor,
        )
        return "Fields saved."


def _custom_input(d: custom_fields.Definition) -> forms.Field:
    """The form field for a custom field: text is read against its kind by the service."""
    label = d.label or d.name
    if d.kind == "choice":
        return forms.ChoiceField(
            required=False, label=label, choices=[("", "—"), *((c, c) for c in d.choices)]
        )
    if d.kind == "yesno":
        return forms.ChoiceField(
            required=False, label=label, choices=[("", "—"), ("yes", "Yes"), ("no", "No")]
        )
    if d.kind == "date":
        return forms.CharField(
            required=False, label=label, widget=forms.DateInput(attrs={"type": "date"})
        )
    if d.kind == "number":
        return forms.CharField(
            required=False,
            label=label,
            max_length=40,
            widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        )
    return forms.CharField(required=False, label=label, max_length=500, widget=_text_input(""))


class AmountForm(ActionForm):
    """The deal value: the expected value, the amount won (a won lead), their currency."""

    opportunity_amount = amount_field("Expected value", "What the deal is worth if won.")
    won_amount = amount_field("Amount won")
    currency = forms.CharField(required=False, max_length=3, label="Currency")

    def __init__(self, *args: Any, lead: Lead, user: User | AnonymousUser, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial",
            {
                "opportunity_amount": lead.opportunity_amount,
                "won_amount": lead.won_amount,
                "currency": lead.currency,
            },
        )
        super().__init__(*args, lead=lead, user=user, **kwargs)
        if lead.stage != domain.Stage.WON:
            del self.fields["won_amount"]
        reporting = services.reporting_currency()
        currency = self.fields["currency"]
        currency.help_text = (
            f"An ISO code such as EUR or GBP. Empty: {reporting}, the reporting currency."
        )
        currency.widget.attrs.update({"placeholder": reporting, "autocomplete": "off", "size": 4})

    def clean_opportunity_amount(self) -> money.Money | None:
        return read_amount(self.cleaned_data.get("opportunity_amount") or "")

    def clean_won_amount(self) -> money.Money | None:
        return read_amount(self.cleaned_data.get("won_amount") or "")

    def clean_currency(self) -> str:
        text = (self.cleaned_data.get("currency") or "").strip()
        try:
            return money.currency_code(money.SYMBOLS.get(text, text))
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean(self) -> dict[str, Any]:
        """A currency written with an amount ("€12,500") is the currency, unless the
        currency field says another."""
        data = super().clean() or {}
        named = {
            m.currency
            for m in (data.get("opportunity_amount"), data.get("won_amount"))
            if m is not None and m.currency
        }
        if len(named) > 1:
            self.add_error("currency", "The amounts are in different currencies.")
        elif named and "currency" in data:
            written = named.pop()
            if data["currency"] and data["currency"] != written:
                self.add_error(
                    "currency", f"The amount is in {written}, but the currency says otherwise."
                )
            else:
                data["currency"] = written
        return data

    def submit(self, *, actor: Actor) -> str:
        data = self.cleaned_data
        amounts: dict[str, Any] = {}
        for name in ("opportunity_amount", "won_amount"):
            if name in self.fields:
                found = data.get(name)
                amounts[name] = found.amount if found is not None else None
        services.lead_set_amount(lead=self.lead, actor=actor, currency=data["currency"], **amounts)
        return "Deal value saved."


# --- Bulk actions on the list (managers and admins) ----------------------------------------

BULK_ACTIONS = [
    ("reassign", "Reassign to…"),
    ("recycle", "Recycle to nurture"),
    ("close", "Close with a reason"),
]
BULK_LIMIT = 200  # leads per bulk action: a page of the list and then some


@dataclass(frozen=True)
class BulkResult:
    lead_id: int
    name: str
    ok: bool
    text: str  # what was done, or why it was refused


class BulkForm(forms.Form):
    """One action on the selected leads, each through the service of the single action."""

    action = forms.ChoiceField(label="With the selected leads")
    owner = forms.ChoiceField(required=False, label="New owner")
    reason = forms.ChoiceField(required=False, label="Reason")
    note = forms.CharField(required=False, max_length=500, label="Note")

    def __init__(self, data: Any = None, *, user: User) -> None:
        # Its own ids: the filter form on the same page has an owner field too.
        super().__init__(data, label_suffix="", auto_id="bulk_%s")
        self.user = user
        set_choices(self, "action", [("", "Choose an action"), *BULK_ACTIONS])
        self._people = {f"u{u.pk}": u for u in assignable_users(user)}
        self._queues = {f"q{q.pk}": q for q in Queue.objects.order_by("name")}
        set_choices(
            self,
            "owner",
            [
                ("", "Choose a person or a queue"),
                ("People", [(key, str(u)) for key, u in self._people.items()]),
                ("Queues", [(key, q.name) for key, q in self._queues.items()]),
            ],
        )
        stages = [domain.Stage.NURTURE, *sorted(domain.TERMINAL - {domain.Stage.MERGED})]
        self._reasons = {r.code: r for r in offered_reasons(stages)}
        groups: list[Any] = []
        for stage in stages:
            codes = [(r.code, r.label) for r in self._reasons.values() if r.stage == stage]
            if codes:
                label = "Recycle" if stage == domain.Stage.NURTURE else f"Close as {stage.label}"
                groups.append((label, codes))
        set_choices(self, "reason", [("", "Choose a reason"), *groups])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        action = data.get("action")
        reason = self._reasons.get(data.get("reason") or "")
        if action == "reassign" and not data.get("owner"):
            self.add_error("owner", "Choose the new owner.")
        if action == "recycle" and (reason is None or reason.stage != domain.Stage.NURTURE):
            self.add_error("reason", "Choose a recycle reason.")
        if action == "close" and (reason is None or reason.stage == domain.Stage.NURTURE):
            self.add_error("reason", "Choose a reason to close the leads.")
        return data

    def run(self, lead: Lead, *, actor: Actor) -> str:
        """Apply the action to one lead; raises ServiceError when the service refuses."""
        data = self.cleaned_data
        note = data.get("note") or ""
        if data["action"] == "reassign":
            key = data["owner"]
            services.require_live_queue(self._queues.get(key))
            lead = services.lead_assign(
                lead=lead,
                owner_user=self._people.get(key),
                owner_queue=self._queues.get(key),
                note=note,
                actor=actor,
                trace={"steps": [f"reassigned by hand (in bulk) by {actor.label}"]},
            )
            return f"Assigned to {lead.owner_label}"
        if data["action"] == "recycle":
            lead = services.lead_recycle(
                lead=lead, reason_code=data["reason"], note=note, actor=actor
            )
            return f"Recycled to nurture ({self._reasons[data['reason']].label})"
        lead = services.lead_dispose(lead=lead, reason_code=data["reason"], note=note, actor=actor)
        return f"Closed as {stage_label(lead.stage)} ({self._reasons[data['reason']].label})"


ACTION_FORMS: dict[str, type[ActionForm]] = {
    "stage": StageForm,
    "touch": TouchForm,
    "note": NoteForm,
    "next-action": NextActionForm,
    "assign": AssignForm,
    "qualify": QualificationForm,
    "custom": CustomFieldsForm,
    "amount": AmountForm,
}
