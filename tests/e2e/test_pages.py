"""The pages as a person sees them in Chromium: four languages, WCAG 2.2 AA by axe-core, phones."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from smartnation.core import i18n

pytestmark = pytest.mark.browser

# Characters only text in each language has: a page in Chinese or Tamil is written in its script.
SCRIPTS = {"zh": re.compile(r"[\u4e00-\u9fff]"), "ta": re.compile(r"[\u0b80-\u0bff]")}
# Strings of the shell every page shows, checked in each language against the catalogues.
SHELL_TEXT = (
    "Government services in one place",
    "A Singapore Government Agency Website",
    "smartnation is open-source software for digital government services.",
)


def _expected(code: str, message: str) -> str:
    return i18n.translations(code).gettext(message)


@pytest.mark.parametrize("code", ["zh", "ms", "ta", "en"])
def test_home_page_in_each_language_through_the_switcher(
    page: Any, code: str, check_accessibility: Any
) -> None:
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "en"
    native = next(language.native_name for language in i18n.LANGUAGES if language.code == code)
    # Choose the language like a person would: from the switcher, by its name in its own script.
    switcher = page.get_by_role("navigation", name=_expected("en", "Language"))
    if code == "en":  # switch away first, so that English is a real change back
        switcher.get_by_role("link", name="Melayu").click()
        page.wait_for_load_state()
        switcher = page.get_by_role("navigation", name=_expected("ms", "Language"))
    switcher.get_by_role("link", name=native, exact=True).click()
    page.wait_for_load_state()

    assert page.locator("html").get_attribute("lang") == code
    assert page.get_by_role("heading", level=1).inner_text() == _expected(code, SHELL_TEXT[0])
    visible = page.locator("body").inner_text()
    for message in SHELL_TEXT[1:]:
        assert _expected(code, message) in visible
    if code in SCRIPTS:
        main = page.locator("main").inner_text()
        assert len(SCRIPTS[code].findall(main)) > 20, main
    if code != "en":
        assert "Government services in one place" not in visible
    current = page.locator("[aria-current='true']")
    assert current.inner_text() == native
    check_accessibility(page, f"the home page in {native}")


def test_not_found_page_is_accessible_and_helpful(page: Any, check_accessibility: Any) -> None:
    response = page.goto("/no-such-page")
    assert response.status == 404
    assert page.get_by_role("heading", level=1).is_visible()
    assert page.get_by_role("link", name="Go to the home page").is_visible()
    check_accessibility(page, "the page-not-found page")


def test_accessibility_statement_is_accessible(page: Any, check_accessibility: Any) -> None:
    response = page.goto("/accessibility")
    assert response.status == 200
    assert "400%" in page.locator("main").inner_text()
    check_accessibility(page, "the accessibility statement")


def test_registry_lookup_page_is_accessible(
    page: Any, live_server: Any, check_accessibility: Any
) -> None:
    # An officer's session, as a login would leave it (there is no login page in the core).
    officer = {
        "kind": "person",
        "id": "officer-1",
        "name": "TAN AH HUAT",
        "roles": ["registry.read"],
    }
    page.context.add_cookies([live_server.session_cookie(officer)])
    page.goto("/registry")
    assert page.get_by_role("heading", level=1).inner_text() == "Registry lookup"
    check_accessibility(page, "the registry lookup page")

    # A wrong check letter: the field says what is wrong, and the error state is accessible too.
    nric, name = live_server.query("SELECT nric, name FROM registry_resident ORDER BY id LIMIT 1")[
        0
    ]
    wrong = nric[:-1] + ("A" if nric[-1] != "A" else "B")
    field = page.get_by_label("NRIC or FIN")
    field.fill(wrong)
    page.get_by_role("button", name="Look up").click()
    page.wait_for_load_state()
    assert page.get_by_label("NRIC or FIN").get_attribute("aria-invalid") == "true"
    assert page.locator("#nric-error").is_visible()
    check_accessibility(page, "the registry lookup page showing an error")

    page.get_by_label("NRIC or FIN").fill(nric.lower())
    page.get_by_role("button", name="Look up").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=2).inner_text() == name
    check_accessibility(page, "the registry lookup page showing a resident")


@pytest.mark.parametrize(
    ("label", "width", "height"), [("mobile", 375, 812), ("desktop", 1280, 900)]
)
def test_home_page_fits_phones_and_desktops(
    page: Any, label: str, width: int, height: int, tmp_path_factory: pytest.TempPathFactory
) -> None:
    page.set_viewport_size({"width": width, "height": height})
    page.goto("/")
    # No sideways scrolling (WCAG 1.4.10 reflow) and the services are on screen.
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"the page is {scroll_width}px wide in a {width}px window"
    assert page.locator(".service-card").first.is_visible()
    # The design system's styles are applied (the page is not unstyled HTML).
    font = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert font and font != "Times New Roman", font
    folder = Path(tmp_path_factory.getbasetemp()) / "screenshots"
    folder.mkdir(exist_ok=True)
    page.screenshot(path=str(folder / f"home-{label}.png"), full_page=True)
