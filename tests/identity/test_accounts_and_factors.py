"""Accounts (activation, lockout, recovery) and every second factor on both databases."""

from __future__ import annotations

import pyotp
import pytest
import sqlalchemy as sa
from alembic import command as alembic_command
from sqlalchemy.orm import Session

from smartnation.app import create_app
from smartnation.cli import alembic_config
from smartnation.core.audit import AuditEvent
from smartnation.core.config import DatabaseSettings, Settings
from smartnation.core.errors import Conflict, InvalidInput, TooManyRequests
from smartnation.identity import accounts, factors, sealing
from smartnation.identity.demo import PASSWORD, PENDING
from smartnation.identity.models import Factor
from smartnation.messaging.models import Message

from .soft_authenticator import SoftAuthenticator

RP = factors.RelyingParty(rp_id="localhost", origin="http://localhost:8000")


@pytest.fixture
def db(personas):  # type: ignore[no-untyped-def]
    with personas.transaction() as session:
        yield session


def _actions(session: Session) -> list[str]:
    return list(session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))


def test_activation_letter_code_is_one_time_and_sets_an_argon2id_password(db):
    letter = accounts.issue_activation_letter(db, PENDING.nric)
    with pytest.raises(InvalidInput):
        accounts.activate(db, PENDING.nric, "WRNG-CODE", "a-long-password")
    with pytest.raises(InvalidInput) as weak:
        accounts.activate(db, PENDING.nric, letter.code, "S8812345Z-pw")
    assert weak.value.problems[0].field == "password"
    account = accounts.activate(db, PENDING.nric, letter.code.lower(), "a-long-password")
    assert account.status == "active"
    assert account.password_hash.startswith("$argon2id$v=19$m=12288,t=3,p=1$")
    with pytest.raises(InvalidInput):  # the code is spent
        accounts.activate(db, PENDING.nric, letter.code, "another-password")
    assert accounts.verify_password(db, PENDING.nric, "a-long-password").id == account.id
    assert factors.ensure_sms_factor(db, account).phone == "+6591234511"
    assert "identity.account.activated" in _actions(db)


def test_lockout_after_five_failures_never_blocks_recovery(db):
    for _ in range(accounts.MAX_FAILED_LOGINS):
        with pytest.raises(accounts.LoginRefused):
            accounts.verify_password(db, "S8012345J", "wrong password!")
    with pytest.raises(TooManyRequests):  # even the right password waits now
        accounts.verify_password(db, "S8012345J", PASSWORD)
    account = accounts.find_account(db, "S8012345J")
    assert "identity.account.locked" in _actions(db)
    # Recovery: prove the second factor, choose a new password; the lock is gone.
    totp = next(f for f in factors.factors_of(db, account) if f.kind == "totp")
    factors.verify_totp(db, account, totp, pyotp.TOTP(factors.totp_secret_of(totp)).now())
    accounts.reset_password(db, account, "a-brand-new-password")
    assert accounts.verify_password(db, "S8012345J", "a-brand-new-password").id == account.id


def test_unknown_nric_and_wrong_password_read_the_same(db):
    with pytest.raises(accounts.LoginRefused) as unknown:
        accounts.verify_password(db, "S1234567D", PASSWORD)
    with pytest.raises(accounts.LoginRefused) as wrong:
        accounts.verify_password(db, "S8012345J", "nope-nope-nope")
    assert unknown.value.message == wrong.value.message
    with pytest.raises(accounts.LoginRefused):
        accounts.verify_password(db, "not an nric", PASSWORD)


def test_totp_codes_from_pyotp_and_replay_refused(db):
    account = accounts.find_account(db, "S8012345J")
    totp = next(f for f in factors.factors_of(db, account) if f.kind == "totp")
    code = pyotp.TOTP(factors.totp_secret_of(totp)).now()
    factors.verify_totp(db, account, totp, code)
    with pytest.raises(factors.FactorRefused):
        factors.verify_totp(db, account, totp, code)  # same time step again
    with pytest.raises(factors.FactorRefused):
        factors.verify_totp(db, account, totp, "000000" if code != "000000" else "111111")


