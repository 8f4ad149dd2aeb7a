"""SafeEntry: venues with QR codes, check-in and check-out, history, and the overlap search.

A venue's QR code carries `PROD-<UEN>[-<6-digit branch>]-<NAME>-SE` inside a URL of this site.
People check in by scanning it (logged in, or typing their NRIC/FIN with consent), by venue staff
scanning their NRIC, or by a TraceTogether token or app at a gateway. For a case, the overlap
search finds visits to the same venue overlapping the case's, with a buffer either side and a
default stay when someone did not check out; the index on (venue, check-in time) keeps it fast.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import segno
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from smartnation.core import audit
from smartnation.core.clock import utcnow
from smartnation.core.errors import Conflict, FieldProblem, InvalidInput, NotAllowed, NotFound
from smartnation.core.i18n import N_
from smartnation.core.validators import parse_nric, parse_phone
from smartnation.registry import service as registry
from smartnation.tracing.models import Case, CheckIn, TracingUser, Venue
from smartnation.tracing.settings import get_tracing_settings

METHODS = ("qr_login", "qr_nric", "staff_scan", "tt_token")
_VENUE_CODE = re.compile(r"PROD-[0-9A-Z]{9,10}(-[0-9]{6})?-[0-9A-Z]{1,60}-SE")


def venue_code(uen: str, branch: str | None, name: str) -> str:
    """`PROD-<UEN>[-<branch>]-<NAME>-SE`, the name in capitals without spaces or punctuation."""
    letters = re.sub(r"[^0-9A-Z]", "", name.upper())[:60] or "VENUE"
    return f"PROD-{uen}-{branch}-{letters}-SE" if branch else f"PROD-{uen}-{letters}-SE"


def register_venue(
    session: Session, uen: str, *, branch: str | None = None, name: str | None = None
) -> Venue:
    """A venue for a business in the registry, with its QR id."""
    business = registry.get_business(session, uen)
    branch = (branch or "").strip() or None
    if branch is not None and not (len(branch) == 6 and branch.isdigit()):
        raise InvalidInput(FieldProblem("branch", N_("A branch code has 6 digits."), "format"))
    display = " ".join((name or business.name).split())[:120]
    if not display:
        raise InvalidInput(FieldProblem("name", N_("A venue needs a name."), "required"))
    code = venue_code(business.uen, branch, display)
    if session.scalar(select(Venue.id).where(Venue.code == code)) is not None:
        raise Conflict(N_("This venue already exists."), venue=code)
    venue = Venue(
        code=code,
        uen=business.uen,
        branch=branch,
        name=display,
        postal_code=business.postal_code,
        active=True,
        created_at=utcnow(),
    )
    session.add(venue)
    session.flush()
    audit.record(
        session,
        "tracing.venue.registered",
        subject_type="tracing_venue",
        subject_id=venue.id,
        details={"code": code},
    )
    return venue


def get_venue(session: Session, code: str) -> Venue:
    """A venue by its QR id; `NotFound` for anything that is not one."""
    code = (code or "").strip().upper()
    if not _VENUE_CODE.fullmatch(code):
        raise NotFound(N_("This is not a SafeEntry venue code."))
    venue = session.scalar(select(Venue).where(Venue.code == code))
    if venue is None or not venue.active:
        raise NotFound(N_("No SafeEntry venue has this code."))
    return venue


def list_venues(session: Session, *, limit: int = 200) -> list[Venue]:
    return list(session.scalars(select(Venue).order_by(Venue.name).limit(limit)))


def venue_url(base_url: str, venue: Venue) -> str:
    """What the venue's QR code carries: the check-in page of this site."""
    return f"{base_url.rstrip('/')}/safeentry/v/{venue.code}"


def qr_image(data: str, kind: str = "svg", scale: int = 8) -> bytes:
    """The QR code of `data` as an SVG or PNG image (segno, error correction level M)."""
    code = segno.make(data, error="m", micro=False)
    buffer = io.BytesIO()
    code.save(buffer, kind=kind, scale=scale, border=4)
    return buffer.getvalue()


def qr_svg_inline(data: str, scale: int = 10) -> str:
    """The QR code as inline SVG markup, for pages and printable posters."""
    code = segno.make(data, error="m", micro=False)
    return str(code.svg_inline(scale=scale, border=4, title="SafeEntry QR code"))


def _resident_details(session: Session, nric: str) -> tuple[int | None, str | None, str | None]:
    resident = registry.find_resident(session, nric)
    if resident is None:
        return None, None, None
    return resident.id, resident.name, resident.mobile


