"""Nurture pages: one-click unsubscribe (public), the bounce webhook (public, shared secret),
and for staff the programs report, a message preview and the invisible pipeline."""

from __future__ import annotations

import hmac
import json
from typing import cast

from csp.constants import NONE, SELF, UNSAFE_INLINE
from csp.decorators import csp_replace
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from leadrefinery.accounts.models import User
from leadrefinery.accounts.views import member_view
from leadrefinery.common.errors import ServiceError
from leadrefinery.common.text import scrub

from . import access, selectors, services
from .forms import MessageForm, ProgramForm
from .models import Message, NurtureSend, Program


def _client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


@csrf_exempt  # RFC 8058: the mail client POSTs without a session or a CSRF token
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a page with one button (link scanners fetch URLs; they must not unsubscribe
    anyone); POST unsubscribes, from the page or from the mail client's one-click button."""
    # Tokens are URL-safe text: one with control characters (a NUL, which PostgreSQL cannot
    # even compare) is no token of ours.
    token = token[:32]
    if not token.isprintable():
        return render(request, "nurture/unsubscribe.html", {"unknown": True}, status=404)
    send = NurtureSend.objects.select_related("person").filter(token=token).first()
    if send is None:
        return render(request, "nurture/unsubscribe.html", {"unknown": True}, status=404)
    if request.method == "POST":
        services.send_unsubscribe(token=send.token, ip=_client_ip(request))
        return render(request, "nurture/unsubscribe.html", {"done": True, "send": send})
    return render(request, "nurture/unsubscribe.html", {"send": send})


@csrf_exempt  # called by a mail provider or relay with the shared secret, not a browser
@require_POST
def bounce_webhook(request: HttpRequest) -> HttpResponse:
    """``{"email": "...", "event": "bounced"|"complained"|"unsubscribed", "description": ""}``
    (or a list of them) with ``Authorization: Bearer <REFINERY_NURTURE_WEBHOOK_SECRET>``."""
    secret = settings.REFINERY_NURTURE_WEBHOOK_SECRET
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not secret or not hmac.compare_digest(given.encode(), secret.encode()):
        return JsonResponse({"detail": "unknown or missing secret"}, status=401)
    try:
        body = json.loads(request.body or b"null")
    except ValueError:
        return JsonResponse({"detail": "the body is not JSON"}, status=400)
    body, _ = scrub(body)  # control characters (NUL...) cannot be stored; never a 500
    events = body if isinstance(body, list) else [body]
    recorded = 0
    for event in events:
        if not isinstance(event, dict) or not isinstance(event.get("email"), str):
            return JsonResponse({"detail": "each event needs an 'email'"}, status=422)
        try:
            done = services.bounce_record(
                address=event["email"],
                kind=str(event.get("event", "")),
                source="webhook",
                note=str(event.get("description", ""))[:500],
            )
        except ServiceError as exc:
            return JsonResponse({"detail": exc.message}, status=422)
        recorded += done is not None
    return JsonResponse({"recorded": recorded})


def _staff(request: HttpRequest) -> User:
    user = cast(User, request.user)
    if not access.can_view_nurture(user):
        raise PermissionDenied("Nurture programs are for marketers, managers and admins.")
    return user


def _editor(request: HttpRequest) -> User:
    user = _staff(request)
    if not access.can_edit_nurture(user):
        raise PermissionDenied("Marketers and admins write messages and build programs.")
    return user


def _form_errors(form: MessageForm | ProgramForm, exc: ServiceError) -> None:
    field = exc.field if exc.field in form.fields else None
    if exc.field == "steps":
        field = "step_1"
    for message in exc.errors:
        form.add_error(field, message)


@member_view
@require_GET
def program_list(request: HttpRequest) -> HttpResponse:
    _staff(request)
    return render(
        request,
        "nurture/program_list.html",
        {
            "programs": selectors.program_report(),
            "failed": selectors.failed_sends(),
            "can_edit": access.can_edit_nurture(cast(User, request.user)),
        },
    )


