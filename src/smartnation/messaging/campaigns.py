"""Broadcast campaigns of the Gov.sg channel: draft, second-officer approval, queueing, control.

A campaign has one text per language with `{named}` variables filled from the campaign's values;
the texts are checked when saved and again before anything is queued. Queueing the audience is
set-based, one `INSERT ... SELECT` per step over subscriber ids: each language's text is rendered
once, never per recipient, and each step goes on from the last committed one, so nobody is
queued twice (the unique idempotency key (campaign, subscriber) guards it too).
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import String, and_, case, cast, exists, func, insert, literal, select, update
from sqlalchemy.orm import Session

from smartnation.core import audit
from smartnation.core.clock import utcnow
from smartnation.core.errors import Conflict, FieldProblem, InvalidInput, NotAllowed, NotFound
from smartnation.core.i18n import LANGUAGE_CODES, N_
from smartnation.core.web.auth import Principal
from smartnation.messaging.models import Campaign, Message, Subscriber, SubscriberTopic
from smartnation.messaging.subscribers import SUBSCRIBER_CHANNELS, parse_topics

OFFICER_ROLE = "messaging.officer"
APPROVER_ROLE = "messaging.approver"
LANGUAGE_ORDER = ("en", "zh", "ms", "ta")
MAX_TEXT = 4096
EDITABLE = ("draft",)
# The footer every broadcast carries, in the subscriber's language.
FOOTERS = {
    "en": "Reply STOP to unsubscribe.",
    "zh": "回复 STOP 取消订阅。",
    "ms": "Balas STOP untuk berhenti melanggan.",
    "ta": "விலக STOP என்று பதிலளிக்கவும்.",
}
_FORMATTER = string.Formatter()


@dataclass
class CampaignDraft:
    """What an officer writes: texts per language, values for their variables, an audience."""

    title: str
    channel: str
    texts: dict[str, str]
    variables: dict[str, str] = field(default_factory=dict)
    topic: str | None = None
    languages: list[str] = field(default_factory=list)
    segment: str | None = None
    scheduled_at: datetime | None = None
    rate_per_second: float | None = None
    whatsapp_template: str | None = None


@dataclass(frozen=True)
class LanguageStats:
    language: str
    total: int
    queued: int
    sent: int
    delivered: int
    read: int
    failed: int
    cancelled: int


@dataclass(frozen=True)
class Progress:
    """Where a campaign is: per language and in total, for the live progress page."""

    campaign_id: int
    status: str
    recipients: int
    by_language: list[LanguageStats]

    @property
    def done(self) -> int:
        return sum(s.total - s.queued for s in self.by_language)

    @property
    def percent(self) -> int:
        return int(100 * self.done / self.recipients) if self.recipients else 0

    def total(self, name: str) -> int:
        return sum(getattr(s, name) for s in self.by_language)


def _variables_in(text: str, field_name: str) -> set[str]:
    try:
        names = {name for _, name, _, _ in _FORMATTER.parse(text) if name is not None}
    except ValueError:
        raise InvalidInput(
            FieldProblem(
                field_name, N_("Braces must enclose a variable name, like {date}."), "format"
            )
        ) from None
    if "" in names or any(not n.isidentifier() for n in names):
        raise InvalidInput(
            FieldProblem(field_name, N_("Variable names use letters, digits and _ only."), "format")
        )
    return names


def audience_languages(languages: list[str]) -> list[str]:
    return [code for code in LANGUAGE_ORDER if not languages or code in languages]


def check_texts(
    texts: dict[str, str], variables: dict[str, str], languages: list[str]
) -> dict[str, str]:
    """Each audience language's text rendered once; refuses unknown or missing variables.

    Nothing is sent half-filled: every problem in every language is reported together.
    """
    problems: list[FieldProblem] = []
    rendered: dict[str, str] = {}
    used_anywhere: set[str] = set()
    for code in audience_languages(languages):
        name = f"texts.{code}"
        text = (texts.get(code) or "").strip()
        if not text:
            problems.append(
                FieldProblem(name, N_("Write the message in this language."), "required")
            )
            continue
        if len(text) > MAX_TEXT:
            problems.append(FieldProblem(name, N_("The message is too long."), "too_long"))
            continue
        try:
            used = _variables_in(text, name)
        except InvalidInput as error:
            problems += error.problems
            continue
        used_anywhere |= used
        missing = sorted(used - set(variables))
        problems += [
            FieldProblem(name, f"The variable {{{var}}} has no value.", "unknown_variable")
            for var in missing
        ]
        if not missing:
            rendered[code] = text.format_map(variables) + "\n\n" + FOOTERS[code]
    problems += [
        FieldProblem(f"variables.{var}", "No text uses this variable.", "unused_variable")
        for var in sorted(set(variables) - used_anywhere)
    ]
    if problems:
        raise InvalidInput(problems)
    return rendered


def _validate(draft: CampaignDraft) -> CampaignDraft:
    problems: list[FieldProblem] = []
    title = (draft.title or "").strip()
    if not title or len(title) > 200:
        problems.append(
            FieldProblem("title", N_("Give a title of 1 to 200 characters."), "required")
        )
    if draft.channel not in SUBSCRIBER_CHANNELS:
        problems.append(FieldProblem("channel", N_("Choose WhatsApp, SMS or Telegram."), "unknown"))
    languages = sorted({code for code in draft.languages if code})
    if any(code not in LANGUAGE_CODES for code in languages):
        problems.append(
            FieldProblem("languages", N_("Choose English, Chinese, Malay or Tamil."), "unknown")
        )
        languages = []
    topic = None
    if draft.topic:
        try:
            topic = parse_topics([draft.topic], "topic")[0]
        except InvalidInput as error:
            problems += error.problems
    if draft.rate_per_second is not None and not 0 < draft.rate_per_second <= 100_000:
        problems.append(FieldProblem("rate_per_second", N_("Give a rate above zero."), "range"))
    if draft.scheduled_at is not None and draft.scheduled_at.tzinfo is None:
        problems.append(
            FieldProblem("scheduled_at", N_("Give a time with its time zone."), "format")
        )
    variables = {str(k).strip(): str(v) for k, v in (draft.variables or {}).items()}
    try:
        check_texts(draft.texts, variables, languages)
    except InvalidInput as error:
        problems += error.problems
    if problems:
        raise InvalidInput(problems)
    return CampaignDraft(
        title=title,
        channel=draft.channel,
        texts={c: (draft.texts.get(c) or "").strip() for c in audience_languages(languages)},
        variables=variables,
        topic=topic,
        languages=languages,
        segment=(draft.segment or "").strip() or None,
        scheduled_at=draft.scheduled_at,
        rate_per_second=draft.rate_per_second,
        whatsapp_template=(draft.whatsapp_template or "").strip() or None,
    )


def _event(session: Session, campaign: Campaign, action: str, **details: object) -> None:
    audit.record(
        session,
        f"messaging.campaign.{action}",
        subject_type="campaign",
        subject_id=campaign.id,
        details={"status": campaign.status, **details},
    )


def create(session: Session, author: Principal, draft: CampaignDraft) -> Campaign:
    """Save a new draft campaign (texts and variables checked now)."""
    clean = _validate(draft)
    campaign = Campaign(
        title=clean.title,
        channel=clean.channel,
        texts=clean.texts,
        variables=clean.variables,
        topic=clean.topic,
        languages=clean.languages,
        segment=clean.segment,
        scheduled_at=clean.scheduled_at,
        rate_per_second=clean.rate_per_second,
        whatsapp_template=clean.whatsapp_template,
        status="draft",
        created_by=author.actor,
        created_at=utcnow(),
        recipients=0,
        queued=False,
    )
    session.add(campaign)
    session.flush()
    _event(session, campaign, "created", channel=campaign.channel)
    return campaign


def get(session: Session, campaign_id: int, *, lock: bool = False) -> Campaign:
    campaign = session.get(Campaign, campaign_id, with_for_update=lock)
    if campaign is None:
        raise NotFound(N_("We could not find that page or record."))
    return campaign


def recent(session: Session, limit: int = 50) -> list[Campaign]:
    return list(session.scalars(select(Campaign).order_by(Campaign.id.desc()).limit(limit)))


def _require(campaign: Campaign, *states: str) -> None:
    if campaign.status not in states:
        raise Conflict(
            f"This campaign is {campaign.status}; this needs it to be {' or '.join(states)}.",
            code="campaign_state",
        )


def _audience(campaign: Campaign) -> list[object]:
    conditions: list[object] = [
        Subscriber.channel == campaign.channel,
        Subscriber.status == "active",
    ]
    if campaign.languages:
        conditions.append(Subscriber.language.in_(campaign.languages))
    if campaign.segment:
        conditions.append(Subscriber.segment == campaign.segment)
    if campaign.topic:
        conditions.append(
            exists().where(
                SubscriberTopic.subscriber_id == Subscriber.id,
                SubscriberTopic.topic == campaign.topic,
            )
        )
    return conditions


def audience_size(session: Session, campaign: Campaign) -> int:
    """How many active subscribers the campaign's audience holds now."""
    query = select(func.count()).select_from(Subscriber).where(and_(*_audience(campaign)))  # type: ignore[arg-type]
    return int(session.scalar(query) or 0)


