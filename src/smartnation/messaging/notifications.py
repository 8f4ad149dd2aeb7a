"""Notification templates: the fixed texts other domains send (one-time passwords, reminders).

A template has a text per language with `{named}` variables. Variables are checked before
anything is sent: a missing or unknown variable is refused, never sent half-filled.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field

from smartnation.core.errors import FieldProblem, InvalidInput, NotFound
from smartnation.core.i18n import LANGUAGE_CODES

_FORMATTER = string.Formatter()


@dataclass(frozen=True)
class NotificationTemplate:
    """A named message with a text in each of the four languages."""

    name: str
    texts: dict[str, str]
    subject: dict[str, str] = field(default_factory=dict)
    # The approved provider template (WhatsApp requires one outside the 24-hour window).
    whatsapp_template: str | None = None

    def __post_init__(self) -> None:
        missing = sorted(LANGUAGE_CODES - set(self.texts))
        if missing:
            raise ValueError(f"template {self.name} has no text in {', '.join(missing)}")
        names = {self._variables(text) for text in self.texts.values()}
        if len(names) != 1:
            raise ValueError(f"template {self.name} uses different variables across languages")

    @staticmethod
    def _variables(text: str) -> frozenset[str]:
        return frozenset(name for _, name, _, _ in _FORMATTER.parse(text) if name)

    @property
    def variables(self) -> frozenset[str]:
        return self._variables(self.texts["en"])

    def render(self, language: str, variables: dict[str, str]) -> str:
        """The text in `language` with `variables` filled in, after checking them."""
        given = set(variables)
        problems = [
            FieldProblem(f"variables.{name}", "This template needs this variable.", "missing")
            for name in sorted(self.variables - given)
        ] + [
            FieldProblem(f"variables.{name}", "This template has no such variable.", "unknown")
            for name in sorted(given - self.variables)
        ]
        if problems:
            raise InvalidInput(problems)
        return self.texts.get(language, self.texts["en"]).format_map(
            {key: str(value) for key, value in variables.items()}
        )


TEMPLATES: dict[str, NotificationTemplate] = {}


def register(template: NotificationTemplate) -> NotificationTemplate:
    TEMPLATES[template.name] = template
    return template


def get(name: str) -> NotificationTemplate:
    template = TEMPLATES.get(name)
    if template is None:
        raise NotFound(f"There is no notification template named {name}.")
    return template
