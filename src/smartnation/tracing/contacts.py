"""Contact resolution and the officer's work on it: rank, review, export, notify.

A case's valid encounters are ranked with the library's calibrated proximity against the
close-contact rule, merged with the people SafeEntry shows at the same places and times, and kept
as contact rows. Only health officers see who the contacts are, and every look is audited.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from smartnation.core import audit
from smartnation.core.clock import to_singapore, utcnow
from smartnation.core.errors import Conflict, FieldProblem, InvalidInput
from smartnation.core.i18n import N_
from smartnation.core.memory import collector_paused
from smartnation.messaging import service as messaging
from smartnation.registry import service as registry
from smartnation.tracing.bulk import copy_rows
from smartnation.tracing.cases import get_case
from smartnation.tracing.common import QUARANTINE_TEMPLATE, new_reference
from smartnation.tracing.models import Contact, Encounter, QuarantineOrder, TracingUser
from smartnation.tracing.proximity import (
    CloseContactRule,
    ContactExposure,
    Reading,
    rank_readings,
)
from smartnation.tracing.safeentry import Overlap, overlaps_for_case
from smartnation.tracing.settings import get_tracing_settings

NOTIFY_CHANNELS = ("sms", "whatsapp")
CONTACT_COLUMNS = (
    "case_id",
    "nric",
    "resident_id",
    "user_id",
    "name",
    "phone",
    "sources",
    "rank",
    "is_close",
    "close_seconds",
    "total_seconds",
    "closest_distance_m",
    "sightings",
    "overlap_seconds",
    "venues",
    "first_exposure",
    "last_exposure",
    "status",
)


@dataclass
class _Merged:
    nric: str
    resident_id: int | None = None
    user_id: int | None = None
    phone: str | None = None
    name: str | None = None
    is_close: bool = False
    close_seconds: float = 0.0
    total_seconds: float = 0.0
    closest_distance_m: float = math.inf
    sightings: int = 0
    overlap_seconds: float = 0.0
    venues: list[dict[str, Any]] | None = None
    first: datetime | None = None
    last: datetime | None = None
    bluetrace: bool = False
    safeentry: bool = False


def _instant(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def rank_case_encounters(
    session: Session, case_id: int, rule: CloseContactRule | None = None
) -> list[ContactExposure]:
    """The case's valid encounters ranked by the library against the close-contact rule."""
    rows = session.execute(
        select(
            Encounter.contact_uid,
            Encounter.timestamp_s,
            Encounter.rssi,
            Encounter.model_p,
            Encounter.model_c,
            Encounter.tx_power,
        ).where(
            Encounter.case_id == case_id,
            Encounter.valid.is_(True),
            Encounter.contact_uid.is_not(None),
            Encounter.timestamp_s.is_not(None),
        )
    )
    # The rows are the library's readings as they stand: no object per sighting.
    readings = cast(Iterable[Reading], rows)
    return rank_readings(readings, rule=rule or get_tracing_settings().close_contact_rule())


def _users_by_uid(
    session: Session, uids: list[str]
) -> dict[str, tuple[int, str, int, str, str | None]]:
    found: dict[str, tuple[int, str, int, str, str | None]] = {}
    for start in range(0, len(uids), 1000):
        rows = session.execute(
            select(
                TracingUser.uid,
                TracingUser.id,
                TracingUser.nric,
                TracingUser.resident_id,
                TracingUser.phone,
                TracingUser.name,
            ).where(TracingUser.uid.in_(uids[start : start + 1000]))
        )
        for uid, user_id, nric, resident_id, phone, name in rows:
            found[uid] = (user_id, nric, resident_id, phone, name)
    return found


@dataclass(frozen=True)
class ResolutionSummary:
    contacts: int
    close_contacts: int
    bluetrace: int
    safeentry: int
    unknown_uids: int
    seconds: float