def test_totp_enrolment_needs_a_matching_code(db):
    account = accounts.find_account(db, "S7512345J")
    secret = factors.new_totp_secret()
    assert "otpauth://totp/" in factors.totp_uri(account, secret)
    with pytest.raises(InvalidInput):
        factors.add_totp_factor(db, account, secret, "123456x")
    factor = factors.add_totp_factor(db, account, secret, pyotp.TOTP(secret).now())
    assert factor.kind == "totp"


def _last_sms(db: Session, phone: str) -> str:
    body = db.scalar(
        sa.select(Message.body).where(Message.recipient == phone).order_by(Message.id.desc())
    )
    return str(body)


def test_sms_otp_goes_through_messaging_and_allows_five_tries(db):
    account = accounts.find_account(db, "S7512345J")
    sms = next(f for f in factors.factors_of(db, account) if f.kind == "sms")
    sent = factors.send_otp(db, account, sms, "login")
    body = _last_sms(db, "+6591234502")
    code = body[:6]
    assert code.isdigit() and "one-time code" in body
    assert sent.masked_phone == "+65****4502"
    challenge = db.get(factors.OtpChallenge, sent.challenge_id)
    assert code not in challenge.code_hash
    for _ in range(factors.OTP_MAX_ATTEMPTS):
        with pytest.raises(factors.FactorRefused):
            factors.verify_otp(
                db, account, sent.challenge_id, "999999" if code != "999999" else "0", "login"
            )
    with pytest.raises(factors.FactorRefused):  # the right code, too late: tries are used up
        factors.verify_otp(db, account, sent.challenge_id, code, "login")
    fresh = factors.send_otp(db, account, sms, "login")
    factors.verify_otp(db, account, fresh.challenge_id, _last_sms(db, "+6591234502")[:6], "login")
    with pytest.raises(factors.FactorRefused):  # single use
        factors.verify_otp(
            db, account, fresh.challenge_id, _last_sms(db, "+6591234502")[:6], "login"
        )


def test_sms_sending_is_rate_limited(db):
    account = accounts.find_account(db, "T0912345D")
    sms = next(f for f in factors.factors_of(db, account) if f.kind == "sms")
    for _ in range(factors.OTP_SENDS_PER_WINDOW):
        factors.send_otp(db, account, sms, "login")
    with pytest.raises(TooManyRequests):
        factors.send_otp(db, account, sms, "login")


def test_multi_user_sms_links_with_consent_and_audits_link_and_unlink(db):
    holder = accounts.find_account(db, "T0912345D")
    trusted_phone = "+6591234508"
    sent = factors.request_trusted_person(db, holder, "S6512345B")
    body = _last_sms(db, trusted_phone)
    assert "NUR AISYAH BINTE AHMAD" in body
    with pytest.raises(factors.FactorRefused):
        factors.confirm_trusted_person(
            db,
            holder,
            "S6512345B",
            sent.challenge_id,
            "000000" if body[:6] != "000000" else "111111",
        )
    link = factors.confirm_trusted_person(db, holder, "S6512345B", sent.challenge_id, body[:6])
    assert link.kind == "trusted_sms" and link.trusted_consent_at is not None
    with pytest.raises(Conflict):
        factors.link_trusted_person(
            db, holder, accounts.find_account(db, "S6512345B"), trusted_phone, via="again"
        )
    # The login code now goes to the trusted person's phone.
    factors.send_otp(db, holder, link, "login")
    assert _last_sms(db, trusted_phone)[:6].isdigit()
    factors.remove_factor(db, holder, link.id)
    actions = _actions(db)
    assert {
        "identity.trusted_person.linked",
        "identity.trusted_person.consented",
        "identity.trusted_person.unlinked",
    } <= set(actions)


def test_senior_without_phone_logs_in_with_her_trusted_person(db):
    senior = accounts.find_account(db, "S4012345H")
    (link,) = factors.factors_of(db, senior)
    assert link.kind == "trusted_sms" and link.phone == "+6591234505"
    sent = factors.send_otp(db, senior, link, "login")
    factors.verify_otp(db, senior, sent.challenge_id, _last_sms(db, "+6591234505")[:6], "login")


