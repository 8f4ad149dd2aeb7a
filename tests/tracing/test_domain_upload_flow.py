"""TraceTogether server end to end through the API: registration, TempIDs, upload, contacts."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartnation.core.audit import AuditEvent
from smartnation.core.db import Database
from smartnation.core.jobs import Worker
from smartnation.messaging.models import Message
from smartnation.tracing.bluetrace import (
    Keyring,
    development_keyring,
    generate_tempid,
    issue_upload_token,
    open_tempid,
)
from smartnation.tracing.models import Contact, Encounter, QuarantineOrder, Upload

KEYRING = development_keyring()


def sightings(uid: str, start: datetime, minutes: int, rssi: float) -> list[dict[str, Any]]:
    """What a phone logs hearing `uid` once a minute: one TempID per 15 minutes, as issued."""
    records = []
    for minute in range(minutes):
        moment = start + timedelta(minutes=minute)
        window = int(moment.timestamp()) // 900 * 900
        tempid = generate_tempid(KEYRING, uid, window, window + 900).tempid
        records.append(
            {
                "v": 2,
                "msg": tempid,
                "org": "SG_MOH",
                "modelP": "iPhone X",
                "modelC": "SM-G950F",
                "rssi": rssi,
                "timestamp": int(moment.timestamp() * 1000),  # Android: milliseconds
            }
        )
    return records


def audit_actions(session: Session, prefix: str) -> list[AuditEvent]:
    return list(
        session.scalars(
            select(AuditEvent).where(AuditEvent.action.like(prefix + "%")).order_by(AuditEvent.id)
        )
    )


def test_registration_sends_otp_and_tempids_open_with_the_library(
    client: TestClient, add_person: Callable[..., Any], register_phone: Callable[..., Any]
) -> None:
    person = add_person()
    registered = register_phone(person)
    assert len(registered["uid"]) == 28 and registered["device_token"].startswith("tt_")
    response = client.get(
        "/api/v1/tracing/tempids",
        headers={"authorization": f"Bearer {registered['device_token']}"},
    )
    assert response.status_code == 200
    batch = response.json()
    assert batch["status"] == "SUCCESS" and len(batch["tempIDs"]) == 100
    first = batch["tempIDs"][0]
    content = open_tempid(KEYRING, first["tempID"])
    assert content is not None
    assert content.uid == registered["uid"]
    assert (content.start_time, content.expiry_time) == (first["startTime"], first["expiryTime"])
    assert first["expiryTime"] - first["startTime"] == 900
    assert batch["refreshTime"] - first["startTime"] == 43200 + 60


def test_registration_refuses_wrong_codes_and_unknown_people(
    client: TestClient, add_person: Callable[..., Any], database: Database
) -> None:
    person = add_person()
    started = client.post(
        "/api/v1/tracing/registrations", json={"nric": person.nric, "phone": person.mobile}
    ).json()
    url = f"/api/v1/tracing/registrations/{started['registration_id']}/verify"
    for _ in range(5):
        wrong = client.post(url, json={"code": "000000x"})
        assert wrong.status_code == 422
        assert wrong.headers["content-type"] == "application/problem+json"
    assert client.post(url, json={"code": "123456"}).status_code == 429  # attempts were kept
    unknown = client.post(
        "/api/v1/tracing/registrations", json={"nric": "S0000001I", "phone": "+6591234567"}
    )
    assert unknown.status_code == 422
    assert client.get("/api/v1/tracing/tempids").status_code == 401
    forged = client.get("/api/v1/tracing/tempids", headers={"authorization": "Bearer tt_forged"})
    assert forged.status_code == 401


def test_upload_flow_from_code_to_notified_contacts(
    client: TestClient,
    officer: TestClient,
    add_person: Callable[..., Any],
    register_phone: Callable[..., Any],
    database: Database,
) -> None:
    case_person, near, far, stranger = add_person(), add_person(), add_person(), add_person()
    case_phone = register_phone(case_person)
    near_phone = register_phone(near)
    far_phone = register_phone(far)
    device = {"authorization": f"Bearer {case_phone['device_token']}"}

    opened = officer.post("/api/v1/tracing/cases", json={"nric": case_person.nric})
    assert opened.status_code == 201, opened.text
    case = opened.json()
    code = officer.post(f"/api/v1/tracing/cases/{case['id']}/upload-codes").json()["code"]
    assert len(code) == 6

    # A code issued for one case cannot be used from another person's phone.
    other = client.post(
        "/api/v1/tracing/upload-token",
        json={"code": code},
        headers={"authorization": f"Bearer {near_phone['device_token']}"},
    )
    assert other.status_code == 401
    exchanged = client.post("/api/v1/tracing/upload-token", json={"code": code}, headers=device)
    assert exchanged.status_code == 200, exchanged.text
    token = exchanged.json()["token"]
    replayed = client.post("/api/v1/tracing/upload-token", json={"code": code}, headers=device)
    assert replayed.status_code == 401

    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
    near_records = sightings(near_phone["uid"], start, 40, -55.0)  # about 1 m, 40 minutes
    far_records = sightings(far_phone["uid"], start, 40, -80.0)  # about 12 m
    expired = dict(near_records[0], timestamp=int((start + timedelta(hours=5)).timestamp()))
    junk = [
        {"msg": "Missing TempID", "timestamp": int(start.timestamp()), "rssi": -50},
        {"msg": "", "timestamp": int(start.timestamp())},
        {"msg": "A" * 84, "timestamp": int(start.timestamp())},  # well formed, no key opens it
        "not an object",
        dict(near_records[1], isValid=True, msg="not_found"),  # cannot declare itself valid
    ]
    body = {"token": token, "records": [*near_records, *far_records, expired, *junk], "events": []}
    uploaded = client.post("/api/v1/tracing/uploads", content=json.dumps(body))
    assert uploaded.status_code == 201, uploaded.text
    counts = uploaded.json()["counts"]
    assert counts["valid"] == 80
    assert counts["expired_id"] == 1
    assert counts["no_msg"] == 1
    assert counts["failed_decryption"] == 3
    assert counts["malformed_record"] == 1

    # The same token again is a replay; a forged token and garbage are refused, and audited.
    assert client.post("/api/v1/tracing/uploads", content=json.dumps(body)).status_code == 401
    forged = dict(body, token="QUJD" * 30)
    assert client.post("/api/v1/tracing/uploads", content=json.dumps(forged)).status_code == 401
    garbage = client.post("/api/v1/tracing/uploads", content=b"{not json")
    assert garbage.status_code == 422
    assert garbage.headers["content-type"] == "application/problem+json"

    with database.transaction() as session:
        assert session.scalar(select(Upload.records_received)) == len(body["records"])
        stored = session.scalars(select(Encounter).where(Encounter.case_id == case["id"])).all()
        assert len(stored) == len(body["records"])
        assert sum(1 for e in stored if e.valid) == 80
        received = audit_actions(session, "tracing.upload.received")
        assert received[0].details["counts"]["valid"] == 80
        assert len(audit_actions(session, "tracing.upload.refused")) == 3

    Worker(database).run_until_idle()  # contact resolution, queued by the upload

    page = officer.get(f"/api/v1/tracing/cases/{case['id']}/contacts").json()
    assert [c["nric"] for c in page["contacts"]] == [near.nric, far.nric]
    first, second = page["contacts"]
    assert first["is_close"] and first["close_minutes"] >= 30 and first["closest_distance_m"] < 2
    assert not second["is_close"] and second["close_minutes"] == 0
    assert stranger.nric not in json.dumps(page)

    review = officer.post(
        f"/api/v1/tracing/cases/{case['id']}/contacts/review", json={"confirm": [first["id"]]}
    )
    assert review.json() == {"changed": 1}
    notified = officer.post(f"/api/v1/tracing/cases/{case['id']}/notify", json={"channel": "sms"})
    assert notified.json()["notified"] == 1
    csv_text = officer.get(f"/api/v1/tracing/cases/{case['id']}/contacts.csv").text
    assert near.nric in csv_text.splitlines()[1]

    with database.transaction() as session:
        order = session.scalar(select(QuarantineOrder))
        assert order is not None and order.nric == near.nric
        message = session.get(Message, order.message_id)
        assert message is not None and message.recipient == near.mobile
        assert order.reference in message.body
        contact = session.scalar(select(Contact).where(Contact.nric == near.nric))
        assert contact is not None and contact.status == "notified"
        viewed = audit_actions(session, "tracing.contacts.")
        assert [e.action for e in viewed] == [
            "tracing.contacts.viewed",
            "tracing.contacts.exported",
        ]
        assert viewed[0].actor == "person:officer-1"


def test_only_health_officers_see_contacts(
    client: TestClient, app: Any, login: Callable[..., None], add_person: Callable[..., Any]
) -> None:
    case_url = "/api/v1/tracing/cases/1/contacts"
    assert client.get(case_url).status_code == 401
    with TestClient(app, raise_server_exceptions=False) as nurse:
        login(nurse, ["registry.read"], person_id="nurse")
        assert nurse.get(case_url).status_code == 403
        assert (
            nurse.get("/tracing/cases/1/contacts", headers={"accept": "text/html"}).status_code
            == 403
        )
        assert nurse.post("/api/v1/tracing/cases", json={"nric": "S1234567D"}).status_code == 403


def test_oversized_upload_is_refused_before_reading(
    client: TestClient, tracing_settings: Callable[..., None]
) -> None:
    tracing_settings(upload_max_bytes="1000")
    big = json.dumps({"token": "x", "records": [{"msg": "y" * 2000}]})
    response = client.post("/api/v1/tracing/uploads", content=big)
    assert response.status_code == 413
    assert response.json()["code"] == "tracing_upload_too_large"

    def chunks():  # no Content-Length: refused while streaming
        for _ in range(100):
            yield b" " * 100

    streamed = client.post("/api/v1/tracing/uploads", content=chunks())
    assert streamed.status_code == 413


def test_expired_upload_token_is_refused(
    client: TestClient,
    officer: TestClient,
    add_person: Callable[..., Any],
    register_phone: Callable[..., Any],
) -> None:
    person = add_person()
    phone = register_phone(person)
    old = issue_upload_token(
        KEYRING, phone["uid"], "ABCDEF", ["ABCDEF"], now=datetime.now(UTC) - timedelta(hours=3)
    )
    response = client.post(
        "/api/v1/tracing/uploads", content=json.dumps({"token": old, "records": []})
    )
    assert response.status_code == 401
    assert response.json()["code"] == "tracing_upload_token_expired"


def test_key_rotation_and_production_without_keys(
    client: TestClient,
    add_person: Callable[..., Any],
    register_phone: Callable[..., Any],
    monkeypatch: Any,
) -> None:
    old_key, new_key = (base64.b64encode(bytes([n]) * 32).decode() for n in (1, 2))
    phone = register_phone(add_person())
    device = {"authorization": f"Bearer {phone['device_token']}"}
    monkeypatch.setenv("SMARTNATION_TRACING_KEYS", old_key)
    before = client.get("/api/v1/tracing/tempids", headers=device).json()["tempIDs"][0]["tempID"]
    monkeypatch.setenv("SMARTNATION_TRACING_KEYS", f"{new_key},{old_key}")
    after = client.get("/api/v1/tracing/tempids", headers=device).json()["tempIDs"][0]["tempID"]
    rotated = Keyring.of([base64.b64decode(new_key), base64.b64decode(old_key)])
    only_new = Keyring.of([base64.b64decode(new_key)])
    assert open_tempid(only_new, after) is not None  # sealed with the new, current key
    assert open_tempid(only_new, before) is None
    assert open_tempid(rotated, before).uid == phone["uid"]  # type: ignore[union-attr]
    monkeypatch.delenv("SMARTNATION_TRACING_KEYS")
    monkeypatch.setenv("SMARTNATION_ENVIRONMENT", "production")
    refused = client.get("/api/v1/tracing/tempids", headers=device)
    assert refused.status_code == 503
    assert refused.json()["code"] == "tracing_key_configuration"
    assert old_key not in refused.text


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=90),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.one_of(
        JSON.map(json.dumps),
        st.fixed_dictionaries(
            {"token": JSON, "records": st.lists(JSON, max_size=5), "events": JSON}
        ).map(json.dumps),
        st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
    )
)
def test_any_upload_body_is_answered_without_a_server_error(client: TestClient, body: str) -> None:
    response = client.post("/api/v1/tracing/uploads", content=body.encode("utf-8", "replace"))
    assert response.status_code in (401, 413, 422), response.text
    assert response.headers["content-type"] == "application/problem+json"
