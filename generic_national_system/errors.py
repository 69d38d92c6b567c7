"""GeNS's domain errors: services raise these, the web layer renders them as HTML pages.

Each carries an HTTP status and a stable code; `message` is the English developer text, and
`user_message` (a translatable msgid) what the page tells the person.
"""

from typing import ClassVar

from generic_national_system.i18n import N_


class GensError(Exception):
    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    user_message: ClassVar[str] = N_("The request could not be carried out.")

    def __init__(self, message: str = "") -> None:
        super().__init__(message or self.code)
        self.message = message or self.code


class LoginRequired(GensError):
    status = 401
    code = "login_required"
    user_message = N_("Please sign in.")


class Forbidden(GensError):
    status = 403
    code = "forbidden"
    user_message = N_("Your role does not allow this action.")


class CsrfFailed(GensError):
    status = 403
    code = "csrf_failed"
    user_message = N_(
        "This form has expired or did not come from this site. Go back, reload the page and "
        "try again."
    )


class NotFound(GensError):
    """Unknown, or belonging to another tenant (we never say which)."""

    status = 404
    code = "not_found"
    user_message = N_("This page does not exist or is not visible to you.")


class InvalidTransition(GensError):
    status = 409
    code = "invalid_transition"
    user_message = N_("This action is not possible in the certificate's current state.")


class PayloadTooLarge(GensError):
    status = 413
    code = "payload_too_large"
    user_message = N_("The file is too large.")


class HubUnavailable(GensError):
    """The hub could not be reached or answered with a server error: try again later."""

    status = 502
    code = "hub_unavailable"
    user_message = N_("The ePhyto hub cannot be reached just now. Try again in a few minutes.")