def test_passkey_registration_and_assertion_with_a_software_authenticator(db):
    account = accounts.find_account(db, "S7512345J")
    device = SoftAuthenticator(RP.rp_id, RP.origin)
    options, challenge = factors.passkey_registration_options(db, account, RP)
    factor = factors.add_passkey(db, account, RP, device.register(options), challenge)
    assert factor.kind == "webauthn" and factor.credential_id == device.credential_id
    options, challenge = factors.passkey_authentication_options(db, account, RP)
    used = factors.verify_passkey(db, account, RP, device.assert_(options), challenge)
    assert used.id == factor.id and used.sign_count == 1
    # A different challenge (a replayed assertion) or another origin is refused.
    options, challenge = factors.passkey_authentication_options(db, account, RP)
    with pytest.raises(factors.FactorRefused):
        factors.verify_passkey(
            db, account, RP, device.assert_(options, challenge="AAAA"), challenge
        )
    stranger = SoftAuthenticator(RP.rp_id, "https://evil.example")
    stranger.credential_id = device.credential_id
    stranger.key = device.key
    stranger.sign_count = 10
    with pytest.raises(factors.FactorRefused):
        factors.verify_passkey(db, account, RP, stranger.assert_(options), challenge)
    # The same authenticator cannot be registered twice.
    options, challenge = factors.passkey_registration_options(db, account, RP)
    with pytest.raises(Conflict):
        factors.add_passkey(db, account, RP, device.register(options), challenge)
    assert (
        db.scalar(sa.select(sa.func.count()).select_from(Factor).where(Factor.kind == "webauthn"))
        == 1
    )


def test_totp_secrets_are_sealed_at_rest_and_bound_to_their_account(db):
    account = accounts.find_account(db, "S8012345J")
    totp = next(f for f in factors.factors_of(db, account) if f.kind == "totp")
    secret = factors.totp_secret_of(totp)
    assert totp.totp_secret.startswith(sealing.PREFIX)
    assert secret not in totp.totp_secret
    with pytest.raises(sealing.SealedSecretInvalid):
        sealing.unseal(totp.totp_secret, account.id + 1)  # copied onto another account
    with pytest.raises(sealing.SealedSecretInvalid):
        sealing.unseal(totp.totp_secret[:-2] + "AA", account.id)


def test_outside_development_the_platform_refuses_the_public_sealing_key():
    production = Settings(
        environment="production", database=DatabaseSettings(url="sqlite:///:memory:")
    )
    with pytest.raises(sealing.DevelopmentKeyRefused, match="SMARTNATION_IDENTITY_TOTP_KEY"):
        create_app(production)
    with pytest.raises(sealing.DevelopmentKeyRefused):
        sealing.require_own_key("staging", sealing.DEVELOPMENT_KEY)
    sealing.require_own_key("production", "a-key-of-its-own-" + "x" * 26)  # its own key: runs
    sealing.require_own_key("development", sealing.DEVELOPMENT_KEY)  # the demo runs as before


def test_migration_0402_seals_plain_totp_secrets(tmp_path):
    url = f"sqlite:///{tmp_path / 'before.db'}"
    alembic_command.upgrade(alembic_config(url), "0401")
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO identity_factor (id, account_id, kind, label, totp_secret, sign_count,"
                " created_at) VALUES (7, 42, 'totp', 'app', :secret, 0, '2026-01-01 00:00:00')"
            ),
            {"secret": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"},
        )
    alembic_command.upgrade(alembic_config(url), "head")
    with engine.connect() as connection:
        stored = connection.execute(sa.text("SELECT totp_secret FROM identity_factor")).scalar_one()
    assert stored.startswith(sealing.PREFIX)
    assert sealing.unseal(stored, 42) == "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    alembic_command.downgrade(alembic_config(url), "0401")
    with engine.connect() as connection:
        stored = connection.execute(sa.text("SELECT totp_secret FROM identity_factor")).scalar_one()
    assert stored == "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    engine.dispose()
