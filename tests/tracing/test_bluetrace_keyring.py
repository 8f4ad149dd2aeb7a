"""Key ring configuration: parsing, errors that never leak keys, the development fallback."""

from __future__ import annotations

import base64
import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smartnation.tracing.bluetrace import (
    DEVELOPMENT_KEY,
    Keyring,
    generate_key,
    keyring_from_environment,
    parse_keyring,
)
from smartnation.tracing.errors import KeyConfigurationError, TracingError

KEY_A = bytes(range(32))
KEY_B = bytes(range(32, 64))


def b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


def test_first_key_is_current_and_order_is_kept() -> None:
    ring = parse_keyring(f" {b64(KEY_A)} , {b64(KEY_B)}")
    assert ring.keys == (KEY_A, KEY_B)
    assert len(ring) == 2


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty"),
        ("   ", "empty"),
        (f"{b64(KEY_A)},", "key 2 of 2 is empty"),
        ("not base64!", "key 1 of 1 is not valid standard base64"),
        (b64(b"short"), "decodes to 5 bytes"),
        (f"{b64(KEY_A)},{b64(KEY_A)}", "key 2 of 2 repeats key 1"),
    ],
)
def test_parse_errors_are_clear(text: str, fragment: str) -> None:
    with pytest.raises(KeyConfigurationError) as raised:
        parse_keyring(text)
    assert fragment in raised.value.message


def test_errors_and_repr_never_show_key_material() -> None:
    secret = b64(KEY_A)
    with pytest.raises(KeyConfigurationError) as raised:
        parse_keyring(f"{secret},{secret}")
    assert secret not in str(raised.value)
    ring = parse_keyring(secret)
    assert secret not in repr(ring) and KEY_A.hex() not in repr(ring)
    assert repr(ring) == "Keyring(1 key)"


def test_keyring_refuses_wrong_sizes() -> None:
    with pytest.raises(KeyConfigurationError):
        Keyring(())
    with pytest.raises(KeyConfigurationError):
        Keyring((b"x" * 16,))


def test_environment_keys_win() -> None:
    configured = keyring_from_environment({"SMARTNATION_TRACING_KEYS": b64(KEY_B)})
    assert configured.keyring.keys == (KEY_B,)
    assert not configured.is_development


def test_development_key_in_development_only() -> None:
    for development in ({}, {"SMARTNATION_ENVIRONMENT": " Development "}):
        configured = keyring_from_environment(development)
        assert configured.is_development
        assert configured.keyring.keys == (DEVELOPMENT_KEY,)
    for deployed in ("production", "staging"):
        with pytest.raises(KeyConfigurationError):
            keyring_from_environment({"SMARTNATION_ENVIRONMENT": deployed})


def test_generated_keys_parse() -> None:
    assert len(parse_keyring(generate_key()).keys[0]) == 32


@given(st.text(max_size=200))
def test_any_text_parses_or_fails_cleanly(text: str) -> None:
    with contextlib.suppress(TracingError):
        parse_keyring(text)
