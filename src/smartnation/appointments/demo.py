"""Demo data: centres (one per vaccine, and a polyclinic) at registry addresses, doses delivered
and slots released for five weeks, cohorts (seniors open and walking in; everyone 12+ closed), and
a few registered people invited, so that booking can be tried at once."""

from __future__ import annotations

from datetime import time, timedelta

from sqlalchemy import text

from smartnation.appointments import service
from smartnation.core.clock import today_in_singapore
from smartnation.core.db import Database
from smartnation.core.errors import DomainError

CENTRES = (
    ("JE-CC", "Jurong East Community Club", "vaccination_centre", "PFIZER"),
    ("TPY-CC", "Toa Payoh West Community Club", "vaccination_centre", "MODERNA"),
    ("BDK-PC", "Bedok Polyclinic", "polyclinic", "PFIZER"),
)
DAYS = 35


def load_demo(database: Database, seed: int) -> list[str]:
    """Load the appointment demo; returns lines to print (a person to try booking as)."""
    today = today_in_singapore()
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
    return lines
