"""Every page text is translated into Chinese, Malay and Tamil, and catalogues are up to date."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from smartnation.core import i18n

SRC = Path(__file__).resolve().parents[2] / "src" / "smartnation"
ROOT = SRC.parents[1]
PACKAGES = sorted(p.name for p in SRC.iterdir() if (p / "__init__.py").exists())


def _extract(package: str, tmp_path: Path, folder: str = "") -> set[str]:
    out = tmp_path / f"{package}.pot"
    subprocess.run(
        [
            str(Path(sys.executable).with_name("pybabel")),
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_",
            "-k",
            "N_",
            "--no-location",
            "-o",
            str(out),
            str(SRC / package / folder),
        ],
        check=True,
        capture_output=True,
        cwd=ROOT,
    )
    with out.open("rb") as handle:
        return {str(m.id) for m in read_po(handle) if m.id}


@pytest.mark.parametrize("package", PACKAGES)
def test_catalogues_hold_every_message_translated(package: str, tmp_path: Path) -> None:
    messages = _extract(package, tmp_path)
    if not messages:
        return
    for language in ("zh", "ms", "ta"):
        po_file = SRC / package / "locale" / language / "LC_MESSAGES" / "messages.po"
        assert po_file.exists(), f"run `make messages` and translate {po_file}"
        with po_file.open("rb") as handle:
            catalogue = {str(m.id): m.string for m in read_po(handle) if m.id}
        missing = sorted(m for m in messages if not catalogue.get(m))
        assert missing == [], (
            f"{package} [{language}] untranslated (run `make messages`): {missing}"
        )


PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def _formats(message: str) -> bool:
    """Whether `message % {...}` works, as Jinja's new-style gettext always applies it."""
    try:
        message % dict.fromkeys(PLACEHOLDER.findall(message), "x")
    except (ValueError, TypeError, KeyError):
        return False
    return True


@pytest.mark.parametrize("package", PACKAGES)
def test_page_texts_and_their_translations_format(package: str, tmp_path: Path) -> None:
    """A page text is %-formatted even without variables: a lone `%` must be written `%%`."""
    if not (SRC / package / "templates").is_dir():
        return
    page_texts = _extract(package, tmp_path, "templates")
    broken = sorted(m for m in page_texts if not _formats(m))
    assert broken == [], f"{package}: write a literal % as %% in {broken}"
    for language in ("zh", "ms", "ta"):
        po_file = SRC / package / "locale" / language / "LC_MESSAGES" / "messages.po"
        if not po_file.exists():
            continue
        with po_file.open("rb") as handle:
            for message in read_po(handle):
                if str(message.id) not in page_texts or not message.string:
                    continue
                wanted = set(PLACEHOLDER.findall(str(message.id)))
                found = set(PLACEHOLDER.findall(str(message.string)))
                assert _formats(str(message.string)) and found == wanted, (
                    f"{package} [{language}] translation of {message.id!r} breaks its "
                    f"placeholders {sorted(wanted)}: {message.string!r}"
                )


def test_language_negotiation() -> None:
    assert i18n.negotiate("ta-SG,ta;q=0.9") == "ta"
    assert i18n.negotiate("fr-FR,zh-CN;q=0.5,en;q=0.4") == "zh"
    assert i18n.negotiate("fr") == "en"
    assert i18n.negotiate(None) == "en"
    assert i18n.negotiate("en;q=bogus, ms") == "ms"