def submit(session: Session, officer: Principal, campaign_id: int) -> Campaign:
    """Ask for approval: texts are checked again and the audience counted."""
    campaign = get(session, campaign_id, lock=True)
    _require(campaign, "draft")
    check_texts(campaign.texts, campaign.variables, campaign.languages)
    campaign.recipients = audience_size(session, campaign)
    campaign.status = "submitted"
    campaign.submitted_at = utcnow()
    campaign.rejection_note = None
    _event(session, campaign, "submitted", recipients=campaign.recipients, by=officer.actor)
    return campaign


def approve(session: Session, approver: Principal, campaign_id: int) -> Campaign:
    """A second officer approves; the author never can. It starts at its time (or now)."""
    if not approver.has_role(APPROVER_ROLE):
        raise NotAllowed(N_("Only an approving officer can approve a broadcast."))
    campaign = get(session, campaign_id, lock=True)
    _require(campaign, "submitted")
    if campaign.created_by == approver.actor:
        raise NotAllowed(
            N_("A second officer must approve this broadcast: its author cannot."),
            code="author_cannot_approve",
        )
    campaign.status = "approved"
    campaign.approved_by = approver.actor
    campaign.approved_at = utcnow()
    _event(session, campaign, "approved")
    return campaign


def reject(session: Session, approver: Principal, campaign_id: int, note: str) -> Campaign:
    """Send a submitted campaign back to its author as a draft, with the reason."""
    if not approver.has_role(APPROVER_ROLE):
        raise NotAllowed(N_("Only an approving officer can approve a broadcast."))
    campaign = get(session, campaign_id, lock=True)
    _require(campaign, "submitted")
    campaign.status = "draft"
    campaign.rejection_note = (note or "").strip()[:2000] or None
    _event(session, campaign, "rejected")
    return campaign


