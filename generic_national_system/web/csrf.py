"""CSRF tokens for every POST form.

The token is an HMAC, under the app's secret, of the browser's session cookie (or, before
sign-in, of a random `gens_anon` cookie). Another site can neither read the cookie nor compute
the HMAC, so it cannot forge a form; tying it to the session cookie means a token obtained with
someone else's session is worthless. Nothing is stored on the server.
"""

import hashlib
import hmac
import secrets

from starlette.requests import Request

SESSION_COOKIE = "gens_session"
ANON_COOKIE = "gens_anon"
FIELD = "csrf_token"
_NEW_ANON = "gens.new_anon_cookie"


def _binding(request: Request) -> str | None:
    return request.cookies.get(SESSION_COOKIE) or request.cookies.get(ANON_COOKIE)


def _sign(secret: str, binding: str) -> str:
    return hmac.new(secret.encode(), f"csrf:{binding}".encode(), hashlib.sha256).hexdigest()


def token(request: Request, secret: str) -> str:
    """The token to put in this page's forms (making the anon cookie if the browser has none)."""
    binding = _binding(request) or getattr(request.state, _NEW_ANON.replace(".", "_"), None)
    if binding is None:
        binding = secrets.token_urlsafe(32)
        setattr(request.state, _NEW_ANON.replace(".", "_"), binding)
    return _sign(secret, binding)


def new_anon_cookie(request: Request) -> str | None:
    """The anon cookie value `token` made for this response, if any (the page must set it)."""
    value: str | None = getattr(request.state, _NEW_ANON.replace(".", "_"), None)
    return value


def is_valid(request: Request, secret: str, submitted: str | None) -> bool:
    binding = _binding(request)
    if not binding or not submitted:
        return False
    return hmac.compare_digest(_sign(secret, binding), submitted)
