"""Broadcasts: approval by a second officer, set-based queueing, dispatch, pause/resume/cancel."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from broadcast_support import (
    APPROVER,
    AUTHOR,
    TEXTS,
    add_subscribers,
    approved_campaign,
    dispatch_until_idle,
)

from smartnation.core.db import Database
from smartnation.core.errors import Conflict, InvalidInput, NotAllowed
from smartnation.core.web.auth import Principal
from smartnation.messaging import campaigns
from smartnation.messaging.campaigns import CampaignDraft
from smartnation.messaging.dispatch import queue_in_steps
from smartnation.messaging.models import Campaign, Message


def _draft(**overrides: object) -> CampaignDraft:
    values: dict[str, object] = {
        "title": "Haze advisory",
        "channel": "whatsapp",
        "texts": dict(TEXTS),
        "variables": {"date": "1 June"},
    }
    values.update(overrides)
    return CampaignDraft(**values)  # type: ignore[arg-type]


def test_the_author_cannot_approve_their_own_broadcast(database: Database) -> None:
    author_and_approver = Principal(
        "person", "officer-9", "Both", frozenset({"messaging.officer", "messaging.approver"})
    )
    with database.transaction() as session:
        campaign = campaigns.create(session, author_and_approver, _draft())
        campaigns.submit(session, author_and_approver, campaign.id)
        with pytest.raises(NotAllowed) as refused:
            campaigns.approve(session, author_and_approver, campaign.id)
        assert refused.value.code == "author_cannot_approve"
        with pytest.raises(NotAllowed):
            campaigns.approve(session, AUTHOR, campaign.id)  # an officer without the role
        approved = campaigns.approve(session, APPROVER, campaign.id)
        assert (approved.status, approved.approved_by) == ("approved", APPROVER.actor)


def test_a_draft_must_be_submitted_before_approval(database: Database) -> None:
    with database.transaction() as session:
        campaign = campaigns.create(session, AUTHOR, _draft())
        with pytest.raises(Conflict):
            campaigns.approve(session, APPROVER, campaign.id)


@pytest.mark.parametrize(
    ("texts", "variables", "field", "code"),
    [
        ({**TEXTS, "zh": "疫苗 {day}"}, {"date": "1 June"}, "texts.zh", "unknown_variable"),
        ({**TEXTS, "ta": ""}, {"date": "1 June"}, "texts.ta", "required"),
        (TEXTS, {"date": "1 June", "place": "Bedok"}, "variables.place", "unused_variable"),
        ({**TEXTS, "en": "Open {date"}, {"date": "x"}, "texts.en", "format"),
        ({**TEXTS, "ms": "Dibuka {0}"}, {"date": "x"}, "texts.ms", "format"),
    ],
)
def test_template_variables_are_checked_before_anything_is_saved(
    database: Database, texts: dict[str, str], variables: dict[str, str], field: str, code: str
) -> None:
    with database.transaction() as session, pytest.raises(InvalidInput) as refused:
        campaigns.create(session, AUTHOR, _draft(texts=texts, variables=variables))
    assert (field, code) in [(p.field, p.code) for p in refused.value.problems]
    with database.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Campaign)) == 0


def test_a_language_outside_the_audience_needs_no_text(database: Database) -> None:
    with database.transaction() as session:
        campaign = campaigns.create(
            session, AUTHOR, _draft(texts={"zh": TEXTS["zh"]}, languages=["zh"])
        )
        assert set(campaign.texts) == {"zh"}


def test_queueing_is_set_based_renders_per_language_and_never_twice(database: Database) -> None:
    add_subscribers(database, 40)
    add_subscribers(database, 5, topic="transport", start=1000)  # outside the audience
    campaign_id = approved_campaign(database)
    with database.transaction() as session:
        assert campaigns.queue_audience(session, campaign_id) == 40
        # Running it again (a retried job) adds nobody.
        campaigns.get(session, campaign_id).queued = False
        assert campaigns.queue_audience(session, campaign_id) == 0
        bodies = dict(
            session.execute(
                sa.select(Message.language, Message.body)
                .where(Message.campaign_id == campaign_id)
                .distinct()
            ).all()
        )
        assert bodies["zh"].startswith("疫苗接种中心将于 1 June 开放。")
        assert bodies["ta"].endswith("விலக STOP என்று பதிலளிக்கவும்.")
        assert campaigns.get(session, campaign_id).status == "sending"


def test_queueing_in_committed_steps_queues_everyone_once_and_shows_progress(
    database: Database,
) -> None:
    add_subscribers(database, 23)
    add_subscribers(database, 4, topic="transport", start=1000)  # outside the audience
    add_subscribers(database, 6, start=2000)
    campaign_id = approved_campaign(database)
    seen: list[int] = []
    assert queue_in_steps(database, campaign_id, 5, seen.append) == 29
    # Steps walk subscriber ids 5 at a time, the audience's and others' alike.
    assert seen == [5, 10, 15, 20, 23, 26, 29]
    with database.transaction() as session:
        campaign = campaigns.get(session, campaign_id)
        assert (campaign.status, campaign.queued, campaign.recipients) == ("sending", True, 29)
        keys = session.scalars(
            sa.select(Message.subscriber_id).where(Message.campaign_id == campaign_id)
        ).all()
        assert len(keys) == len(set(keys)) == 29
    # Queued already: a second run (another worker, a retried job) adds nothing.
    assert queue_in_steps(database, campaign_id, 5) == 0


def test_queueing_resumes_after_the_last_committed_step(database: Database) -> None:
    add_subscribers(database, 12)
    campaign_id = approved_campaign(database)
    with database.transaction() as session:
        first = campaigns.queue_audience_step(session, campaign_id, 8)
        assert first == campaigns.QueueStep(8, False)
    # A worker that died during its next step: the step rolled back with it.
    with pytest.raises(RuntimeError), database.transaction() as session:
        campaigns.queue_audience_step(session, campaign_id, 8)
        raise RuntimeError("worker killed")
    assert queue_in_steps(database, campaign_id, 8) == 4
    with database.transaction() as session:
        assert campaigns.get(session, campaign_id).recipients == 12
        subscribers = session.scalars(
            sa.select(Message.subscriber_id).where(Message.campaign_id == campaign_id)
        ).all()
        assert len(subscribers) == len(set(subscribers)) == 12


def test_a_campaign_cancelled_while_queueing_stops_queueing(database: Database) -> None:
    add_subscribers(database, 10)
    campaign_id = approved_campaign(database)
    with database.transaction() as session:
        assert campaigns.queue_audience_step(session, campaign_id, 4) is not None
        campaigns.cancel(session, AUTHOR, campaign_id)
    assert queue_in_steps(database, campaign_id, 4) == 0
    with database.transaction() as session:
        statuses = session.scalars(
            sa.select(Message.status).where(Message.campaign_id == campaign_id)
        ).all()
        assert statuses == ["cancelled"] * 4


def test_a_broadcast_is_delivered_once_to_everyone_with_statistics_per_language(
    database: Database,
) -> None:
    add_subscribers(database, 60)
    campaign_id = approved_campaign(database)
    assert dispatch_until_idle(database, window=25) == 60
    assert dispatch_until_idle(database, window=25) == 0
    with database.transaction() as session:
        progress = campaigns.progress(session, campaign_id)
        assert progress.status == "completed"
        assert [(s.language, s.total, s.delivered, s.failed) for s in progress.by_language] == [
            ("en", 15, 15, 0),
            ("zh", 15, 15, 0),
            ("ms", 15, 15, 0),
            ("ta", 15, 15, 0),
        ]
        ids = session.scalars(
            sa.select(Message.provider_message_id).where(Message.campaign_id == campaign_id)
        ).all()
        assert len(set(ids)) == 60 and all(i and i.startswith("local-") for i in ids)


def test_pause_resume_and_cancel(database: Database) -> None:
    add_subscribers(database, 30)
    campaign_id = approved_campaign(database)
    with database.transaction() as session:
        campaigns.queue_audience(session, campaign_id)
        campaigns.pause(session, AUTHOR, campaign_id)
    assert dispatch_until_idle(database) == 0  # paused: nothing is claimed
    with database.transaction() as session:
        campaigns.resume(session, AUTHOR, campaign_id)
    assert dispatch_until_idle(database, window=10, lanes=1) > 0
    other = approved_campaign(database)
    with database.transaction() as session:
        campaigns.queue_audience(session, other)
        campaigns.cancel(session, AUTHOR, other)
        with pytest.raises(Conflict):
            campaigns.resume(session, AUTHOR, other)
    assert dispatch_until_idle(database) == 0
    with database.transaction() as session:
        progress = campaigns.progress(session, other)
        assert progress.total("cancelled") == 30 and progress.total("sent") == 0
