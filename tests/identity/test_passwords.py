"""Password hashes: libsodium's Argon2id against argon2-cffi (the reference implementation's
Python binding) in both directions, old parameters re-hashed at login, odd input never raising."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher, Type
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smartnation.identity import accounts, passwords
from smartnation.identity.demo import PASSWORD

REFERENCE = PasswordHasher(
    time_cost=passwords.TIME_COST,
    memory_cost=passwords.MEMORY_KIB,
    parallelism=passwords.PARALLELISM,
)
# Slow hashes: few examples, no deadline.
FEW = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def test_a_hash_carries_the_parameters_in_use_and_a_fresh_salt():
    first, second = (passwords.hash_password("correct horse battery") for _ in range(2))
    assert first.startswith("$argon2id$v=19$m=12288,t=3,p=1$")
    assert first != second  # salted
    assert not passwords.needs_rehash(first)
    assert passwords.password_matches(first, "correct horse battery")
    assert not passwords.password_matches(first, "correct horse batterY")


def test_hashes_made_here_verify_with_the_reference_binding_and_back():
    ours = passwords.hash_password("pässwörd-ünïcode-密码")
    assert REFERENCE.verify(ours, "pässwörd-ünïcode-密码")
    theirs = REFERENCE.hash("pässwörd-ünïcode-密码")
    assert passwords.password_matches(theirs, "pässwörd-ünïcode-密码")
    assert not passwords.password_matches(theirs, "pässwörd-ünïcode-密")


@pytest.mark.parametrize(
    "hasher",
    [
        PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1),  # OWASP's other one
        PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=4),  # several lanes
        PasswordHasher(time_cost=2, memory_cost=8 * 1024, parallelism=1, type=Type.I),
    ],
    ids=["m19-t2", "four-lanes", "argon2i"],
)
def test_hashes_with_other_parameters_verify_and_ask_to_be_rehashed(hasher):
    stored = hasher.hash("an older password")
    assert passwords.password_matches(stored, "an older password")
    assert not passwords.password_matches(stored, "an older passwore")
    assert passwords.needs_rehash(stored)


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "garbage",
        "$argon2id$v=19$m=12288,t=3,p=1$",
        "$argon2id$v=19$m=12288,t=3,p=1$AAAA$BBBB",
        "$2b$12$abcdefghijklmnopqrstuuJ1yWvPqT7Q9wz3Xr5o7nB2fJ8k6C9Gy",
        "ü-not-ascii",
    ],
)
def test_a_malformed_or_foreign_stored_value_is_a_mismatch_not_an_error(stored):
    assert passwords.password_matches(stored, "anything at all") is False


@FEW
@given(st.text(max_size=40))
def test_any_text_round_trips_and_a_changed_one_does_not(password):
    stored = passwords.hash_password(password)
    assert passwords.password_matches(stored, password)
    assert not passwords.password_matches(stored, password + "x")


def test_a_login_rehashes_an_older_hash_with_the_parameters_in_use(personas):
    old = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1).hash(PASSWORD)
    with personas.transaction() as session:
        account = accounts.find_account(session, "S8012345J")
        assert account is not None
        account.password_hash = old
        session.flush()
        assert accounts.verify_password(session, "S8012345J", PASSWORD).id == account.id
        assert account.password_hash.startswith(passwords.CURRENT_PREFIX)
        assert accounts.verify_password(session, "S8012345J", PASSWORD).id == account.id
