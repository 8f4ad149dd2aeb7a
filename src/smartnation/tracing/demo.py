"""Demo data: three SafeEntry venues with QR posters, yesterday's check-ins at them, TraceTogether
app users, and a confirmed case whose phone has uploaded its encounter log, resolved into a
ranked contact list (BlueTrace and SafeEntry) that a health officer can review at once."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from smartnation.core.audit import current_actor
from smartnation.core.clock import utcnow
from smartnation.core.db import Database
from smartnation.tracing import service
from smartnation.tracing.bluetrace import generate_tempid
from smartnation.tracing.models import TracingUser, Venue
from smartnation.tracing.settings import current_keyring
from smartnation.tracing.users import new_uid

# Phone models in the calibration table: the ranking reads their signal strength correctly.
MODELS = ("iPhone X", "SM-G950F", "LYA-L29")


def _app_user(session: Session, resident_id: int, nric: str, name: str, phone: str) -> TracingUser:
    # Registered as the app would be, without the SMS round trip (no device token: demo only).
    user = TracingUser(
        uid=new_uid(),
        kind="app",
        resident_id=resident_id,
        nric=nric,
        name=name,
        phone=phone,
        status="active",
        created_at=utcnow(),
    )
    session.add(user)
    return user


def _sightings(
    uid: str, start: datetime, minutes: int, rssi: float, model: str
) -> list[dict[str, Any]]:
    """What the case's phone logs hearing `uid` once a minute, one TempID per 15 minutes."""
    keyring = current_keyring().keyring
    records = []
    for minute in range(minutes):
        moment = start + timedelta(minutes=minute)
        window = int(moment.timestamp()) // 900 * 900
        records.append(
            {
                "v": 2,
                "msg": generate_tempid(keyring, uid, window, window + 900).tempid,
                "org": "SG_MOH",
                "modelP": model,
                "modelC": "iPhone X",
                "rssi": rssi,
                "timestamp": int(moment.timestamp() * 1000),
            }
        )
    return records


def load_demo(database: Database, seed: int) -> list[str]:
    """Load the tracing demo; returns lines to print (where to look, as whom)."""
    current_actor.set("demo")
    rng = random.Random(f"{seed}:tracing")
    with database.transaction() as session:
        if session.scalar(select(func.count()).select_from(Venue)):
            return ["Tracing demo data is already loaded."]
        uens = list(session.scalars(text("SELECT uen FROM registry_business ORDER BY uen LIMIT 3")))
        people = session.execute(
            text(
                "SELECT id, nric, name, mobile FROM registry_resident WHERE mobile IS NOT NULL "
                "ORDER BY id LIMIT 16"
            )
        ).all()
        if not uens or len(people) < 16:
            return ["Tracing: no demo data (the registry needs businesses and residents)."]
        venues = [service.register_venue(session, uen) for uen in uens]
        users = [_app_user(session, *person) for person in people[:10]]
        session.flush()
        case_person = people[0]
        lunch = (utcnow() - timedelta(days=1)).replace(hour=4, minute=0, second=0, microsecond=0)

        # Yesterday's lunch hour: the case at the first venue, others there at the same time,
        # and a few at the other venues (not contacts).
        visits = [(venues[0], case_person.nric, lunch, 60)]
        visits += [(venues[0], p.nric, lunch + timedelta(minutes=rng.randint(-20, 40)), 45)
                   for p in people[10:14]]  # fmt: skip
        visits += [(venues[1 + i % 2], p.nric, lunch, 30) for i, p in enumerate(people[14:16])]
        checkins = 0
        for venue, nric, start, minutes in visits:
            visit = service.check_in(
                session, venue.code, nric=nric, method="qr_nric", consent=True, now=start
            )
            service.check_out(session, visit.id, now=start + timedelta(minutes=minutes))
            checkins += 1

        # The case's phone heard two people close by for long, and three further away.
        records: list[dict[str, Any]] = []
        for index, user in enumerate(users[1:6]):
            near = index < 2
            records += _sightings(
                user.uid,
                lunch - timedelta(hours=2 + index),
                rng.randint(35, 50) if near else rng.randint(5, 20),
                rng.uniform(-52, -46) if near else rng.uniform(-88, -78),
                MODELS[index % len(MODELS)],
            )
        case = service.open_case(session, case_person.nric)
        code = service.issue_upload_code(session, case.id).code
        token = service.exchange_upload_code(session, users[0], code)
        content = json.dumps({"token": token, "records": records, "events": []}).encode()
        service.receive_upload(session, content)
        summary = service.resolve_case(session, case.id)
    return [
        f"Tracing: {len(venues)} SafeEntry venues (posters at /safeentry/venues), "
        f"{checkins} check-ins, {len(users)} TraceTogether users.",
        f"  Case {case.reference} ({case_person.name}): {summary.contacts} contacts "
        f"({summary.close_contacts} close) to review at /tracing/cases/{case.id}/contacts, "
        "as the health officer S6012345D.",
    ]
