"""The open pixel and the click redirect: signed tokens, touches, scores and the signal."""

from __future__ import annotations

import re

import pytest
from django.core import signing
from django.test import Client

from leadrefinery.common.subscriptions import Subscriber
from leadrefinery.leads import events
from leadrefinery.leads.models import Touch
from leadrefinery.scoring.models import LeadScore
from leadrefinery.tracking import links
from leadrefinery.tracking.models import Hit

pytestmark = pytest.mark.django_db


HEARD: list[dict] = []


def listen(changes):
    HEARD.extend({"person_id": c.person_id, **c.data} for c in changes)


@pytest.fixture
def heard(monkeypatch):
    """A subscriber of ``email_engaged`` next to the app's own, as another app would add one."""
    registered = events.subscribers()
    extra = Subscriber(
        name="test", kinds=frozenset({"email_engaged"}), handler=f"{__name__}.listen"
    )
    monkeypatch.setattr(events, "_subscribers", lambda: (*registered, extra))
    HEARD.clear()
    yield HEARD


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def test_an_open_becomes_a_touch_raises_the_score_and_is_announced(make_lead, heard):
    lead = make_lead()
    before = LeadScore.objects.get(lead=lead).engagement
    url = links.pixel_url(person_id=lead.person_id, message_ref="nurture:7:1")

    response = Client().get(path_of(url))

    assert response.status_code == 200 and response["Content-Type"] == "image/gif"
    assert response.content.startswith(b"GIF89a")
    touch = Touch.objects.get(lead=lead, channel=Touch.Channel.EMAIL_OPEN)
    assert touch.outcome == Touch.Outcome.OPENED
    assert LeadScore.objects.get(lead=lead).engagement == before + 1
    assert [(h["person_id"], h["message_ref"], h["kind"]) for h in heard] == [
        (lead.person_id, "nurture:7:1", "open")
    ]


def test_a_click_redirects_to_the_link_of_the_message_and_records_it(make_lead, heard):
    lead = make_lead()
    html = '<p><a href="https://example.com/guide?a=1&amp;b=2">Guide</a></p>'
    rewritten = links.rewrite_links(html, person_id=lead.person_id, message_ref="m1")
    tracked = re.search(r'href="([^"]+)"', rewritten).group(1)
    assert "/t/c/" in tracked and "/t/o/" in rewritten  # the pixel is appended

    response = Client().get(path_of(tracked))

    assert response.status_code == 302
    assert response["Location"] == "https://example.com/guide?a=1&b=2"
    touch = Touch.objects.get(lead=lead, channel=Touch.Channel.EMAIL_CLICK)
    assert "https://example.com/guide?a=1&b=2" in touch.note
    assert heard[0]["kind"] == "click" and heard[0]["url"] == "https://example.com/guide?a=1&b=2"


@pytest.mark.parametrize(
    "token",
    [
        "forged",
        "eyJwIjoxLCJtIjoieCJ9:1xVZfD:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "%00",
        "a" * 500,
    ],
)
def test_a_forged_pixel_token_records_nothing_and_still_returns_the_pixel(make_lead, heard, token):
    lead = make_lead()
    response = Client().get(f"/t/o/{token}.gif")
    assert response.status_code == 200 and response.content.startswith(b"GIF89a")
    assert Hit.objects.count() == 0
    assert not Touch.objects.filter(lead=lead, channel=Touch.Channel.EMAIL_OPEN).exists()
    assert heard == []


def test_a_click_token_cannot_be_pointed_at_another_url(make_lead):
    lead = make_lead()
    good = path_of(
        links.click_url(person_id=lead.person_id, message_ref="m", url="https://a.example/")
    )
    evil = {"p": lead.person_id, "m": "m", "u": "https://evil.example/"}
    forged = signing.dumps(evil, salt=links.CLICK_SALT, key="not-our-secret")
    # The signed part of a genuine token, glued to another target, does not verify either.
    spliced = forged.split(":")[0] + ":" + ":".join(good.removeprefix("/t/c/").split(":")[1:])

    for token in (forged, spliced, good.removeprefix("/t/c/")[:-3] + "abc"):
        assert Client().get(f"/t/c/{token}").status_code == 404
    assert Hit.objects.count() == 0
    assert Client().get(good).status_code == 302


def test_an_open_by_a_person_without_an_open_lead_is_a_touch_on_the_person(make_lead):
    from leadrefinery.leads.actors import Actor
    from leadrefinery.leads.services import lead_dispose

    lead = make_lead()
    lead_dispose(lead=lead, reason_code="dq_spam", actor=Actor.system("test"))
    Client().get(path_of(links.pixel_url(person_id=lead.person_id, message_ref="m")))
    touch = Touch.objects.get(person_id=lead.person_id, channel=Touch.Channel.EMAIL_OPEN)
    assert touch.lead is None
