"""Helpers for the web UI tests: logged-in clients, owned leads, public form submissions."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.test import Client

from tests.conftest import PASSWORD

CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
HIDDEN_RE = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


@pytest.fixture
def client_for(db) -> Callable[..., Client]:
    """client_for(user, **client_kwargs) -> a Django test client logged in through /login/."""

    def make(user, **kwargs: Any) -> Client:
        client = Client(**kwargs)
        page = client.get("/login/").content.decode()
        token = CSRF_RE.search(page)
        assert token, "the login page has no CSRF token"
        response = client.post(
            "/login/",
            {"username": user.username, "password": PASSWORD, "csrfmiddlewaretoken": token[1]},
        )
        assert response.status_code == 302, response.content[:500]
        return client

    return make


@dataclass
class Owned:
    ron: Any
    rita: Any
    walt: Any
    unassigned: Any


@pytest.fixture
def owned(make_lead, users) -> Owned:
    """One lead each for ron and rita (team East), walt (West), and one still unassigned."""
    from leadrefinery.leads.actors import Actor
    from leadrefinery.leads.services import lead_assign

    system = Actor.system("test")

    def lead_of(user, **fields):
        return lead_assign(lead=make_lead(**fields), owner_user=user, actor=system)

    return Owned(
        ron=lead_of(users.rep, first_name="Rona", last_name="Eastman", company="Acme Tools"),
        rita=lead_of(users.rep2, first_name="Ricardo", last_name="Ishikawa", company="Birch Labs"),
        walt=lead_of(users.other_rep, first_name="Wendy", last_name="Westfall", company="Cobalt"),
        unassigned=make_lead(first_name="Ulla", last_name="Quist", company="Dune Media"),
    )


@dataclass
class FormPost:
    response: Any
    get_response: Any


@pytest.fixture
def post_form(db, frozen_now) -> Callable[..., FormPost]:
    """post_form(slug, data, wait=5, query="", **client_kwargs): load the public form page,
    let ``wait`` seconds pass on the frozen clock, then post ``data`` with the page's token."""

    def post(
        slug: str,
        data: dict[str, str],
        *,
        wait: float = 5,
        query: str = "",
        client: Client | None = None,
        **client_kwargs: Any,
    ) -> FormPost:
        client = client or Client(**client_kwargs)
        page = client.get(f"/f/{slug}/{query}")
        assert page.status_code == 200
        # What a browser sends: the hidden fields of the page (token, UTM) and the data.
        hidden = dict(HIDDEN_RE.findall(page.content.decode()))
        assert "refinery_started" in hidden, "the form page has no time-trap token"
        frozen_now.advance(timedelta(seconds=wait))
        body = {**hidden, "website_confirm": "", **data}
        return FormPost(response=client.post(f"/f/{slug}/{query}", body), get_response=page)

    return post


CONTACT = {
    "first_name": "Dana",
    "last_name": "Whitfield",
    "email": "dana.whitfield@northwind.example",
    "company": "Northwind Traders",
    "phone": "",
    "country": "Germany",
    "message": "We need 40 seats before the end of the quarter.",
}


@pytest.fixture
def partner_site() -> Iterator[Callable[[str], str]]:
    """partner_site(html) -> the URL of another web site (a real loopback server on its own
    port, so another origin) serving ``html`` at every path, as a customer's site would.

    Chromium refuses scripts from a loopback address on pages it believes are public, so
    the host page must itself come from a loopback server, not from a routed fake URL."""
    servers: list[ThreadingHTTPServer] = []

    def serve(html: str) -> str:
        body = html.encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()
