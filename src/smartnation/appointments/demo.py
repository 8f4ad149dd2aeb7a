"""Demo data: centres (one per vaccine, and a polyclinic) at registry addresses, doses delivered
and slots released for five weeks, cohorts (seniors open and walking in; everyone 12+ closed), a
few registered people invited, so that booking can be tried at once, and one persona already
vaccinated twice (the record a vaccination HealthCert is issued from)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from smartnation.appointments import service
from smartnation.appointments.models import CheckIn, Dose
from smartnation.core.audit import current_actor
from smartnation.core.clock import SINGAPORE, today_in_singapore
from smartnation.core.db import Database
from smartnation.core.errors import DomainError
from smartnation.registry import service as registry

CENTRES = (
    ("JE-CC", "Jurong East Community Club", "vaccination_centre", "PFIZER"),
    ("TPY-CC", "Toa Payoh West Community Club", "vaccination_centre", "MODERNA"),
    ("BDK-PC", "Bedok Polyclinic", "polyclinic", "PFIZER"),
)
DAYS = 35
# TAN AH KOW (identity/demo.py): two Pfizer doses at Jurong East, eight and five weeks ago.
VACCINATED_NRIC = "S8012345J"
VACCINATED_AT = "JE-CC"
DOSE_WEEKS_AGO = (8, 5)


def _vaccination_history(session: Session, seed: int) -> int:
    """Record a persona's past doses; returns how many were recorded (0 when already there).

    A check-in is recorded only as the person arrives, today, so the demo writes the past
    check-ins itself; the doses go through `record_dose` with the time they were given.
    """
    resident = registry.find_resident(session, VACCINATED_NRIC)
    if resident is None or session.scalar(select(Dose.id).where(Dose.resident_id == resident.id)):
        return 0
    centre = service.get_centre(session, VACCINATED_AT)
    today = today_in_singapore()
    for number, weeks in enumerate(DOSE_WEEKS_AGO, start=1):
        day = today - timedelta(weeks=weeks)
        given_at = datetime.combine(day, time(10, 30), SINGAPORE)
        checkin = CheckIn(
            resident_id=resident.id,
            centre_id=centre.id,
            dose_number=number,
            walk_in=True,
            checked_in_at=given_at - timedelta(minutes=10),
            checked_in_by="demo",
        )
        session.add(checkin)
        session.flush()
        service.record_dose(
            session, checkin.id, lot=f"LOT{seed:03d}PAST{number}", given_at=given_at
        )
    return len(DOSE_WEEKS_AGO)


def load_demo(database: Database, seed: int) -> list[str]:
    """Load the appointment demo; returns lines to print (a person to try booking as)."""
    today = today_in_singapore()
    current_actor.set("demo")
    with database.transaction() as session:
        postal_codes = [
            row[0]
            for row in session.execute(
                text("SELECT postal_code FROM registry_address ORDER BY postal_code LIMIT 3")
            )
        ]
        for index, (code, name, kind, vaccine) in enumerate(CENTRES):
            service.create_centre(
                session,
                service.NewCentre(
                    code=code,
                    name=name,
                    kind=kind,
                    vaccine_code=vaccine,
                    opens_at=time(8, 0),
                    closes_at=time(22, 0),
                    slot_minutes=30,
                    capacity_per_slot=20,
                    postal_code=postal_codes[index] if index < len(postal_codes) else None,
                ),
            )
            for offset in range(DAYS):
                day = today + timedelta(days=offset)
                service.record_delivery(session, code, day, 400, f"LOT{seed:03d}{offset:02d}")
                service.release_slots(session, code, day)
        service.create_cohort(session, code="seniors", name="Seniors 60 and above", min_age=60)
        service.create_cohort(session, code="everyone", name="Everyone 12 and above", min_age=12)
        service.open_cohort(session, "seniors", walk_in=True)
        no = {question.code: False for question in service.questions()}
        candidates = session.execute(
            text(
                "SELECT nric FROM registry_resident WHERE mobile IS NOT NULL "
                "AND date_of_birth < :born ORDER BY id LIMIT 80"
            ),
            {"born": today.replace(year=today.year - 61)},
        ).all()
        registered = 0
        for (nric,) in candidates:
            try:
                service.register_interest(session, nric=nric, answers=no)
                registered += 1
            except DomainError:
                continue  # a registry number that cannot take SMS
        sent = service.invite_cohort(session, "seniors", limit=20)
        vaccinated = _vaccination_history(session, seed)
        nric_of = {
            r.resident_id: r.nric
            for r in (service.get_registration(session, s.resident_id) for s in sent)
            if r is not None
        }
    lines = [
        f"Appointments: {len(CENTRES)} centres with {DAYS} days of slots, {registered} seniors "
        f"registered, {len(sent)} invited."
    ]
    if sent:
        lines.append(
            f"  Book at /appointments/book as {nric_of[sent[0].resident_id]} with booking code "
            f"{sent[0].code}"
        )
    if vaccinated:
        lines.append(
            f"  {VACCINATED_NRIC} has {vaccinated} doses recorded: their vaccination HealthCert "
            "is at /healthcerts/vaccination once logged in."
        )
    return lines