def due_for_queueing(session: Session, now: datetime | None = None) -> list[int]:
    """Approved campaigns whose time has come."""
    now = now or utcnow()
    query = select(Campaign.id).where(
        Campaign.status == "approved",
        (Campaign.scheduled_at.is_(None)) | (Campaign.scheduled_at <= now),
    )
    return list(session.scalars(query.order_by(Campaign.id)))


@dataclass(frozen=True)
class QueueStep:
    """What one step of queueing did: rows added, and whether the whole audience is queued."""

    added: int
    done: bool


def queue_audience_step(
    session: Session, campaign_id: int, size: int | None = None
) -> QueueStep | None:
    """Queue the next `size` subscribers (by id) of the audience, or all that remain if None.

    One `INSERT ... SELECT` per step, going on from `queued_through`, the last subscriber id a
    committed step covered: read under the campaign's row lock, so steps never overlap, even
    from two workers, and a worker that died mid-step (its step rolled back) is resumed where
    the last committed step ended. The step that reaches the end marks the campaign queued and
    sending. Returns None when the campaign may not be queued (cancelled meanwhile, say).
    """
    campaign = get(session, campaign_id, lock=True)
    if campaign.status not in ("approved", "sending", "paused") or campaign.queued:
        return None
    rendered = check_texts(campaign.texts, campaign.variables, campaign.languages)
    now = utcnow()
    after = campaign.queued_through or 0
    upto = None
    if size is not None:
        # The id `size` subscribers on: a walk of the primary key, whatever the audience.
        upto = session.scalar(
            select(Subscriber.id)
            .where(Subscriber.id > after)
            .order_by(Subscriber.id)
            .offset(size - 1)
            .limit(1)
        )
    done = upto is None
    if done:
        # The last step covers everyone there is now; later subscribers missed this one.
        upto = session.scalar(select(func.max(Subscriber.id))) or after
    key = literal(f"campaign:{campaign.id}:") + cast(Subscriber.id, String)
    body = case(
        *((Subscriber.language == code, literal(text)) for code, text in rendered.items()),
        else_=literal(rendered.get("en", next(iter(rendered.values())))),
    )
    conditions = [*_audience(campaign), Subscriber.id > after, Subscriber.id <= upto]
    source = select(
        key,
        Subscriber.channel,
        Subscriber.address,
        Subscriber.language,
        literal(f"campaign:{campaign.id}"),
        body,
        literal("queued"),
        literal(0),
        literal(now, type_=Message.created_at.type),
        literal(campaign.id),
        Subscriber.id,
    ).where(*conditions)  # type: ignore[arg-type]
    columns = [
        "idempotency_key",
        "channel",
        "recipient",
        "language",
        "template",
        "body",
        "status",
        "attempts",
        "created_at",
        "campaign_id",
        "subscriber_id",
    ]
    # No ON CONFLICT clause (a quarter of the insert's cost): steps never overlap, and should
    # one ever meet a queued row, the unique idempotency key refuses the step whole.
    statement = insert(Message.__table__).from_select(columns, source)  # type: ignore[arg-type]
    # SQLAlchemy keeps an INSERT's row count only when asked to.
    result = session.execute(statement, execution_options={"preserve_rowcount": True})
    added = int(result.rowcount)  # type: ignore[attr-defined]
    campaign.queued_through = upto
    # Progress for the campaign page while a large audience is queued step by step.
    campaign.recipients = added if after == 0 else campaign.recipients + added
    if not done:
        session.flush()
        return QueueStep(added, False)
    count = select(func.count()).select_from(Message).where(Message.campaign_id == campaign.id)
    campaign.recipients = int(session.scalar(count) or 0)
    campaign.queued = True
    campaign.queued_at = now
    if campaign.status == "approved":
        campaign.status = "sending"
    _event(session, campaign, "queued", recipients=campaign.recipients)
    session.flush()
    return QueueStep(added, True)


