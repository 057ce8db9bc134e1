"""Bearer-token authentication for the REST API, with one required scope per operation.

``Authorization: Bearer lr_...`` is checked against the stored SHA-256 of each token
(``accounts.services.token_authenticate``). A missing or unknown token answers 401; a valid
token without the operation's scope answers 403, so a client can tell "who are you?" from
"you may not".
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja.errors import AuthenticationError, AuthorizationError
from ninja.security import HttpBearer

from .models import ApiToken, User
from .services import ALL_SCOPES, token_authenticate


class TokenAuth(HttpBearer):
    """``TokenAuth("leads:read")``: a bearer token that carries the given scope.

    On success ``request.auth`` is the :class:`ApiToken` and ``request.user`` its user, so the
    guarded reads (``visible_to``) see exactly what that user would see in the UI.
    """

    def __init__(self, scope: str) -> None:
        if scope not in ALL_SCOPES:
            raise ValueError(f"unknown scope {scope!r}")
        self.scope = scope
        super().__init__()

    def __call__(self, request: HttpRequest) -> ApiToken:
        value = request.headers.get(self.header, "")
        scheme, _, secret = value.strip().partition(" ")
        if not value:
            raise AuthenticationError(
                message="Authentication required: send 'Authorization: Bearer <token>' "
                "(create a token with `refinery token create --user NAME`)."
            )
        if scheme.lower() != "bearer" or not secret.strip():
            raise AuthenticationError(message="The Authorization header must be 'Bearer <token>'.")
        return self.authenticate(request, secret.strip())

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken:
        found = token_authenticate(token) if _is_plain(token) else None
        if found is None:
            raise AuthenticationError(message="The token is unknown, revoked or its user inactive.")
        if self.scope not in (found.scopes or []):
            raise AuthorizationError(
                message=f"This token lacks the '{self.scope}' scope "
                f"(it has: {', '.join(found.scopes) or 'none'})."
            )
        request.user = found.user
        return found


def _is_plain(secret: str) -> bool:
    # Tokens are URL-safe ASCII; anything else cannot match, and must not reach the database
    # (NUL bytes or lone surrogates make the driver fail instead of simply not matching).
    return secret.isascii() and secret.isprintable() and len(secret) <= 200


def token_user(request: HttpRequest) -> User:
    """The user of the request's token (after ``TokenAuth`` let it in)."""
    return request.auth.user  # type: ignore[attr-defined,no-any-return]