def resolve_case(
    session: Session,
    case_id: int,
    *,
    now: datetime | None = None,
    rule: CloseContactRule | None = None,
) -> ResolutionSummary:
    """Rank the case's BlueTrace contacts, merge SafeEntry overlaps, keep the ranked list.

    Safe to run again: reviewed contacts keep their status; proposed ones no longer found go.
    """
    # Tens of thousands of readings and no reference cycles: see `collector_paused`.
    with collector_paused():
        return _resolve_case(session, case_id, now, rule)


def _resolve_case(
    session: Session, case_id: int, now: datetime | None, rule: CloseContactRule | None
) -> ResolutionSummary:
    started = utcnow()
    moment = now or started
    settings = get_tracing_settings()
    case = get_case(session, case_id)
    exposures = rank_case_encounters(session, case_id, rule)
    users = _users_by_uid(session, sorted({e.contact_id for e in exposures}))
    merged: dict[str, _Merged] = {}
    unknown = 0
    for exposure in exposures:
        user = users.get(exposure.contact_id)
        if user is None:
            unknown += 1  # another health authority's user, or one who withdrew
            continue
        user_id, nric, resident_id, phone, name = user
        item = merged.setdefault(nric, _Merged(nric, resident_id, user_id, phone, name))
        item.bluetrace = True
        item.is_close = item.is_close or exposure.is_close_contact
        item.close_seconds += exposure.close_seconds
        item.total_seconds += exposure.total_seconds
        item.closest_distance_m = min(item.closest_distance_m, exposure.closest_distance_m)
        item.sightings += exposure.sightings
        first, last = _instant(exposure.first_seen), _instant(exposure.last_seen)
        item.first = min(item.first or first, first)
        item.last = max(item.last or last, last)
    overlaps: dict[str, Overlap] = overlaps_for_case(
        session,
        case.nric,
        since=moment - timedelta(days=settings.retention_days),
        until=moment,
    )
    for nric, overlap in overlaps.items():
        item = merged.setdefault(nric, _Merged(nric, overlap.resident_id))
        item.safeentry = True
        item.resident_id = item.resident_id or overlap.resident_id
        item.phone = item.phone or overlap.mobile
        item.name = item.name or overlap.name
        item.overlap_seconds = overlap.overlap_seconds
        item.venues = overlap.venues
        if overlap.first is not None and overlap.last is not None:
            item.first = min(item.first or overlap.first, overlap.first)
            item.last = max(item.last or overlap.last, overlap.last)
    merged.pop(case.nric, None)  # the case's own other devices
    ranked = sorted(
        merged.values(),
        key=lambda m: (
            not m.is_close,
            -m.close_seconds,
            -m.overlap_seconds,
            m.closest_distance_m,
            m.nric,
        ),
    )
    existing = {
        contact.nric: contact
        for contact in session.scalars(select(Contact).where(Contact.case_id == case_id))
    }
    keep = set()
    new_rows = []
    for rank, item in enumerate(ranked, start=1):
        values = {
            "case_id": case_id,
            "nric": item.nric,
            "resident_id": item.resident_id,
            "user_id": item.user_id,
            "name": item.name,
            "phone": item.phone,
            "sources": "+".join(
                s for s, on in (("bluetrace", item.bluetrace), ("safeentry", item.safeentry)) if on
            ),
            "rank": rank,
            "is_close": item.is_close,
            "close_seconds": item.close_seconds,
            "total_seconds": item.total_seconds,
            "closest_distance_m": (
                None if math.isinf(item.closest_distance_m) else item.closest_distance_m
            ),
            "sightings": item.sightings,
            "overlap_seconds": item.overlap_seconds,
            "venues": item.venues or [],
            "first_exposure": item.first,
            "last_exposure": item.last,
        }
        keep.add(item.nric)
        contact = existing.get(item.nric)
        if contact is None:
            new_rows.append((*(values[c] for c in CONTACT_COLUMNS[:-1]), "proposed"))
        else:
            for name, value in values.items():
                setattr(contact, name, value)
    stale = [c.id for n, c in existing.items() if n not in keep and c.status == "proposed"]
    if stale:
        session.execute(delete(Contact).where(Contact.id.in_(stale)))
    copy_rows(session, Contact.__table__, CONTACT_COLUMNS, new_rows)  # type: ignore[arg-type]
    case.resolution = "resolved"
    case.resolved_at = utcnow()
    summary = ResolutionSummary(
        contacts=len(ranked),
        close_contacts=sum(1 for m in ranked if m.is_close),
        bluetrace=sum(1 for m in ranked if m.bluetrace),
        safeentry=sum(1 for m in ranked if m.safeentry),
        unknown_uids=unknown,
        seconds=(utcnow() - started).total_seconds(),
    )
    case.resolution_summary = {
        "contacts": summary.contacts,
        "close_contacts": summary.close_contacts,
        "bluetrace": summary.bluetrace,
        "safeentry": summary.safeentry,
        "unknown_uids": summary.unknown_uids,
    }
    session.flush()
    audit.record(
        session,
        "tracing.case.resolved",
        subject_type="tracing_case",
        subject_id=case_id,
        details=case.resolution_summary,
    )
    return summary


