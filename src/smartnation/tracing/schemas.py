"""API schemas of the tracing domain."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


class RegistrationIn(BaseModel):
    nric: str = Field(max_length=20)
    phone: str = Field(max_length=32)
    kind: Literal["app", "token"] = "app"
    token_serial: str | None = Field(default=None, max_length=40)
    language: Literal["en", "zh", "ms", "ta"] = "en"


class RegistrationOut(BaseModel):
    registration_id: str
    expires_at: datetime


class VerifyIn(BaseModel):
    code: str = Field(max_length=12)


class RegisteredOut(BaseModel):
    uid: str
    kind: str
    device_token: str = Field(description="Shown once: send as `Authorization: Bearer tt_...`.")


class UploadCodeIn(BaseModel):
    code: str = Field(max_length=12)


class UploadTokenOut(BaseModel):
    status: Literal["SUCCESS"] = "SUCCESS"
    token: str


class UploadOut(BaseModel):
    status: Literal["SUCCESS"] = "SUCCESS"
    upload_id: int
    records: int
    counts: dict[str, int]
    duplicate_records: int


class CaseIn(BaseModel):
    nric: str = Field(max_length=20)


class CaseOut(BaseModel):
    id: int
    reference: str
    status: str
    resolution: str
    resolution_summary: dict[str, Any]
    created_at: datetime


class IssuedCodeOut(BaseModel):
    code: str
    expires_at: datetime


class ContactOut(BaseModel):
    id: int
    rank: int
    nric: str
    name: str | None
    phone: str | None
    sources: str
    is_close: bool
    close_minutes: float
    total_minutes: float
    closest_distance_m: float | None
    safeentry_overlap_minutes: float
    venues: list[dict[str, Any]]
    first_exposure: datetime | None
    last_exposure: datetime | None
    status: str


class ContactPageOut(BaseModel):
    total: int
    page: int
    per_page: int
    contacts: list[ContactOut]


class ReviewIn(BaseModel):
    confirm: list[int] = Field(default_factory=list, max_length=5000)
    dismiss: list[int] = Field(default_factory=list, max_length=5000)


class NotifyIn(BaseModel):
    channel: Literal["sms", "whatsapp"] = "sms"
    language: Literal["en", "zh", "ms", "ta"] = "en"


class NotifyOut(BaseModel):
    notified: int
    without_phone: int
    orders: list[str]


class ResolutionOut(BaseModel):
    contacts: int
    close_contacts: int
    bluetrace: int
    safeentry: int
    unknown_uids: int
    seconds: float


class VenueIn(BaseModel):
    uen: str = Field(max_length=12)
    branch: str | None = Field(default=None, max_length=6)
    name: str | None = Field(default=None, max_length=120)


class VenueOut(BaseModel):
    code: str
    name: str
    uen: str
    branch: str | None
    postal_code: str | None
    url: str


class CheckInIn(BaseModel):
    venue_code: str = Field(max_length=120)
    nric: str | None = Field(default=None, max_length=20)
    uid: str | None = Field(default=None, max_length=40, description="TraceTogether token/app id")
    mobile: str | None = Field(default=None, max_length=32)
    method: Literal["staff_scan", "tt_token"] = "staff_scan"


class CheckInOut(BaseModel):
    id: int
    venue_code: str
    checked_in_at: datetime
    checked_out_at: datetime | None


class PublicVisitOut(BaseModel):
    venue: str
    postal_code: str | None
    from_: datetime = Field(alias="from")
    to: datetime

    model_config = {"populate_by_name": True}


class VerificationCodeOut(BaseModel):
    code: str
    expires_at: datetime


class PublishIn(BaseModel):
    verification_code: str = Field(alias="verificationCode", max_length=20)
    keys: list[dict[str, Any]] = Field(max_length=100)

    model_config = {"populate_by_name": True}


class PublishOut(BaseModel):
    published: int