def check_in(
    session: Session,
    venue_code_: str,
    *,
    nric: str,
    method: str,
    name: str | None = None,
    mobile: str | None = None,
    consent: bool = False,
    now: datetime | None = None,
) -> CheckIn:
    """Record a check-in. Typed-in NRICs need the person's consent to SafeEntry's terms."""
    venue = get_venue(session, venue_code_)
    if method not in METHODS:
        raise InvalidInput(
            FieldProblem("method", N_("Use qr_login, qr_nric, staff_scan or tt_token."), "unknown")
        )
    nric = parse_nric(nric)
    if method == "qr_nric" and not consent:
        raise InvalidInput(
            FieldProblem(
                "consent", N_("Agree to your details being used for contact tracing."), "required"
            )
        )
    phone = parse_phone(mobile, "mobile", mobile_only=True) if mobile else None
    resident_id, registry_name, registry_mobile = _resident_details(session, nric)
    given_name = " ".join((name or "").split())[:200] or None
    visit = CheckIn(
        checked_in_at=now or utcnow(),
        venue_id=venue.id,
        nric=nric,
        name=given_name or registry_name,
        mobile=phone or registry_mobile,
        resident_id=resident_id,
        method=method,
    )
    session.add(visit)
    session.flush()
    audit.record(
        session,
        "tracing.safeentry.checked_in",
        subject_type="tracing_checkin",
        subject_id=visit.id,
        details={"venue": venue.code, "method": method},
    )
    return visit


def check_in_tracetogether(
    session: Session, venue_code_: str, *, uid: str, now: datetime | None = None
) -> CheckIn:
    """Check in a TraceTogether token or app tapped at a SafeEntry gateway, by its uid."""
    user = session.scalar(select(TracingUser).where(TracingUser.uid == (uid or "").strip()))
    if user is None or user.status != "active":
        raise NotFound(N_("No TraceTogether user has this id."))
    return check_in(
        session, venue_code_, nric=user.nric, method="tt_token", mobile=user.phone, now=now
    )


def check_out(
    session: Session, checkin_id: int, *, nric: str | None = None, now: datetime | None = None
) -> CheckIn:
    """Record the check-out of a visit; `nric`, when given, must be the visitor's."""
    visit = session.scalar(select(CheckIn).where(CheckIn.id == checkin_id).with_for_update())
    if visit is None or (nric is not None and visit.nric != nric):
        raise NotFound(N_("No such check-in."))
    if visit.checked_out_at is not None:
        raise Conflict(N_("You have already checked out."))
    moment = now or utcnow()
    if moment < visit.checked_in_at:
        raise InvalidInput(
            FieldProblem("checked_out_at", N_("Check-out precedes check-in."), "order")
        )
    visit.checked_out_at = moment
    audit.record(
        session,
        "tracing.safeentry.checked_out",
        subject_type="tracing_checkin",
        subject_id=visit.id,
    )
    return visit


@dataclass(frozen=True)
class Visit:
    id: int
    venue_code: str
    venue_name: str
    postal_code: str | None
    checked_in_at: datetime
    checked_out_at: datetime | None


def history(session: Session, nric: str, *, days: int | None = None) -> list[Visit]:
    """A person's own check-ins within retention, newest first."""
    since = utcnow() - timedelta(days=days or get_tracing_settings().retention_days)
    rows = session.execute(
        select(CheckIn, Venue)
        .join(Venue, Venue.id == CheckIn.venue_id)
        .where(CheckIn.nric == parse_nric(nric), CheckIn.checked_in_at >= since)
        .order_by(CheckIn.checked_in_at.desc())
    )
    return [
        Visit(c.id, v.code, v.name, v.postal_code, c.checked_in_at, c.checked_out_at)
        for c, v in rows
    ]


def get_checkin(session: Session, checkin_id: int) -> tuple[CheckIn, Venue]:
    row = session.execute(
        select(CheckIn, Venue)
        .join(Venue, Venue.id == CheckIn.venue_id)
        .where(CheckIn.id == checkin_id)
    ).first()
    if row is None:
        raise NotFound(N_("No such check-in."))
    return row[0], row[1]


@dataclass
class Overlap:
    """Everything the SafeEntry search found about one person who overlapped a case."""

    nric: str
    resident_id: int | None = None
    name: str | None = None
    mobile: str | None = None
    overlap_seconds: float = 0.0
    first: datetime | None = None
    last: datetime | None = None
    venues: list[dict[str, Any]] = field(default_factory=list)


def _stay_end(
    visit_in: datetime, visit_out: datetime | None, default: timedelta, cap: timedelta
) -> datetime:
    end = visit_out or visit_in + default
    return min(end, visit_in + cap)