@dataclass(frozen=True)
class ContactPage:
    contacts: list[Contact]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def _fill_names(session: Session, contacts: list[Contact]) -> None:
    # One query for the page, not one per contact.
    unnamed = [c for c in contacts if c.name is None and c.resident_id is not None]
    names = registry.names_by_id(session, {c.resident_id for c in unnamed if c.resident_id})
    for contact in unnamed:
        if contact.resident_id in names:
            contact.name = names[contact.resident_id]


def view_contacts(
    session: Session,
    case_id: int,
    *,
    page: int = 1,
    per_page: int = 50,
    close_only: bool = False,
    purpose: str = "review",
) -> ContactPage:
    """A page of a case's ranked contacts. Callers must be health officers; the look is audited."""
    get_case(session, case_id)
    page = max(1, page)
    per_page = min(max(1, per_page), 500)
    query = select(Contact).where(Contact.case_id == case_id)
    if close_only:
        query = query.where(Contact.is_close.is_(True))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    contacts = list(
        session.scalars(query.order_by(Contact.rank).offset((page - 1) * per_page).limit(per_page))
    )
    _fill_names(session, contacts)
    audit.record(
        session,
        "tracing.contacts.viewed",
        subject_type="tracing_case",
        subject_id=case_id,
        details={"purpose": purpose, "page": page, "contact_ids": [c.id for c in contacts]},
    )
    return ContactPage(contacts, total, page, per_page)


CSV_COLUMNS = (
    "rank",
    "nric",
    "name",
    "phone",
    "sources",
    "close_contact",
    "close_minutes",
    "total_minutes",
    "closest_distance_m",
    "safeentry_overlap_minutes",
    "first_exposure_sgt",
    "last_exposure_sgt",
    "status",
)


def export_contacts_csv(session: Session, case_id: int) -> str:
    """Every contact of the case as CSV for the officer's follow-up; audited as an export."""
    get_case(session, case_id)
    contacts = list(
        session.scalars(select(Contact).where(Contact.case_id == case_id).order_by(Contact.rank))
    )
    _fill_names(session, contacts)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for c in contacts:
        writer.writerow(
            [
                c.rank,
                c.nric,
                _csv_safe(c.name or ""),
                c.phone or "",
                c.sources,
                "yes" if c.is_close else "no",
                round(c.close_seconds / 60, 1),
                round(c.total_seconds / 60, 1),
                "" if c.closest_distance_m is None else round(c.closest_distance_m, 2),
                round(c.overlap_seconds / 60, 1),
                to_singapore(c.first_exposure).isoformat() if c.first_exposure else "",
                to_singapore(c.last_exposure).isoformat() if c.last_exposure else "",
                c.status,
            ]
        )
    audit.record(
        session,
        "tracing.contacts.exported",
        subject_type="tracing_case",
        subject_id=case_id,
        details={"format": "csv", "contacts": len(contacts)},
    )
    return buffer.getvalue()


