"""The pages' Jinja environment: our templates, then the NHS.UK components' macros.

It is its own environment, apart from the printable report's (``reports.page``): the
``nhsuk-frontend-jinja`` macros need ``ChainableUndefined`` (an option left out reads as
empty), which would hide mistakes in the report's templates.
"""

from functools import cache
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import ChainableUndefined, ChoiceLoader, Environment, PackageLoader

from api.web.navigation import header_items
from api.web.security import CSRF_FIELD, csrf_token_for, set_sign_in_cookie
from api.web.words import local_date, local_time, nhs_number
from core.settings import Settings

SERVICE_NAME = "Social prescribing referrals"
STATIC_URL = "/static"
NHSUK_FRONTEND_URL = f"{STATIC_URL}/nhsuk-frontend"


@cache
def environment() -> Environment:
    env = Environment(
        loader=ChoiceLoader(
            [PackageLoader("api.web", "templates"), PackageLoader("nhsuk_frontend_jinja")]
        ),
        undefined=ChainableUndefined,
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters["local_date"] = local_date
    env.filters["local_time"] = local_time
    env.filters["nhs_number"] = nhs_number
    return env


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A page for this request: the layout gets who is signed in, their navigation, the
    form token and the script nonce, so a page's own template needs only its own data."""
    settings: Settings = request.app.state.settings
    principal = getattr(request.state, "principal", None)
    csrf_token, new_sign_in_cookie = csrf_token_for(request, settings)
    errors: dict[str, str] = context.get("errors") or {}
    html = (
        environment()
        .get_template(template)
        .render(
            request_path=request.url.path,
            principal=principal,
            navigation=header_items(principal, request.url.path),
            service_name=SERVICE_NAME,
            csrf_field=CSRF_FIELD,
            csrf_token=csrf_token,
            cspNonce=request.state.csp_nonce,
            assetPath=f"{NHSUK_FRONTEND_URL}/assets",
            nhsuk_frontend=NHSUK_FRONTEND_URL,
            static=STATIC_URL,
            # Each error links to its field, whose id is the error's key.
            error_list=[{"text": text, "href": f"#{field}"} for field, text in errors.items()],
            **context,
        )
    )
    response = HTMLResponse(html, status_code=status_code)
    if new_sign_in_cookie is not None:
        set_sign_in_cookie(response, new_sign_in_cookie, settings)
    return response