@member_view
@require_http_methods(["GET", "POST"])
def message_new(request: HttpRequest) -> HttpResponse:
    user = _editor(request)
    form = MessageForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            message = services.message_create(**form.cleaned_data, created_by=user)
        except ServiceError as exc:
            _form_errors(form, exc)
        else:
            return redirect("nurture-message-preview", message.pk)
    return render(request, "nurture/message_form.html", {"form": form})


@member_view
@require_http_methods(["GET", "POST"])
def program_new(request: HttpRequest) -> HttpResponse:
    user = _editor(request)
    form = ProgramForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            program = services.program_create(
                name=data["name"],
                description=data["description"],
                steps=[services.StepSpec(pk) for pk in form.steps()],
                entry_rules=data["entry_rules"],
                exit_rules=data["exit_rules"],
                interval_days=data["interval_days"],
                window_start=data["window_start"],
                window_end=data["window_end"],
                window_weekdays=data["window_weekdays"],
                active=data["active"],
                created_by=user,
            )
        except ServiceError as exc:
            _form_errors(form, exc)
        else:
            return redirect("nurture-program", program.pk)
    return render(
        request,
        "nurture/program_form.html",
        {"form": form, "has_messages": Message.objects.exists()},
    )


@member_view
@require_http_methods(["GET", "POST"])
def program_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a program: its messages in order, interval, window, who joins and who leaves."""
    _editor(request)
    program = get_object_or_404(Program, pk=pk)
    form = ProgramForm(
        request.POST if request.method == "POST" else None,
        initial=None if request.method == "POST" else ProgramForm.initial_for(program),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.program_update(
                program=program,
                changes={name: data[name] for name in services.PROGRAM_FIELDS},
                steps=[services.StepSpec(pk) for pk in form.steps()],
            )
        except ServiceError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, f"Program '{data['name']}' saved.")
            return redirect("nurture-program", program.pk)
    return render(
        request,
        "nurture/program_form.html",
        {"form": form, "has_messages": True, "program": program},
        status=400 if request.method == "POST" else 200,
    )


@member_view
@require_POST
def program_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    """Pause a program (nothing more is sent; its members stay) or switch it on again."""
    _editor(request)
    program = get_object_or_404(Program, pk=pk)
    services.program_set_active(program=program, active=not program.active)
    return redirect("nurture-program", program.pk)


@member_view
@require_GET
def program_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _staff(request)
    program = get_object_or_404(Program, pk=pk)
    return render(
        request,
        "nurture/program_detail.html",
        {
            "program": program,
            "report": selectors.program_report(program_id=program.pk)[0],
            "failed": selectors.failed_sends(program_id=program.pk),
            "can_edit": access.can_edit_nurture(cast(User, request.user)),
        },
    )


@member_view
@require_GET
def message_preview(request: HttpRequest, pk: int) -> HttpResponse:
    _staff(request)
    message = get_object_or_404(Message, pk=pk)
    return render(
        request, "nurture/message_preview.html", {"message": message, **selectors.preview(message)}
    )


# The email as its recipients' mail programs show it, framed by the preview page: its own
# document, so that the email's inline styles apply without loosening the app's policy; it
# may run no script, load nothing but images, and be framed only by our own pages.
_EMAIL_CSP = csp_replace(
    {
        "default-src": [NONE],
        "style-src": [UNSAFE_INLINE],
        "img-src": [SELF, "data:", "https:"],
        "frame-ancestors": [SELF],
        "form-action": [NONE],
    }
)


@member_view
@require_GET
@xframe_options_sameorigin
def message_preview_html(request: HttpRequest, pk: int) -> HttpResponse:
    _staff(request)
    message = get_object_or_404(Message, pk=pk)
    response = HttpResponse(selectors.preview(message)["html"])
    return cast(HttpResponse, _EMAIL_CSP(lambda request: response)(request))


@member_view
@require_GET
def pipeline(request: HttpRequest) -> HttpResponse:
    _staff(request)
    return render(request, "nurture/pipeline.html", {"rows": selectors.invisible_pipeline()})