def _csv_safe(text: str) -> str:
    # A cell starting with = + - @ would run as a formula in a spreadsheet.
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def review_contacts(
    session: Session, case_id: int, *, confirm: list[int], dismiss: list[int]
) -> int:
    """Confirm or dismiss proposed contacts of a case; returns how many changed."""
    ids = set(confirm) | set(dismiss)
    if set(confirm) & set(dismiss):
        raise InvalidInput(FieldProblem("contacts", N_("A contact cannot be both."), "conflict"))
    contacts = session.scalars(
        select(Contact).where(Contact.case_id == case_id, Contact.id.in_(ids))
    ).all()
    changed = 0
    for contact in contacts:
        status = "confirmed" if contact.id in confirm else "dismissed"
        if contact.status in ("notified", status):
            continue
        contact.status = status
        contact.reviewed_by = audit.current_actor.get()
        contact.reviewed_at = utcnow()
        changed += 1
        audit.record(
            session,
            f"tracing.contact.{status}",
            subject_type="tracing_contact",
            subject_id=contact.id,
            details={"case_id": case_id},
        )
    return changed


@dataclass(frozen=True)
class NotificationReport:
    notified: int
    without_phone: int
    orders: list[str]


def notify_confirmed_contacts(
    session: Session, case_id: int, *, channel: str = "sms", language: str = "en"
) -> NotificationReport:
    """Serve a quarantine order on each confirmed contact and send it by SMS or WhatsApp."""
    if channel not in NOTIFY_CHANNELS:
        raise InvalidInput(FieldProblem("channel", N_("Use sms or whatsapp."), "unknown"))
    case = get_case(session, case_id)
    if case.status != "open":
        raise Conflict(N_("The case is closed."))
    settings = get_tracing_settings()
    contacts = session.scalars(
        select(Contact)
        .where(Contact.case_id == case_id, Contact.status == "confirmed")
        .order_by(Contact.rank)
        .with_for_update()
    ).all()
    orders, without_phone = [], 0
    today = to_singapore(utcnow()).date()
    for contact in contacts:
        phone = contact.phone
        if phone is None and contact.resident_id is not None:
            phone = registry.get_resident_by_id(session, contact.resident_id).mobile
        if not phone:
            without_phone += 1
            continue
        last = to_singapore(contact.last_exposure).date() if contact.last_exposure else today
        order = QuarantineOrder(
            reference=new_reference("QO"),
            contact_id=contact.id,
            case_id=case_id,
            nric=contact.nric,
            starts_on=today,
            ends_on=last + timedelta(days=settings.quarantine_days),
            channel=channel,
            issued_by=audit.current_actor.get(),
            issued_at=utcnow(),
        )
        session.add(order)
        session.flush()
        sent = messaging.send(
            session,
            channel=channel,
            to=phone,
            template=QUARANTINE_TEMPLATE.name,
            variables={"reference": order.reference, "ends_on": order.ends_on.strftime("%d %b %Y")},
            idempotency_key=f"tracing-quarantine-{order.id}",
            language=language,
        )
        order.message_id = sent.id
        contact.status = "notified"
        contact.notified_at = utcnow()
        audit.record(
            session,
            "tracing.contact.notified",
            subject_type="tracing_contact",
            subject_id=contact.id,
            details={"case_id": case_id, "order": order.reference, "channel": channel},
        )
        orders.append(order.reference)
    return NotificationReport(len(orders), without_phone, orders)


def quarantine_orders(session: Session, case_id: int) -> list[QuarantineOrder]:
    return list(
        session.scalars(
            select(QuarantineOrder)
            .where(QuarantineOrder.case_id == case_id)
            .order_by(QuarantineOrder.id)
        )
    )
