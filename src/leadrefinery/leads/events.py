"""The lead-event registry: the one way a change to a lead reaches the other apps.

Every write to a lead records a ``LeadEvent`` on its timeline, one at a time through
``services.event_record`` or in bulk through ``events_insert``. Both hand the new events to
``publish``, which calls each subscriber once with the events of the kinds it follows, in the
writer's transaction: a subscriber's writes commit or roll back with the change that caused
them, and a bulk writer (intake, CSV import, the tracking flush, a merge) costs each
subscriber one call per batch, not one per lead.

An app says what it follows in its ``AppConfig``::

    lead_event_subscribers = (
        Subscriber(
            name="cadences: start and stop",
            kinds=frozenset({"stage_changed", "disposed"}),
            handler="leadrefinery.cadences.subscribers.on_stage_change",
        ),
    )

``Subscriber`` and ``Notice`` live in ``common.subscriptions`` so that an ``apps.py`` can name
them before the models load. ``leads`` imports none of the subscribing apps: handlers are
named by dotted path and loaded on first use. Subscribers run in ``INSTALLED_APPS`` order, then
in the order an app lists them. ``refinery subscribers`` prints the registry.

Two more extension points work the same way: ``lead_sections`` (parts of a lead's API answer
that another app gives, e.g. scoring's ``score``) and ``lead_actions`` (actions the lead page,
API and list call by name, e.g. cadences' ``touch``, review's flag filter).

Facts that are not on a lead's timeline but that other apps follow (an email open counted per
message) travel as a ``Notice`` through the same ``publish``; subscribers read the same four
attributes of both: ``kind``, ``lead_id``, ``occurred_at`` and ``data``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from functools import cache
from typing import Any, Protocol

from django.apps import apps
from django.utils.module_loading import import_string

from leadrefinery.common.db import insert_rows
from leadrefinery.common.subscriptions import LeadSection, Subscriber

from .actors import Actor
from .models import Lead, LeadEvent


class Change(Protocol):
    """What a subscriber may read of each item it is given (a LeadEvent or a Notice)."""

    @property
    def kind(self) -> str: ...
    @property
    def lead_id(self) -> int | None: ...
    @property
    def occurred_at(self) -> datetime: ...
    @property
    def data(self) -> Any: ...


def subscribers() -> tuple[Subscriber, ...]:
    """Every subscriber of every installed app, in call order."""
    return _subscribers()


@cache
def _subscribers() -> tuple[Subscriber, ...]:
    found: list[Subscriber] = []
    for config in apps.get_app_configs():
        found.extend(getattr(config, "lead_event_subscribers", ()))
    return tuple(found)


def lead_action(name: str) -> Callable[..., Any]:
    """The implementation of a lead action that another app owns, by name (``lead_actions`` in
    its AppConfig): e.g. "touch" (log a touch and move the lead on: the cadence decides the next
    step while one runs), "accept", "cadence_running". The lead page and API call actions by
    name, so leads imports no app above it. KeyError names an action no app gives."""
    return _handler(_actions()[name])


@cache
def _actions() -> dict[str, str]:
    found: dict[str, str] = {}
    for config in apps.get_app_configs():
        for name, path in getattr(config, "lead_actions", {}).items():
            found.setdefault(name, path)
    return found


def lead_sections(lead: Lead) -> dict[str, Any]:
    """The parts of a lead's API answer that other apps give (e.g. ``score``)."""
    return {section.name: _handler(section.reader)(lead) for section in _sections()}


@cache
def _sections() -> tuple[LeadSection, ...]:
    found: list[LeadSection] = []
    for config in apps.get_app_configs():
        found.extend(getattr(config, "lead_sections", ()))
    return tuple(found)


def subscribers_ready() -> None:
    """Import every subscriber's handler now rather than at the first ``publish`` (an import
    does it while its matching process matches the first chunk)."""
    for subscriber in _subscribers():
        _handler(subscriber.handler)


@cache
def _handler(path: str) -> Callable[[Any], Any]:
    return import_string(path)  # type: ignore[no-any-return]


def publish(changes: Iterable[Change]) -> None:
    """Call every subscriber once with the changes of the kinds it follows (none: no call)."""
    batch = list(changes)
    if not batch:
        return
    kinds = {change.kind for change in batch}
    for subscriber in _subscribers():
        if kinds.isdisjoint(subscriber.kinds):
            continue
        mine = [change for change in batch if change.kind in subscriber.kinds]
        _handler(subscriber.handler)(mine)


def events_insert(events: Sequence[LeadEvent]) -> None:
    """Write many timeline events at once (one statement per table) and publish them: the bulk
    writers' counterpart of ``services.event_record``."""
    if not events:
        return
    insert_rows(LeadEvent, list(events))
    publish(events)


def leads_of(changes: Iterable[Change]) -> dict[int, Lead]:
    """The leads the changes are about, by id: the instance an event already holds (the
    writer's own, with its latest values), the rest read in one query."""
    found: dict[int, Lead] = {}
    missing: set[int] = set()
    for change in changes:
        if change.lead_id is None or change.lead_id in found:
            continue
        if isinstance(change, LeadEvent) and LeadEvent.lead.is_cached(change):
            found[change.lead_id] = change.lead
        else:
            missing.add(change.lead_id)
    missing -= found.keys()
    if missing:
        found.update(Lead.objects.in_bulk(sorted(missing)))
    return found


def actor_of(change: Change) -> Actor:
    """Who made the change, as an ``Actor`` (the system for a Notice)."""
    if isinstance(change, LeadEvent):
        return Actor(user=change.actor, label=change.actor_label)
    return Actor.system(change.kind)
