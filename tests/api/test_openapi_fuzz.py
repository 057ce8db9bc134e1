"""Schemathesis over the whole OpenAPI schema, over real HTTP: no 5xx, no schema violation.

Every operation gets generated valid and invalid requests (bodies, query strings, headers,
path ids) with a valid bearer token, and every answer is checked by schemathesis' default
checks: not a server error, status code / content type / headers / body conform to the
schema, invalid data is rejected, valid data is accepted, and auth is not ignored.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from leadrefinery.api import api
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.services import lead_assign

CONFIG = {
    "generation": {"max-examples": 30},
    # POST /inquiries checks the content of fields beyond what a schema can say (an email's
    # domain, a phone number's validity in its country, "an email or a phone is required",
    # a Source that exists), so schema-valid data may rightly be refused with 422 field
    # errors. Everything else about "valid data is accepted" still holds: never 400/5xx.
    "operations": [
        {
            "include-operation-id": "inquiry_create",
            "checks": {
                "positive_data_acceptance": {
                    "expected-statuses": ["2xx", "401", "403", "409", "422"]
                }
            },
        },
        # Rules, policies, availability and webhooks are validated beyond their schema too: a
        # target that must exist, a fallback rule that keeps no conditions, a URL that must be
        # http(s), a time zone that must exist. Schema-valid data may rightly get 404/409/422.
        *[
            {
                "include-operation-id": operation,
                "checks": {
                    "positive_data_acceptance": {
                        "expected-statuses": ["2xx", "401", "403", "404", "409", "422"]
                    }
                },
            }
            for operation in (
                "routing_rule_create",
                "routing_rule_update",
                "routing_rule_delete",
                "routing_preview",
                "sla_policy_create",
                "sla_policy_update",
                "availability_set",
                "webhook_create",
                "webhook_update",
                "queue_pull_next",
                # Lead actions and cadences: the state machine, the persistence rule and the
                # cadence rules refuse schema-valid requests that do not fit the lead's state.
                "lead_touch_create",
                "lead_accept",
                "lead_reject",
                "lead_dispose",
                "lead_recycle",
                "lead_qualification_set",
                # Custom fields: the names must be defined fields, the values of their kind.
                "lead_custom_set",
                # The deal value: an amount won only on a won lead, an ISO 4217 code, cents.
                "lead_amount_set",
                # The weekly review: a decision must fit the lead (keep needs a next action,
                # advance a next stage, close a reason) and the review must be open.
                "review_open",
                "review_decide",
                "cadence_create",
                "cadence_update",
                "task_complete",
                "task_reschedule",
                "outcome_check_answer",
                # Nurture, scoring and events: unique names, messages that must exist, a real
                # email address, an event that names its person, caps on engagement rules
                # only, a temperature matrix with a row for every grade.
                "nurture_message_create",
                "nurture_message_update",
                "nurture_program_create",
                "nurture_program_update",
                "nurture_suppression_add",
                "events_ingest",
                "scoring_rule_create",
                "scoring_rule_update",
                "scoring_rules_preview",
                "scoring_settings_set",
                "duplicate_merge",
                "duplicate_dismiss",
                # Reports: a period that starts after it ends or spans more than 60 months,
                # a 'by' the report cannot group by; costs: a source and campaign that must
                # exist and belong together, the last day after the first.
                "report_get",
                "cost_create",
                # Privacy: a person named by id or address, which random data rarely is.
                "privacy_person_export",
                "privacy_person_erase",
            )
        ],
    ],
}


# The schema as the API publishes it (the same document /api/v1/openapi.json serves, which
# test_openapi_document checks); loaded at import so that pytest can list one test per operation.
schema = schemathesis.openapi.from_dict(
    dict(api.get_openapi_schema()), config=SchemathesisConfig.from_dict(CONFIG)
)


# Schemathesis builds some cases while collecting, before any test database or token exists;
# those carry this placeholder, and the test swaps in the secret of its own token.
PLACEHOLDER = "lr_placeholder"
_current: dict[str, str] = {}
_statuses: list[int] = []


@schema.auth(refresh_interval=None)
class BearerToken:
    """Gives schemathesis the token, so that it also knows which requests it sends without."""

    def get(self, case, ctx) -> str:
        return _current.get("secret", PLACEHOLDER)

    def set(self, case, data: str, ctx) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@pytest.fixture
def bearer(users, token_for, make_lead):
    # A few leads so that the list and detail operations also answer with real data.
    for i in range(3):
        lead = make_lead(company=f"Fuzz {i}", phone="+14155552671")
        if i:
            lead_assign(lead=lead, owner_user=users.rep, actor=Actor.system("test"))
    # One of each object the {id} operations address, so that they answer with real data too.
    from leadrefinery.leads.models import Queue
    from leadrefinery.notifications.webhooks import webhook_create

    Queue.objects.get(slug="unassigned").members.add(users.admin)
    webhook_create(url="http://127.0.0.1:9/hook", description="fuzz", created_by=users.admin)
    from leadrefinery.common.clock import now
    from leadrefinery.leads.models import Source
    from leadrefinery.reports.models import CostEntry

    today = now().date()
    CostEntry.objects.create(
        source=Source.objects.get(name="API"),
        starts_on=today,
        ends_on=today,
        amount=100,
        created_at=now(),
    )
    _current["secret"] = token_for(users.admin)
    _statuses.clear()
    yield
    _current.clear()
    # Guard against a run that only ever knocked on the door: the token was accepted, so the
    # operation itself was exercised (random bodies rarely name existing rules or reps, so
    # some operations answer only 404/409/422 to generated data).
    assert any(status != 401 for status in _statuses), sorted(set(_statuses))


# reset_sequences: the leads made below get ids 1..3, so the documented example id is real.
@pytest.mark.django_db(transaction=True, reset_sequences=True)
@schema.parametrize()
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_conforms_to_its_schema(case, bearer, live_server):
    if case.headers and case.headers.get("Authorization") == f"Bearer {PLACEHOLDER}":
        case.headers["Authorization"] = f"Bearer {_current['secret']}"
    response = case.call_and_validate(base_url=live_server.url)
    _statuses.append(response.status_code)
