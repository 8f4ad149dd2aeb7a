"""Identity tables: accounts and their second factors, relying parties, consents, roles, and
what the OpenID provider must remember between requests (keys, pushed requests, codes, tokens,
used one-time values)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from smartnation.core.clock import utcnow
from smartnation.core.db import GUID, Base, BigId, UTCDateTime


class Account(Base):
    """A resident's login. `sub` is the stable opaque identifier relying parties see."""

    __tablename__ = "identity_account"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("registry_resident.id"), unique=True)
    nric: Mapped[str] = mapped_column(String(9), unique=True)
    sub: Mapped[uuid.UUID] = mapped_column(GUID, unique=True, default=uuid.uuid4)
    # pending (letter sent, not activated), active, suspended
    status: Mapped[str] = mapped_column(String(16), default="pending")
    password_hash: Mapped[str | None] = mapped_column(String(200))
    activation_code_hash: Mapped[str | None] = mapped_column(String(64))
    activation_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Factor(Base):
    """A second factor: sms (own phone), totp, webauthn (passkey) or trusted_sms (Multi-User SMS
    2FA, the OTP goes to a trusted person's phone)."""

    __tablename__ = "identity_factor"
    __table_args__ = (Index("ix_identity_factor_account", "account_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("identity_account.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(120), default="")
    phone: Mapped[str | None] = mapped_column(String(16))  # sms, trusted_sms: E.164
    # Sealed with AES-256-GCM (identity.sealing): "v1:" and base64url of nonce, ciphertext, tag.
    totp_secret: Mapped[str | None] = mapped_column(String(128))
    credential_id: Mapped[bytes | None] = mapped_column(LargeBinary, unique=True)
    public_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    sign_count: Mapped[int] = mapped_column(Integer, default=0)
    trusted_account_id: Mapped[int | None] = mapped_column(ForeignKey("identity_account.id"))
    trusted_consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OtpChallenge(Base):
    """A one-time code sent by SMS; only its hash is kept."""

    __tablename__ = "identity_otp_challenge"
    __table_args__ = (Index("ix_identity_otp_challenge_account", "account_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("identity_account.id", ondelete="CASCADE"))
    factor_id: Mapped[int | None] = mapped_column(
        ForeignKey("identity_factor.id", ondelete="CASCADE")
    )
    purpose: Mapped[str] = mapped_column(String(20))  # login, reset, trust
    code_hash: Mapped[str] = mapped_column(String(100))  # salt$sha256
    phone: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Client(Base):
    """A relying party: a government or private service that logs people in with us."""

    __tablename__ = "identity_client"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(String(500), default="")
    # singpass: people log in as themselves; corppass: as an officer of a business
    kind: Mapped[str] = mapped_column(String(16), default="singpass")
    redirect_uris: Mapped[list[str]] = mapped_column(JSON, default=list)
    jwks: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    jwks_uri: Mapped[str | None] = mapped_column(String(500))
    allowed_scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Consent(Base):
    """A person's consent to share MyInfo items with one service for one purpose."""

    __tablename__ = "identity_consent"
    __table_args__ = (Index("ix_identity_consent_account", "account_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("identity_account.id", ondelete="CASCADE"))
    client_id: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(500))
    items: Mapped[list[str]] = mapped_column(JSON, default=list)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RoleGrant(Base):
    """A role held by a public officer, for an agency."""

    __tablename__ = "identity_role_grant"
    __table_args__ = (Index("ix_identity_role_grant_account", "account_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("identity_account.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(60))
    agency: Mapped[str] = mapped_column(String(20))
    granted_by: Mapped[str] = mapped_column(String(120))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SigningKey(Base):
    """The provider's signing keys (private JWKs: protect the database as a secret store)."""

    __tablename__ = "identity_signing_key"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(10))  # next, current, previous
    created_epoch: Mapped[int] = mapped_column(BigId)
    jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    retired: Mapped[bool] = mapped_column(Boolean, default=False)


class ReplayEntry(Base):
    """A value seen once (client assertion jti, DPoP jti, redeemed code) until it expires."""

    __tablename__ = "identity_replay"

    namespace: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(320), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class PushedRequest(Base):
    """A validated pushed authorisation request, waiting for the browser (60 s, single use)."""

    __tablename__ = "identity_pushed_request"

    request_uri_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class AuthorizationCode(Base):
    """An issued authorisation code, by hash (60 s, single use)."""

    __tablename__ = "identity_authorization_code"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("identity_account.id", ondelete="CASCADE"))
    grant: Mapped[dict[str, Any]] = mapped_column(JSON)
    consent_id: Mapped[int | None] = mapped_column(BigId)
    entity_uen: Mapped[str | None] = mapped_column(String(10))
    entity_role: Mapped[str | None] = mapped_column(String(40))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class AccessToken(Base):
    """A DPoP-bound access token, by hash."""

    __tablename__ = "identity_access_token"
    __table_args__ = (Index("ix_identity_access_token_code", "code_hash"),)

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("identity_account.id", ondelete="CASCADE"))
    client_id: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    jkt: Mapped[str] = mapped_column(String(64))
    code_hash: Mapped[str] = mapped_column(String(64))
    consent_id: Mapped[int | None] = mapped_column(BigId)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
