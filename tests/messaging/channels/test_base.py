import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smartnation.messaging.channels.base import (
    ChannelKind,
    DeliveryStatus,
    OutboundMessage,
    PermanentFailure,
    RateLimited,
    SendPolicy,
    SendResult,
    advance,
    send_bounded,
)
from smartnation.messaging.channels.ratelimit import TokenBucket

pytestmark = pytest.mark.anyio

FORWARD = [
    DeliveryStatus.QUEUED,
    DeliveryStatus.SENT,
    DeliveryStatus.DELIVERED,
    DeliveryStatus.READ,
]


def message(n: int) -> OutboundMessage:
    return OutboundMessage(f"m{n}", ChannelKind.WHATSAPP, f"+6581234{n:03d}", body="hi")


def test_a_message_needs_a_body_or_a_template():
    with pytest.raises(ValueError, match="body or a template"):
        OutboundMessage("m1", ChannelKind.SMS, "+6581234567")
    with pytest.raises(ValueError, match="recipient"):
        OutboundMessage("m1", ChannelKind.SMS, "", body="x")


def test_dedupe_key_defaults_to_message_id():
    assert message(1).dedupe_key == "m1"
    keyed = OutboundMessage(
        "m1", ChannelKind.SMS, "+6581234567", body="x", idempotency_key="c1:+6581234567"
    )
    assert keyed.dedupe_key == "c1:+6581234567"


def test_failures_say_whether_a_retry_may_help():
    assert RateLimited("130429", "slow down", retry_after=2).retryable
    assert not PermanentFailure("190", "bad token").retryable


def test_advance_moves_forward_and_ignores_backward_reports():
    assert advance(DeliveryStatus.QUEUED, DeliveryStatus.SENT) is DeliveryStatus.SENT
    assert advance(DeliveryStatus.READ, DeliveryStatus.DELIVERED) is DeliveryStatus.READ
    assert advance(DeliveryStatus.SENT, DeliveryStatus.FAILED) is DeliveryStatus.FAILED
    assert advance(DeliveryStatus.FAILED, DeliveryStatus.READ) is DeliveryStatus.FAILED
    # A failure reported after delivery does not undo delivery.
    assert advance(DeliveryStatus.DELIVERED, DeliveryStatus.FAILED) is DeliveryStatus.DELIVERED


statuses = st.sampled_from(list(DeliveryStatus))


@given(st.lists(statuses, max_size=30))
def test_status_only_moves_forward(reports):
    current = DeliveryStatus.QUEUED
    for report in reports:
        new = advance(current, report)
        if current is DeliveryStatus.FAILED:
            assert new is DeliveryStatus.FAILED
        elif new is not DeliveryStatus.FAILED:
            assert new.rank >= current.rank
        else:
            assert current.rank < DeliveryStatus.DELIVERED.rank
        current = new


@given(st.lists(st.sampled_from(FORWARD), min_size=1, max_size=30))
def test_without_failures_the_result_is_the_furthest_report_in_any_order(reports):
    current = DeliveryStatus.QUEUED
    for report in reports:
        current = advance(current, report)
    assert current is max(reports, key=lambda s: s.rank)


@given(st.lists(statuses, max_size=30), statuses)
def test_applying_a_report_twice_changes_nothing(reports, last):
    current = DeliveryStatus.QUEUED
    for report in reports:
        current = advance(current, report)
    once = advance(current, last)
    assert advance(once, last) is once


async def test_send_bounded_keeps_order_and_bounds_concurrency():
    in_flight = 0
    peak = 0

    async def send(m: OutboundMessage) -> SendResult:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.001 * (int(m.message_id[1:]) % 3))
        in_flight -= 1
        return SendResult.ok(m, "p-" + m.message_id)

    messages = [message(n) for n in range(200)]
    results = await send_bounded(send, messages, SendPolicy(concurrency=7))
    assert [r.message_id for r in results] == [m.message_id for m in messages]
    assert all(r.provider_message_id == "p-" + r.message_id for r in results)
    assert peak == 7


async def test_send_bounded_retries_rate_limited_sends_and_stops_after_the_budget():
    calls: dict[str, int] = {}

    async def send(m: OutboundMessage) -> SendResult:
        calls[m.message_id] = calls.get(m.message_id, 0) + 1
        if m.message_id == "m0" or calls[m.message_id] < 3:
            return SendResult.failed(m, RateLimited("130429", "Rate limit hit", retry_after=0.01))
        return SendResult.ok(m, "ok")

    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    policy = SendPolicy(concurrency=4, rate_limit_retries=3, sleep=sleep)
    results = await send_bounded(send, [message(n) for n in range(5)], policy)
    assert isinstance(results[0].failure, RateLimited)
    assert calls["m0"] == 4  # first try and three retries
    assert all(r.accepted for r in results[1:])
    assert slept and all(s == 0.01 for s in slept)


async def test_send_bounded_pauses_the_shared_bucket_on_rate_limit():
    bucket = TokenBucket(1000, 10)
    seen_pause = False

    async def send(m: OutboundMessage) -> SendResult:
        nonlocal seen_pause
        if not seen_pause:
            seen_pause = True
            return SendResult.failed(m, RateLimited("429", "slow", retry_after=0.2))
        return SendResult.ok(m, "ok")

    loop = asyncio.get_running_loop()
    started = loop.time()
    results = await send_bounded(
        send, [message(n) for n in range(5)], SendPolicy(concurrency=5, limiter=bucket)
    )
    assert all(r.accepted for r in results)
    assert loop.time() - started >= 0.15


async def test_send_bounded_handles_an_empty_batch():
    async def send(m: OutboundMessage) -> SendResult:
        raise AssertionError("not called")

    assert await send_bounded(send, [], SendPolicy()) == []
