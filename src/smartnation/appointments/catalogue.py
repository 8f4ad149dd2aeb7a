"""Vaccines and the screening questionnaire, read from the package's data files.

Policy lives in `data/vaccines.json` and `data/screening.json`, not in code branches: adding a
vaccine or a question is an edit to a data file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from importlib import resources
from typing import Any

from smartnation.core.errors import FieldProblem, InvalidInput, NotFound
from smartnation.core.i18n import N_


@dataclass(frozen=True)
class Vaccine:
    """A vaccine's rules: who may have it, and when the second dose falls."""

    code: str
    name: str
    snomed: str
    min_age: int
    consent_below_age: int
    second_dose_days: int
    window_min_days: int
    window_max_days: int

    def second_dose_window(self, first_day: date) -> tuple[date, date]:
        """The first and last day a second dose may be given after a first on `first_day`."""
        return (
            first_day + timedelta(days=self.window_min_days),
            first_day + timedelta(days=self.window_max_days),
        )


@dataclass(frozen=True)
class Question:
    """A screening question; `on_yes` is "refuse" or "route" (to `route_to` centre kinds)."""

    code: str
    text: dict[str, str]
    on_yes: str
    route_to: tuple[str, ...] = ()

    def text_in(self, language: str) -> str:
        return self.text.get(language) or self.text["en"]


@dataclass(frozen=True)
class ScreeningOutcome:
    """What the answers mean: refused, or eligible at some centre kinds (empty: all)."""

    refused: bool
    route_to: tuple[str, ...]

    @property
    def label(self) -> str:
        if self.refused:
            return "refused"
        return "route:" + ",".join(self.route_to) if self.route_to else "eligible"


def _read(name: str) -> Any:
    return json.loads(resources.files(__package__).joinpath("data", name).read_text("utf-8"))


@cache
def vaccines() -> dict[str, Vaccine]:
    """Every vaccine offered, by code."""
    return {row["code"]: Vaccine(**row) for row in _read("vaccines.json")["vaccines"]}


def vaccine(code: str) -> Vaccine:
    try:
        return vaccines()[code]
    except KeyError:
        raise NotFound(f"No vaccine has the code {code}.") from None


@cache
def questions() -> tuple[Question, ...]:
    """The screening questionnaire, in order."""
    return tuple(
        Question(
            code=row["code"],
            text=row["text"],
            on_yes=row["on_yes"],
            route_to=tuple(row.get("route_to", ())),
        )
        for row in _read("screening.json")["questions"]
    )


def screen(answers: dict[str, bool]) -> ScreeningOutcome:
    """Apply the questionnaire to a person's answers; every question must be answered."""
    missing = [q.code for q in questions() if q.code not in answers]
    if missing:
        raise InvalidInput(
            [FieldProblem(code, N_("Please answer yes or no."), "required") for code in missing]
        )
    refused = False
    routes: set[str] | None = None
    for question in questions():
        if not answers[question.code]:
            continue
        if question.on_yes == "refuse":
            refused = True
        elif question.on_yes == "route":
            kinds = set(question.route_to)
            routes = kinds if routes is None else routes & kinds
    if routes is not None and not routes:
        refused = True  # routed to kinds of centre that have nothing in common
    return ScreeningOutcome(refused=refused, route_to=tuple(sorted(routes or ())))
