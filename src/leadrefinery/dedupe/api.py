"""The duplicates API: the review queue, merge and "not a duplicate".

- ``GET /duplicates``: open possible duplicates the token's user may review (a lead of each
  of the two people is visible to them), strongest first, with the reasons for the score and
  a side-by-side comparison. Needs ``leads:read``.
- ``POST /duplicates/{id}/merge``: merge the pair (the older person survives unless
  ``survivor_id`` says otherwise; ``take_from_loser`` names fields whose value the other record
  provides). Needs ``leads:write``.
- ``POST /duplicates/{id}/dismiss``: not a duplicate; never proposed again. Needs ``leads:write``.

A pair the user may not review is a 404; a pair already merged or dismissed is a 409 with the
reason; field errors are 422 in the API's usual shape.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Path, Query, Router, Schema, Status
from pydantic import ConfigDict

from leadrefinery.accounts.api_auth import TokenAuth, token_user
from leadrefinery.common.errors import ServiceError
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import Person
from leadrefinery.leads.schemas import MAX_ID, Message, ValidationErrorOut

from . import merging, selectors
from .models import DuplicatePair

router = Router(tags=["duplicates"])

READ = TokenAuth("leads:read")
WRITE = TokenAuth("leads:write")
AUTH_ERRORS: dict[int, Any] = {401: Message, 403: Message}
ID = Path(..., ge=1, le=MAX_ID, examples=[1])
NOT_FOUND = {"detail": "No such possible duplicate (or not one you may review)."}


class DuplicatePersonOut(Schema):
    id: int
    name: str
    email: str
    phone: str
    company: str
    created_at: datetime


class DuplicateFieldOut(Schema):
    field: str
    a: str
    b: str
    differs: bool


class DuplicatePairOut(Schema):
    id: int
    score: float
    status: str
    found_by: str
    reasons: list[str]
    created_at: datetime
    a: DuplicatePersonOut
    b: DuplicatePersonOut
    fields: list[DuplicateFieldOut]


class DuplicatePage(Schema):
    count: int
    items: list[DuplicatePairOut]


class DuplicateFilters(Schema):
    status: DuplicatePair.Status = Field(DuplicatePair.Status.OPEN)
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=1_000_000)


MergeField = merging.MergeField


class DuplicateMergeIn(Schema):
    model_config = ConfigDict(extra="forbid")
    survivor_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="one of the two people; default the older one"
    )
    take_from_loser: list[MergeField] = Field(
        default_factory=list,
        max_length=len(merging.MERGE_FIELDS),
        description=f"fields whose value the merged record provides: {', '.join(merging.MERGE_FIELDS)}",
    )
    reason: str = Field("", max_length=300, pattern=r"^[^\x00]*$")


class DuplicateDismissIn(Schema):
    model_config = ConfigDict(extra="forbid")
    note: str = Field("", max_length=300, pattern=r"^[^\x00]*$")


class DuplicateMergeOut(Schema):
    pair: DuplicatePairOut
    survivor_id: int
    merged_id: int
    leads_moved: int
    leads_merged: int
    touches_moved: int
    consents_moved: int
    consent_withdrawn: bool


def _person_out(person: Person) -> dict[str, Any]:
    return {
        "id": person.pk,
        "name": f"{person.first_name} {person.last_name}".strip(),
        "email": person.email,
        "phone": person.phone,
        "company": person.company_name,
        "created_at": person.created_at,
    }


def pair_out(pair: DuplicatePair) -> dict[str, Any]:
    return {
        "id": pair.pk,
        "score": pair.score,
        "status": pair.status,
        "found_by": pair.found_by,
        "reasons": list(pair.reasons),
        "created_at": pair.created_at,
        "a": _person_out(pair.person_a),
        "b": _person_out(pair.person_b),
        "fields": [
            {"field": r["field"], "a": r["a"], "b": r["b"], "differs": r["differs"]}
            for r in selectors.comparison(pair)
        ],
    }


def _errors(field: str, message: str) -> dict[str, Any]:
    return {
        "detail": [{"loc": ["body", "payload", field], "msg": message, "type": "value_error"}],
        "inquiry_id": None,
    }


@router.get(
    "/duplicates",
    auth=READ,
    response={200: DuplicatePage, **AUTH_ERRORS},
    operation_id="duplicate_list",
    summary="Possible duplicates waiting for review, strongest first",
)
def duplicate_list(request: HttpRequest, filters: Query[DuplicateFilters]) -> dict[str, Any]:
    qs = selectors.pairs_visible_to(token_user(request), status=filters.status)
    items = list(qs[filters.offset : filters.offset + filters.limit])
    return {"count": qs.count(), "items": [pair_out(p) for p in items]}


NOT_YOURS = (
    "you may not merge or dismiss this pair: a rep acts on people whose leads they own, a "
    "manager on people whose leads they can see"
)


@router.post(
    "/duplicates/{pair_id}/merge",
    auth=WRITE,
    response={
        200: DuplicateMergeOut,
        **AUTH_ERRORS,
        404: Message,
        409: Message,
        422: ValidationErrorOut,
    },
    operation_id="duplicate_merge",
    summary="Merge a possible duplicate (the survivor keeps every lead, touch and consent)",
)
def duplicate_merge(request: HttpRequest, payload: DuplicateMergeIn, pair_id: int = ID) -> Status:
    user = token_user(request)
    pair = selectors.pair_visible_to(user, pair_id)
    if pair is None:
        return Status(404, NOT_FOUND)
    if not selectors.may_act(pair):
        return Status(403, {"detail": NOT_YOURS})
    if payload.survivor_id is not None and payload.survivor_id not in (
        pair.person_a_id,
        pair.person_b_id,
    ):
        return Status(
            422,
            _errors(
                "survivor_id",
                f"the survivor must be person {pair.person_a_id} or {pair.person_b_id}",
            ),
        )
    try:
        result = merging.duplicate_merge(
            pair=pair,
            actor=Actor.of(user),
            survivor_id=payload.survivor_id,
            take_from_loser=payload.take_from_loser,
            reason=payload.reason,
        )
    except ServiceError as exc:
        return Status(409, {"detail": exc.message})
    pair = DuplicatePair.objects.select_related("person_a", "person_b").get(pk=pair.pk)
    return Status(
        200,
        {
            "pair": pair_out(pair),
            "survivor_id": result.survivor.pk,
            "merged_id": result.loser.pk,
            "leads_moved": result.leads_moved,
            "leads_merged": result.leads_merged,
            "touches_moved": result.touches_moved,
            "consents_moved": result.consents_moved,
            "consent_withdrawn": result.consent_withdrawn,
        },
    )


@router.post(
    "/duplicates/{pair_id}/dismiss",
    auth=WRITE,
    response={
        200: DuplicatePairOut,
        **AUTH_ERRORS,
        404: Message,
        409: Message,
        422: ValidationErrorOut,
    },
    operation_id="duplicate_dismiss",
    summary="Not a duplicate: remembered, never proposed again",
)
def duplicate_dismiss(
    request: HttpRequest, payload: DuplicateDismissIn, pair_id: int = ID
) -> Status:
    user = token_user(request)
    pair = selectors.pair_visible_to(user, pair_id)
    if pair is None:
        return Status(404, NOT_FOUND)
    if not selectors.may_act(pair):
        return Status(403, {"detail": NOT_YOURS})
    try:
        pair = merging.duplicate_dismiss(pair=pair, actor=Actor.of(user), note=payload.note)
    except ServiceError as exc:
        return Status(409, {"detail": exc.message})
    return Status(200, pair_out(pair))
