"""In Chromium on a phone: the forms page keeps the embed snippet on the screen."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def test_on_a_phone_the_embed_snippet_scrolls_in_its_box_instead_of_widening_the_page(
    page, live_server, login, users
):
    page.set_viewport_size({"width": 390, "height": 900})
    login(users.rep)
    page.goto(f"{live_server.url}/forms/")
    snippet = page.locator("#form-contact pre")
    expect(snippet).to_contain_text("/f/contact/embed.js")
    box = snippet.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 390
    # The hosted link and the preview are on the screen too.
    for part in ("#form-contact a[href='/f/contact/']", "#form-contact iframe.form-preview"):
        box = page.locator(part).bounding_box()
        assert box is not None and box["x"] + box["width"] <= 390, part
