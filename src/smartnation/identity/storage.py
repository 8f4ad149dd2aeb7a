"""What the protocol core asks to remember, kept in the database so any number of web processes
share it: used one-time values (replay guard) and the provider's signing keys."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any, Final
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Engine, bindparam, delete, func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from smartnation.core import audit
from smartnation.core.clock import utcnow
from smartnation.core.db import UTCDateTime
from smartnation.identity import throttle
from smartnation.identity.models import (
    AccessToken,
    AuthorizationCode,
    OtpChallenge,
    PushedRequest,
    ReplayEntry,
    SigningKey,
)
from smartnation.identity.oidc.keys import ProviderKeyring


class DatabaseReplayGuard:
    """`ReplayGuard` over a table with a unique key: the first insert wins, across processes.

    One statement per value: an insert that, on a clash, only takes over an entry that has
    expired. It affects one row when the value is new (or its old entry expired) and none when
    it is still in use; on PostgreSQL a concurrent insert of the same value waits for the first
    to commit and then sees it, so exactly one wins.
    """

    def __init__(self, session: Session) -> None:
        self.session = session

    def first_use(self, namespace: str, key: str, expires_at: datetime) -> bool:
        connection = self.session.connection()
        statement = _FIRST_USE[connection.dialect.name == "postgresql"]
        values = {"namespace": namespace, "key": key, "expires_at": expires_at, "now": utcnow()}
        return connection.execute(statement, values).first() is not None


def _first_use_statement(insert: Any) -> Any:
    table = ReplayEntry.__table__
    statement = insert(table).values(
        namespace=bindparam("namespace"), key=bindparam("key"), expires_at=bindparam("expires_at")
    )
    # RETURNING rather than rowcount, which psycopg leaves at -1 for this statement.
    return statement.on_conflict_do_update(
        index_elements=[table.c.namespace, table.c.key],
        set_={"expires_at": statement.excluded.expires_at},
        where=table.c.expires_at <= bindparam("now", type_=UTCDateTime()),
    ).returning(table.c.key)


# Built once: constructing the statement costs more than running it.
_FIRST_USE: Final = {
    False: _first_use_statement(sqlite_insert),
    True: _first_use_statement(postgresql_insert),
}


def purge_expired(session: Session) -> dict[str, int]:
    """Delete replay entries, pushed requests, codes, tokens and OTPs past their expiry, and
    the failed-login counts of windows that have ended."""
    now = utcnow()
    counts = {}
    for name, model in (
        ("replay", ReplayEntry),
        ("pushed_requests", PushedRequest),
        ("codes", AuthorizationCode),
        ("access_tokens", AccessToken),
        ("otp_challenges", OtpChallenge),
    ):
        result = session.execute(delete(model).where(model.expires_at < now))
        counts[name] = int(getattr(result, "rowcount", 0) or 0)
    counts["login_failure_windows"] = throttle.purge_expired(session)
    return counts


def _ring_from_rows(rows: list[SigningKey]) -> ProviderKeyring:
    return ProviderKeyring.from_dict(
        {
            "keys": [
                {"state": row.state, "created_at": row.created_epoch, "jwk": row.jwk}
                for row in rows
            ]
        }
    )


# Parsed rings by their (kid, state) pairs: parsing private keys costs more than the query.
_RING_CACHE: dict[frozenset[tuple[str, str]], ProviderKeyring] = {}

# The ring each database was last seen to hold, and until when it is used without asking again:
# every token and userinfo answer needs it. A rotation by another process is seen within this
# time, and is safe meanwhile: the key that was current stays published as "previous", and the
# new current key was published as "next" one rotation before.
RING_RECHECK_SECONDS: Final = 5.0
# Only a ring read back is kept, never one just created (its transaction may yet roll back).
_RECENT_RING: WeakKeyDictionary[Engine | Connection, tuple[float, ProviderKeyring]] = (
    WeakKeyDictionary()
)


# Any constant: the PostgreSQL advisory lock that serialises creating the first key ring.
_KEYRING_LOCK = 0x1D_4B_E7


# Built once: every token and userinfo answer runs it, and building costs more than running.
_LIVE_STATES: Final = select(SigningKey.kid, SigningKey.state).where(SigningKey.retired.is_(False))


def _live_states(session: Session) -> frozenset[tuple[str, str]]:
    return frozenset((kid, state) for kid, state in session.execute(_LIVE_STATES))


def load_keyring(session: Session, *, fresh: bool = False) -> ProviderKeyring:
    """The provider's key ring (as read at most `RING_RECHECK_SECONDS` ago, unless `fresh`);
    a new one is created and stored on first use."""
    bind = session.get_bind()
    assert isinstance(bind, Engine | Connection)
    recent = None if fresh else _RECENT_RING.get(bind)
    if recent is not None and time.monotonic() < recent[0]:
        return recent[1]
    _RECENT_RING.pop(bind, None)
    states = _live_states(session)
    if not states and session.connection().dialect.name == "postgresql":
        # Two processes starting together would each store a ring of their own; the second to
        # take the lock finds the first one's keys instead. (SQLite transactions here begin
        # IMMEDIATE, which already serialises them.)
        session.execute(select(func.pg_advisory_xact_lock(_KEYRING_LOCK)))
        states = _live_states(session)
    if states:
        ring = _RING_CACHE.get(states)
        if ring is None:
            rows = session.scalars(select(SigningKey).where(SigningKey.retired.is_(False)))
            ring = _ring_from_rows(list(rows))
            _RING_CACHE.clear()
            _RING_CACHE[states] = ring
        _RECENT_RING[bind] = (time.monotonic() + RING_RECHECK_SECONDS, ring)
        return ring
    ring = ProviderKeyring.generate()
    _store_ring(session, ring)
    audit.record(
        session,
        "identity.keys.created",
        subject_type="identity_keyring",
        subject_id=ring.current.kid,
        details={"kids": [k.kid for k in ring.keys]},
    )
    return ring


def _store_ring(session: Session, ring: ProviderKeyring) -> None:
    data = ring.to_dict()
    kept = {entry["jwk"]["kid"] for entry in data["keys"]}
    for row in session.scalars(select(SigningKey)):
        if row.kid not in kept:
            row.retired = True
            row.state = "retired"
    for entry in data["keys"]:
        kid = entry["jwk"]["kid"]
        existing = session.get(SigningKey, kid)
        if existing is None:
            session.add(
                SigningKey(
                    kid=kid,
                    state=entry["state"],
                    created_epoch=entry["created_at"],
                    jwk=entry["jwk"],
                    retired=False,
                )
            )
        else:
            existing.state = entry["state"]
    session.flush()


def rotate_keys(session: Session) -> ProviderKeyring:
    """Promote the pre-published next key, keep the old current as previous, publish a new
    next. Rotate no more often than token lifetime plus relying parties' JWKS cache time."""
    before = load_keyring(session, fresh=True)
    after = before.rotate()
    _store_ring(session, after)
    _RECENT_RING.pop(session.get_bind(), None)
    audit.record(
        session,
        "identity.keys.rotated",
        subject_type="identity_keyring",
        subject_id=after.current.kid,
        details={"previous": before.current.kid, "current": after.current.kid},
    )
    return after
