"""The public form's per-address limit holds under concurrency: 50 posts fired at once from
one address at a real running server get at most the limit through (before, counting and
then inserting let 34 of 50 through a limit of 30), and every refused post is told so (429
with Retry-After), none is answered with an error or silently dropped."""

from __future__ import annotations

import threading
import urllib.error
import urllib.parse
import urllib.request

import pytest

from leadrefinery.intake import public_forms as pf
from leadrefinery.leads.models import IntakeRecord, WebForm
from leadrefinery.tracking.models import RateCounter

pytestmark = pytest.mark.django_db(transaction=True)

POSTS = 50
LIMIT = 30


def _post(url: str, body: dict[str, str]) -> tuple[int, str]:
    data = urllib.parse.urlencode(body).encode()
    request = urllib.request.Request(url, data=data, method="POST")
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=120) as response:
            return response.status, ""
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Retry-After", "")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # the thank-you redirect is the answer
        return None


def test_fifty_concurrent_posts_from_one_address_get_at_most_the_limit(live_server):
    form = WebForm.objects.get(slug="contact")
    form.rate_limit_per_hour = LIMIT
    form.min_fill_seconds = 0
    form.save()
    tokens = [pf.issue_token(form) for _ in range(POSTS)]
    assert len(set(tokens)) == POSTS
    url = f"{live_server.url}/f/contact/"
    answers: list[tuple[int, str]] = [(0, "")] * POSTS
    start = threading.Barrier(POSTS)

    def send(n: int) -> None:
        body = {
            "first_name": "Dana",
            "last_name": f"Whitfield {n}",
            "email": f"dana{n}@northwind.example",
            "company": "Northwind Traders",
            "refinery_started": tokens[n],
            "website_confirm": "",
        }
        start.wait()
        answers[n] = _post(url, body)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(POSTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    statuses = sorted(status for status, _ in answers)
    accepted = statuses.count(302)
    refused = [retry for status, retry in answers if status == 429]
    assert accepted + len(refused) == POSTS, statuses  # no 5xx, nothing else
    assert accepted == LIMIT
    assert all(retry.isdigit() and 0 < int(retry) <= 3600 for retry in refused)
    assert IntakeRecord.objects.count() == LIMIT
    assert RateCounter.objects.get(key="form:127.0.0.1").count == LIMIT
