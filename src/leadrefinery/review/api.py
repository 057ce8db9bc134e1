"""The weekly review and hygiene flags over the API, under the same row visibility as leads:

- ``GET /api/v1/hygiene/flags``: standing flags of the leads the token's user may see;
- ``GET /api/v1/reviews``, ``POST /api/v1/reviews``: reviews of the user's teams; open this
  week's (or a given week's) review of a team;
- ``GET /api/v1/reviews/{id}/agenda``: every open lead of the team, flagged first;
- ``POST /api/v1/reviews/{id}/decisions``: one decision on one lead (through the lead services);
- ``GET /api/v1/reviews/coverage``: the share of open leads reviewed in the last 7 days.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Path, Query, Router, Schema, Status
from pydantic import ConfigDict, field_validator

from leadrefinery.accounts.api_auth import TokenAuth, token_user
from leadrefinery.accounts.models import User
from leadrefinery.common.clock import now
from leadrefinery.common.errors import ServiceError
from leadrefinery.leads.access import access_lead, visible_to
from leadrefinery.leads.api_actions import field_errors, iso_text_only
from leadrefinery.leads.models import Queue
from leadrefinery.leads.schemas import MAX_ID, Message, Text, ValidationErrorOut, ZonedTime

from . import selectors, services
from .models import LeadFlag, Review

router = Router(tags=["review"])
READ = TokenAuth("leads:read")
WRITE = TokenAuth("leads:write")
ID = Path(..., ge=1, le=MAX_ID, examples=[1])
ERRORS: dict[int, Any] = {401: Message, 403: Message, 404: Message, 422: ValidationErrorOut}
FlagKind = Literal[
    "overdue",
    "no_touch",
    "stage_age",
    "owner_inactive",
    "dead_queue",
    "queue_wait",
    "sla_untouched",
    "duplicate",
    "not_nurtured",
]


class FlagOut(Schema):
    lead_id: int
    kind: str = Field(
        description="overdue, no_touch, stage_age, owner_inactive, dead_queue, queue_wait, "
        "sla_untouched, duplicate or not_nurtured"
    )
    label: str
    reason: str
    since: datetime


class FlagFilters(Schema):
    model_config = ConfigDict(extra="forbid")
    kind: FlagKind | None = None
    # The pattern says in the schema what Text refuses (a NUL character), so that a client
    # generated from it never sends one.
    owner: Text | None = Field(
        None, max_length=150, pattern=r"^[^\x00]*$", description="a username"
    )
    limit: int = Field(100, ge=1, le=1000)
    offset: int = Field(0, ge=0, le=10_000_000)


@router.get(
    "/hygiene/flags",
    auth=READ,
    response={200: list[FlagOut], **ERRORS},
    operation_id="hygiene_flags",
    summary="Standing hygiene flags of the leads you may see",
)
def hygiene_flags(request: HttpRequest, filters: Query[FlagFilters]) -> Any:
    flags = LeadFlag.objects.filter(
        cleared_at__isnull=True, lead__in=visible_to(token_user(request))
    )
    if filters.kind:
        flags = flags.filter(kind=filters.kind)
    if filters.owner:
        flags = flags.filter(lead__owner_user__username=filters.owner)
    rows = flags.order_by("since", "id")[filters.offset : filters.offset + filters.limit]
    return [
        {
            "lead_id": f.lead_id,
            "kind": f.kind,
            "label": f.label,
            "reason": f.reason,
            "since": f.since,
        }
        for f in rows
    ]


class ReviewOut(Schema):
    id: int
    team: str
    team_id: int
    week_start: date
    scheduled_at: datetime
    status: str
    signed_off_by: str | None
    signed_off_at: datetime | None
    summary: dict[str, Any]


def _review_out(review: Review) -> dict[str, Any]:
    return {
        "id": review.pk,
        "team": review.team.name,
        "team_id": review.team_id,
        "week_start": review.week_start,
        "scheduled_at": review.scheduled_at,
        "status": review.status,
        "signed_off_by": review.signed_off_by.username if review.signed_off_by else None,
        "signed_off_at": review.signed_off_at,
        "summary": review.summary,
    }


@router.get(
    "/reviews",
    auth=READ,
    response={200: list[ReviewOut], **ERRORS},
    operation_id="review_list",
    summary="Reviews of your teams, newest first",
)
def review_list(request: HttpRequest) -> Any:
    reviews = Review.objects.filter(
        team__in=selectors.teams_of(token_user(request))
    ).select_related("team", "signed_off_by")[:200]
    return [_review_out(r) for r in reviews]


class ReviewIn(Schema):
    model_config = ConfigDict(extra="forbid")
    team_id: int = Field(ge=1, le=MAX_ID)
    week_start: date | None = Field(
        None,
        description="any day of the review's week (it starts on that Monday); default this week",
    )

    @field_validator("week_start", mode="before")
    @classmethod
    def _date_text_only(cls, value: Any) -> Any:
        # Lax parsing would read a bare number as a timestamp: a typo becoming a date.
        if value is not None and not isinstance(value, str):
            raise ValueError("give a date as text, e.g. 2026-03-02")
        return value


@router.post(
    "/reviews",
    auth=WRITE,
    response={200: ReviewOut, 201: ReviewOut, **ERRORS},
    operation_id="review_open",
    summary="Open a team's weekly review (returns the existing one for that week)",
)
def review_open(request: HttpRequest, payload: ReviewIn) -> Status:
    team = selectors.teams_of(token_user(request)).filter(pk=payload.team_id).first()
    if team is None:
        return Status(404, {"detail": "Not found."})
    before = Review.objects.filter(team=team).count()
    try:
        review = services.review_open(team=team, actor=token_user(request), week=payload.week_start)
    except ServiceError as exc:
        return Status(422, field_errors(exc))
    created = Review.objects.filter(team=team).count() > before
    return Status(201 if created else 200, _review_out(review))


class AgendaLeadOut(Schema):
    lead_id: int
    name: str
    company: str
    stage: str
    owner: str
    next_action: str
    next_action_due_at: datetime | None
    flags: list[FlagOut]
    decision: str | None = Field(description="this review's decision, if made")
    decision_detail: str | None


@router.get(
    "/reviews/{review_id}/agenda",
    auth=READ,
    response={200: list[AgendaLeadOut], **ERRORS},
    operation_id="review_agenda",
    summary="Every open lead of the team, flagged first, with this review's decisions",
)
def review_agenda(request: HttpRequest, review_id: int = ID) -> Any:
    review = selectors.access_review(token_user(request), review_id)
    return [
        {
            "lead_id": item.lead.pk,
            "name": item.lead.name,
            "company": item.lead.company,
            "stage": item.lead.stage,
            "owner": item.owner,
            "next_action": item.lead.next_action,
            "next_action_due_at": item.lead.next_action_due_at,
            "flags": [
                {
                    "lead_id": f.lead_id,
                    "kind": f.kind,
                    "label": f.label,
                    "reason": f.reason,
                    "since": f.since,
                }
                for f in item.flags
            ],
            "decision": item.decision.kind if item.decision else None,
            "decision_detail": item.decision.detail if item.decision else None,
        }
        for item in selectors.agenda_items(review, token_user(request))
    ]


class DecisionIn(Schema):
    model_config = ConfigDict(extra="forbid")
    lead_id: int = Field(ge=1, le=MAX_ID)
    decision: Literal["keep", "advance", "recycle", "close", "reassign"]
    note: Text = Field("", max_length=2000)
    next_action: Text = Field("", max_length=200, description="keep (required), advance")
    due_at: ZonedTime | None = Field(None, description="keep (required), advance; ISO 8601")
    reason: Text = Field("", max_length=64, description="recycle and close: a reason code")
    owner: Text = Field("", max_length=150, description="reassign: a username")
    queue: Text = Field("", max_length=64, description="reassign: a queue's slug")

    @field_validator("due_at", mode="before")
    @classmethod
    def _iso_text_only(cls, value: Any) -> Any:
        return iso_text_only(value)


class DecisionOut(Schema):
    id: int
    lead_id: int
    decision: str
    detail: str
    decided_by: str
    decided_at: datetime


@router.post(
    "/reviews/{review_id}/decisions",
    auth=WRITE,
    response={201: DecisionOut, **ERRORS},
    operation_id="review_decide",
    summary="Record a decision on one lead of the review",
)
def review_decide(request: HttpRequest, payload: DecisionIn, review_id: int = ID) -> Status:
    user = token_user(request)
    review = selectors.access_review(user, review_id)
    lead = access_lead(user, payload.lead_id)
    if payload.due_at is not None and payload.due_at.tzinfo is None:
        return Status(422, field_errors(ServiceError("give a time zone", field="due_at")))
    owner_user = queue = None
    if payload.owner:
        owner_user = User.objects.filter(username=payload.owner).first()
        if owner_user is None:
            return Status(422, field_errors(ServiceError("no such user", field="owner")))
    if payload.queue:
        queue = Queue.objects.filter(slug=payload.queue).first()
        if queue is None:
            return Status(422, field_errors(ServiceError("no such queue", field="queue")))
    try:
        decision = services.review_decide(
            review=review,
            lead=lead,
            kind=payload.decision,
            actor=user,
            note=payload.note,
            next_action=payload.next_action,
            due_at=payload.due_at,
            reason_code=payload.reason,
            owner_user=owner_user,
            owner_queue=queue,
        )
    except ServiceError as exc:
        return Status(422, field_errors(exc))
    return Status(
        201,
        {
            "id": decision.pk,
            "lead_id": lead.pk,
            "decision": decision.kind,
            "detail": decision.detail,
            "decided_by": user.username,
            "decided_at": decision.decided_at,
        },
    )


class RepCoverageOut(Schema):
    rep: str
    open: int
    reviewed: int
    coverage: float | None


class CoverageOut(Schema):
    team: str
    team_id: int
    open: int
    reviewed: int
    coverage: float | None = Field(
        description="share of open leads with a review decision in "
        "the last 7 days; null when there is no open lead"
    )
    reps: list[RepCoverageOut]


@router.get(
    "/reviews/coverage",
    auth=READ,
    response={200: list[CoverageOut], **ERRORS},
    operation_id="review_coverage",
    summary="Review coverage per team and rep (last 7 days)",
)
def review_coverage(request: HttpRequest) -> Any:
    user = token_user(request)
    at = now()
    return [selectors.coverage(team, user, at) for team in selectors.teams_of(user)]