def queue_audience(session: Session, campaign_id: int) -> int:
    """Turn the whole audience into message rows in one statement; returns how many were added.

    Safe to run twice: it goes on from where queueing ended, so nobody is queued twice.
    Workers queue national audiences in committed steps instead (`dispatch.queue_in_steps`).
    """
    step = queue_audience_step(session, campaign_id)
    return step.added if step is not None else 0


def pause(session: Session, officer: Principal, campaign_id: int) -> Campaign:
    """Stop claiming this campaign's rows; those in flight finish."""
    campaign = get(session, campaign_id, lock=True)
    _require(campaign, "sending", "approved")
    campaign.status = "paused"
    _event(session, campaign, "paused", by=officer.actor)
    return campaign


def resume(session: Session, officer: Principal, campaign_id: int) -> Campaign:
    campaign = get(session, campaign_id, lock=True)
    _require(campaign, "paused")
    campaign.status = "sending" if campaign.queued else "approved"
    _event(session, campaign, "resumed", by=officer.actor)
    return campaign


def cancel(session: Session, officer: Principal, campaign_id: int) -> Campaign:
    """Stop for good: rows not yet claimed are cancelled; rows in flight finish."""
    campaign = get(session, campaign_id, lock=True)
    _require(campaign, "draft", "submitted", "approved", "sending", "paused")
    campaign.status = "cancelled"
    campaign.cancelled_at = utcnow()
    session.execute(
        update(Message)
        .where(Message.campaign_id == campaign.id, Message.status == "queued")
        .values(status="cancelled", error="campaign cancelled", lease_until=None)
    )
    _event(session, campaign, "cancelled", by=officer.actor)
    return campaign


def complete_if_done(session: Session, campaign_id: int) -> bool:
    """Mark a sending campaign completed when none of its rows is queued or sending."""
    campaign = get(session, campaign_id, lock=True)
    if campaign.status != "sending":
        return False
    pending = session.scalar(
        select(Message.id)
        .where(Message.campaign_id == campaign.id, Message.status.in_(("queued", "sending")))
        .limit(1)
    )
    if pending is not None:
        return False
    campaign.status = "completed"
    campaign.completed_at = utcnow()
    _event(session, campaign, "completed")
    return True


def progress(session: Session, campaign_id: int) -> Progress:
    """Counts per language: queued (incl. in flight), sent, delivered, read, failed, cancelled."""
    campaign = get(session, campaign_id)
    rows = session.execute(
        select(Message.language, Message.status, func.count())
        .where(Message.campaign_id == campaign.id)
        .group_by(Message.language, Message.status)
    ).all()
    counts: dict[str, dict[str, int]] = {}
    for language, status, count in rows:
        counts.setdefault(language, {})[status] = int(count)
    stats = []
    for code in audience_languages(campaign.languages):
        c = counts.get(code, {})
        read = c.get("read", 0)
        delivered = c.get("delivered", 0) + read
        sent = c.get("sent", 0) + delivered
        stats.append(
            LanguageStats(
                language=code,
                total=sum(c.values()),
                queued=c.get("queued", 0) + c.get("sending", 0),
                sent=sent,
                delivered=delivered,
                read=read,
                failed=c.get("failed", 0),
                cancelled=c.get("cancelled", 0),
            )
        )
    return Progress(campaign.id, campaign.status, campaign.recipients, stats)
