"""``POST /api/v1/queues/{id}/next``: a queue member pulls the next lead (the qualifying center).

Parses, calls ``routing.pull.queue_pull`` and renders; the order and the locking live there.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Path, Router, Schema, Status

from leadrefinery.accounts.api_auth import TokenAuth
from leadrefinery.common.errors import ServiceError
from leadrefinery.leads.api import lead_item
from leadrefinery.leads.models import Queue
from leadrefinery.leads.schemas import MAX_ID, LeadItem, Message

from .pull import queue_pull

router = Router()


class PulledLead(Schema):
    lead: LeadItem = Field(description="the lead, now owned by the token's user")
    why: str = Field(description="why this lead was next: hot, newest web inquiry, retry due, ...")


@router.post(
    "/queues/{queue_id}/next",
    auth=TokenAuth("leads:write"),
    response={200: PulledLead, 204: None, 401: Message, 403: Message, 404: Message},
    tags=["queues"],
    operation_id="queue_pull_next",
    summary="Pull the next lead from a queue",
)
def queue_next(
    request: HttpRequest, queue_id: int = Path(..., ge=1, le=MAX_ID, examples=[1])
) -> Any:
    """Assign the queue's next open lead to you and return it: hot leads first, then the
    newest web inquiries, then retries due, then the oldest of the rest. Two callers never get
    the same lead. Only members of the queue may pull (403 otherwise). 204 (no body) when the
    queue has no open lead; 404 when there is no such queue.
    """
    queue = Queue.objects.filter(pk=queue_id).first()
    if queue is None:
        return Status(404, {"detail": f"There is no queue with id {queue_id}."})
    try:
        pulled = queue_pull(queue=queue, user=request.auth.user)  # type: ignore[attr-defined]
    except ServiceError as exc:
        return Status(403, {"detail": exc.message[:1].upper() + exc.message[1:] + "."})
    if pulled is None:
        return Status(204, None)
    return Status(200, {"lead": lead_item(pulled.lead), "why": pulled.why})
