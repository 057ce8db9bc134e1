"""The review queue: /duplicates/ lists possible duplicates side by side (differing fields
marked, the match reasons shown); one click merges (choosing the surviving value per field)
or keeps them separate. With htmx the pair's card is replaced by the outcome."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from leadrefinery.accounts.models import User
from leadrefinery.accounts.views import member_view
from leadrefinery.common.errors import ServiceError
from leadrefinery.leads.actors import Actor

from . import merging, selectors
from .forms import MergeForm
from .models import DuplicatePair

PAGE_SIZE = 20


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _pair(request: HttpRequest, pk: int) -> DuplicatePair:
    """A pair this user may merge or dismiss (404 otherwise: a rep who owns only one side
    sees the pair, without the buttons)."""
    pair = selectors.pair_visible_to(_user(request), pk)
    if pair is None or not selectors.may_act(pair):
        raise Http404("No such possible duplicate")
    return pair


def card(pair: DuplicatePair, form: MergeForm | None = None) -> dict[str, object]:
    form = form or MergeForm(pair=pair)
    rows = selectors.comparison(pair)
    for row in rows:
        row["choice"] = (
            form[f"value_{row['field']}"] if f"value_{row['field']}" in form.fields else None
        )
    return {"pair": pair, "rows": rows, "form": form}


@member_view
@require_GET
def review_queue(request: HttpRequest) -> HttpResponse:
    qs = selectors.pairs_visible_to(_user(request))
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "dedupe/review_queue.html",
        {
            "page": page,
            "cards": [card(p) for p in page.object_list],
            "total": page.paginator.count,
            "model": selectors.match_model_in_use(),
        },
    )


def _done(request: HttpRequest, pair: DuplicatePair, text: str) -> HttpResponse:
    if request.headers.get("HX-Request"):
        return render(request, "dedupe/pair_done.html", {"pair": pair, "text": text})
    messages.success(request, text)
    return redirect("duplicate-queue")


def _refused(request: HttpRequest, pair: DuplicatePair, error: str, form=None) -> HttpResponse:
    if request.headers.get("HX-Request"):
        return render(
            request, "dedupe/pair_card.html", {**card(pair, form), "error": error}, status=400
        )
    messages.error(request, error)
    return redirect("duplicate-queue")


@member_view
@require_POST
def merge(request: HttpRequest, pk: int) -> HttpResponse:
    pair = _pair(request, pk)
    form = MergeForm(request.POST, pair=pair)
    if not form.is_valid():
        return _refused(request, pair, "Choose which record survives.", form)
    survivor, takes = form.survivor_and_takes()
    try:
        result = merging.duplicate_merge(
            pair=pair,
            actor=Actor.of(_user(request)),
            survivor_id=survivor.pk,
            take_from_loser=takes,
            reason=form.cleaned_data.get("reason") or "",
        )
    except ServiceError as exc:
        return _refused(request, pair, exc.message, form)
    text = (
        f"Merged {result.loser.display_name} (person {result.loser.pk}) into "
        f"{result.survivor.display_name} (person {result.survivor.pk}): "
        f"{result.leads_moved + result.leads_merged} lead(s) and {result.touches_moved} "
        "touch(es) now belong to the survivor."
    )
    return _done(request, pair, text)


@member_view
@require_POST
def dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    pair = _pair(request, pk)
    try:
        pair = merging.duplicate_dismiss(
            pair=pair, actor=Actor.of(_user(request)), note=request.POST.get("reason", "")[:300]
        )
    except ServiceError as exc:
        return _refused(request, pair, exc.message)
    text = (
        f"Kept separate: {pair.person_a.display_name} and {pair.person_b.display_name} "
        "will not be proposed again."
    )
    return _done(request, pair, text)
