"""Server-rendered pages: one Jinja environment per language, gettext installed in each.

A page is HTML and one small stylesheet: no scripts, no fonts, no frameworks, so it works in any
browser and stays light (tests/gens measure each main page under 50 KB).
"""

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from generic_national_system.accounts.roles import ROLE_LABELS, Permission, Role, can
from generic_national_system.certificates.states import RULES, STATE_LABELS, Action, State
from generic_national_system.i18n import LANGUAGE_NAMES, LANGUAGES, supported, translations
from generic_national_system.imports.states import RECEIVED_LABELS
from generic_national_system.web import csrf
from generic_national_system.web.choices import CodeListChoices
from generic_national_system.web.forms import Message

PACKAGE_DIR: Final = Path(__file__).resolve().parent.parent
TEMPLATES_DIR: Final = PACKAGE_DIR / "templates"
STATIC_DIR: Final = PACKAGE_DIR / "static"


def _static_version() -> str:
    """A content hash in the stylesheet URL: browsers may cache it for a year."""
    digest = hashlib.sha256((STATIC_DIR / "gens.css").read_bytes()).hexdigest()
    return digest[:12]


class Templates:
    def __init__(self, *, choices: CodeListChoices, secret: str, secure_cookies: bool) -> None:
        self._choices = choices
        self._secret = secret
        self.secure_cookies = secure_cookies
        self._environments = {lang: self._environment(lang) for lang in LANGUAGES}
        self.css_url = f"/static/gens.css?v={_static_version()}"

    def _environment(self, language: str) -> Environment:
        env = Environment(
            loader=FileSystemLoader(TEMPLATES_DIR),
            autoescape=select_autoescape(default=True),
            undefined=StrictUndefined,
            extensions=["jinja2.ext.i18n"],
            trim_blocks=True,
            lstrip_blocks=True,
        )
        catalogue = translations(language)
        env.install_gettext_translations(catalogue, newstyle=True)  # type: ignore[attr-defined]
        choices = self._choices
        gettext = catalogue.gettext
        env.globals.update(
            lang=language,
            language_names=LANGUAGE_NAMES,
            options=lambda name: choices.options(name, language),
            label=lambda name, code: choices.label(name, code, language) if code else "",
            msg=lambda message: message.translate(gettext) if isinstance(message, Message) else "",
            state_label=lambda state: gettext(STATE_LABELS[State(state)]),
            role_label=lambda role: gettext(ROLE_LABELS[Role(role)]),
            received_label=lambda state: (
                gettext(RECEIVED_LABELS[state]) if state in RECEIVED_LABELS else str(state)
            ),
            action_label=lambda action: gettext(RULES[Action(action)].label),
            action_help=lambda action: gettext(RULES[Action(action)].help),
            can=lambda viewer, permission: (
                viewer is not None and can(viewer.role, Permission(permission))
            ),
        )
        return env

    def render(
        self,
        request: Request,
        name: str,
        context: Mapping[str, Any] | None = None,
        *,
        language: str,
        status_code: int = 200,
    ) -> HTMLResponse:
        language = supported(language)
        template = self._environments[language].get_template(name)
        values = {
            "viewer": getattr(request.state, "viewer", None),
            "csrf_token": csrf.token(request, self._secret),
            "css_url": self.css_url,
            "path": request.url.path,
            **(context or {}),
        }
        response = HTMLResponse(template.render(values), status_code=status_code)
        anon = csrf.new_anon_cookie(request)
        if anon is not None:
            response.set_cookie(
                csrf.ANON_COOKIE,
                anon,
                httponly=True,
                samesite="lax",
                secure=self.secure_cookies,
            )
        return response
