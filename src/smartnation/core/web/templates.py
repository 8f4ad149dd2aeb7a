"""Server-rendered pages: one Jinja2 environment over the templates of core and every domain."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, PackageLoader, select_autoescape

from smartnation.core import i18n
from smartnation.core.clock import to_singapore
from smartnation.core.web.auth import current_principal
from smartnation.core.web.csrf import csrf_token


@dataclass(frozen=True)
class ServiceLink:
    """A service listed on the home page."""

    title: str
    description: str
    href: str
    icon: str = ""


def _sgt(value: Any, fmt: str = "%d %b %Y, %I:%M %p") -> str:
    return to_singapore(value).strftime(fmt) if value is not None else ""


class Templates:
    """Renders templates with the request's language, principal and CSRF token in reach."""

    def __init__(self, packages: list[str]) -> None:
        loaders = [
            PackageLoader(package, "templates")
            for package in packages
            if resources.files(package).joinpath("templates").is_dir()
        ]
        self.env = Environment(
            loader=ChoiceLoader(loaders),
            autoescape=select_autoescape(["html", "xml"]),
            extensions=["jinja2.ext.i18n"],
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.install_gettext_callables(  # type: ignore[attr-defined]
            i18n.gettext_, i18n.ngettext_, newstyle=True
        )
        self.env.filters["sgt"] = _sgt
        self.env.globals["languages"] = i18n.LANGUAGES
        self.services: list[ServiceLink] = []

    def render(
        self,
        request: Request,
        name: str,
        context: dict[str, Any] | None = None,
        *,
        status_code: int = 200,
        headers: dict[str, str] | None = None,
    ) -> HTMLResponse:
        """A page in the request's language."""
        page_context = {
            "request": request,
            "lang": i18n.current_language.get(),
            "principal": current_principal(request),
            "csrf_token": lambda: csrf_token(request),
            "services": self.services,
            **(context or {}),
        }
        html = self.env.get_template(name).render(page_context)
        return HTMLResponse(html, status_code=status_code, headers=headers)


def get_templates(request: Request) -> Templates:
    templates: Templates = request.app.state.templates
    return templates
