"""The JSON shapes of the messaging API."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, Field

from smartnation.messaging.campaigns import CampaignDraft, Progress
from smartnation.messaging.models import Campaign


class CampaignIn(BaseModel):
    title: str = Field(max_length=200)
    channel: str = Field(description="whatsapp, sms or telegram")
    texts: dict[str, str] = Field(description="One text per language (en, zh, ms, ta)")
    variables: dict[str, str] = Field(default_factory=dict)
    topic: str | None = None
    languages: list[str] = Field(default_factory=list, description="Empty: every language")
    segment: str | None = None
    scheduled_at: AwareDatetime | None = None
    rate_per_second: float | None = None
    whatsapp_template: str | None = None

    def draft(self) -> CampaignDraft:
        return CampaignDraft(**self.model_dump())


class LanguageStatsOut(BaseModel):
    language: str
    total: int
    queued: int
    sent: int
    delivered: int
    read: int
    failed: int
    cancelled: int


class ProgressOut(BaseModel):
    campaign_id: int
    status: str
    recipients: int
    done: int
    percent: int
    by_language: list[LanguageStatsOut]

    @classmethod
    def of(cls, progress: Progress) -> ProgressOut:
        return cls(
            campaign_id=progress.campaign_id,
            status=progress.status,
            recipients=progress.recipients,
            done=progress.done,
            percent=progress.percent,
            by_language=[LanguageStatsOut(**vars(s)) for s in progress.by_language],
        )


class CampaignOut(BaseModel):
    id: int
    title: str
    channel: str
    status: str
    texts: dict[str, str]
    variables: dict[str, str]
    topic: str | None
    languages: list[str]
    segment: str | None
    scheduled_at: datetime | None
    created_by: str
    approved_by: str | None
    recipients: int

    @classmethod
    def of(cls, campaign: Campaign) -> CampaignOut:
        return cls(
            id=campaign.id,
            title=campaign.title,
            channel=campaign.channel,
            status=campaign.status,
            texts=campaign.texts,
            variables=campaign.variables,
            topic=campaign.topic,
            languages=campaign.languages,
            segment=campaign.segment,
            scheduled_at=campaign.scheduled_at,
            created_by=campaign.created_by,
            approved_by=campaign.approved_by,
            recipients=campaign.recipients,
        )


class RejectIn(BaseModel):
    note: str = Field(default="", max_length=2000)


class SignUpIn(BaseModel):
    channel: str
    address: str = Field(max_length=64)
    language: str = "en"
    topics: list[str] = Field(default_factory=list)


class SignUpOut(BaseModel):
    subscriber_id: int
    status: str = "pending"


class ConfirmIn(BaseModel):
    subscriber_id: int = Field(ge=1, le=2**63 - 1)
    code: str = Field(max_length=12)


class SubscriberOut(BaseModel):
    subscriber_id: int
    status: str
    language: str
    topics: list[str]
    manage_token: str