def overlaps_for_case(
    session: Session,
    nric: str,
    *,
    since: datetime,
    until: datetime | None = None,
    buffer: timedelta | None = None,
    default_stay: timedelta | None = None,
) -> dict[str, Overlap]:
    """People whose visits overlapped the case's visits at the same venues, by NRIC.

    Two visits overlap when one starts before the other ends, with `buffer` added either side of
    the case's visit; a visit without a check-out lasts `default_stay`; stays are capped at
    `safeentry_max_stay_hours`, which also bounds the index range scanned per case visit.
    """
    settings = get_tracing_settings()
    buffer = buffer if buffer is not None else timedelta(minutes=settings.safeentry_buffer_minutes)
    default = (
        default_stay
        if default_stay is not None
        else timedelta(minutes=settings.safeentry_default_stay_minutes)
    )
    cap = timedelta(hours=settings.safeentry_max_stay_hours)
    until = until or utcnow()
    case_visits = session.execute(
        select(CheckIn.venue_id, CheckIn.checked_in_at, CheckIn.checked_out_at, Venue.name)
        .join(Venue, Venue.id == CheckIn.venue_id)
        .where(CheckIn.nric == nric, CheckIn.checked_in_at >= since, CheckIn.checked_in_at <= until)
    ).all()
    if not case_visits:
        return {}
    windows = []
    conditions = []
    for venue_id, start, end, venue_name in case_visits:
        stay_end = _stay_end(start, end, default, cap)
        window_start, window_end = start - buffer, stay_end + buffer
        windows.append((venue_id, window_start, window_end, venue_name))
        # Candidates checked in before the window ends and no earlier than a capped stay before it.
        conditions.append(
            and_(
                CheckIn.venue_id == venue_id,
                CheckIn.checked_in_at < window_end,
                CheckIn.checked_in_at > window_start - cap,
            )
        )
    found: dict[str, Overlap] = {}
    seen: set[tuple[int, int]] = set()
    for first in range(0, len(conditions), 200):
        rows = session.execute(
            select(
                CheckIn.id,
                CheckIn.venue_id,
                CheckIn.checked_in_at,
                CheckIn.checked_out_at,
                CheckIn.nric,
                CheckIn.name,
                CheckIn.mobile,
                CheckIn.resident_id,
            ).where(or_(*conditions[first : first + 200]), CheckIn.nric != nric)
        ).all()
        for row in rows:
            other_end = _stay_end(row.checked_in_at, row.checked_out_at, default, cap)
            for index, (venue_id, window_start, window_end, venue_name) in enumerate(windows):
                if venue_id != row.venue_id or (row.id, index) in seen:
                    continue
                begin = max(row.checked_in_at, window_start)
                end = min(other_end, window_end)
                if begin >= end:
                    continue
                seen.add((row.id, index))
                overlap = found.setdefault(row.nric, Overlap(row.nric))
                overlap.resident_id = overlap.resident_id or row.resident_id
                overlap.name = overlap.name or row.name
                overlap.mobile = overlap.mobile or row.mobile
                overlap.overlap_seconds += (end - begin).total_seconds()
                overlap.first = min(overlap.first or begin, begin)
                overlap.last = max(overlap.last or end, end)
                overlap.venues.append(
                    {"venue": venue_name, "from": begin.isoformat(), "to": end.isoformat()}
                )
    return found


@dataclass(frozen=True)
class PublicVisit:
    """A place and time a case visited, as published: no personal data."""

    venue_name: str
    postal_code: str | None
    checked_in_at: datetime
    checked_out_at: datetime


def publish_case_visits(session: Session, case: Case, published: bool = True) -> None:
    """Show (or stop showing) a case's visits on the public page."""
    case.visits_published = published
    audit.record(
        session,
        "tracing.case.visits_published" if published else "tracing.case.visits_unpublished",
        subject_type="tracing_case",
        subject_id=case.id,
    )


def public_case_visits(session: Session) -> list[PublicVisit]:
    """Places and times cases visited, for the public page: venue and time only, merged."""
    settings = get_tracing_settings()
    since = utcnow() - timedelta(days=14)
    default = timedelta(minutes=settings.safeentry_default_stay_minutes)
    cap = timedelta(hours=settings.safeentry_max_stay_hours)
    rows = session.execute(
        select(Venue.name, Venue.postal_code, CheckIn.checked_in_at, CheckIn.checked_out_at)
        .join(Venue, Venue.id == CheckIn.venue_id)
        .join(Case, Case.nric == CheckIn.nric)
        .where(Case.visits_published.is_(True), CheckIn.checked_in_at >= since)
        .order_by(CheckIn.checked_in_at.desc())
    ).all()
    # Round to the quarter hour and de-duplicate: exact times would help identify a person.
    merged: dict[tuple[Any, ...], PublicVisit] = {}
    for name, postal, start, end in rows:
        begin = start.replace(minute=start.minute - start.minute % 15, second=0, microsecond=0)
        finish = _stay_end(start, end, default, cap)
        finish = finish.replace(second=0, microsecond=0) + timedelta(
            minutes=(15 - finish.minute % 15) % 15
        )
        merged.setdefault((name, begin, finish), PublicVisit(name, postal, begin, finish))
    return list(merged.values())


def require_own_checkin(visit: CheckIn, nric: str | None, allowed_ids: list[int]) -> None:
    """A visitor may check out only their own visit (by login, or by this browser's session)."""
    if visit.id in allowed_ids or (nric is not None and visit.nric == nric):
        return
    raise NotAllowed(N_("This check-in is not yours."))
