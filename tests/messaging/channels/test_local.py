import pytest

from smartnation.messaging.channels.base import Channel, ChannelKind, OutboundMessage
from smartnation.messaging.channels.local import InMemoryInboxStore, LocalChannel

pytestmark = pytest.mark.anyio


def message(n: int, recipient: str = "+6581234567", **kwargs) -> OutboundMessage:
    return OutboundMessage(f"m{n}", ChannelKind.SMS, recipient, body=f"hello {n}", **kwargs)


async def test_messages_land_in_the_inbox_newest_first():
    store = InMemoryInboxStore()
    channel = LocalChannel(ChannelKind.SMS, store)
    assert isinstance(channel, Channel)
    results = await channel.send_many([message(n) for n in range(3)])
    assert all(r.accepted for r in results)
    recent = await store.recent()
    assert [e.message.message_id for e in recent] == ["m2", "m1", "m0"]
    assert await store.get(results[0].provider_message_id or "") == recent[2]


async def test_the_same_idempotency_key_is_kept_once_and_answers_the_same_id():
    store = InMemoryInboxStore()
    channel = LocalChannel(ChannelKind.SMS, store)
    first = await channel.send(message(1, idempotency_key="campaign-7:+6581234567"))
    again = await channel.send(message(2, idempotency_key="campaign-7:+6581234567"))
    assert again.provider_message_id == first.provider_message_id
    assert len(await store.recent()) == 1


async def test_recent_filters_by_channel_and_recipient():
    store = InMemoryInboxStore()
    sms = LocalChannel(ChannelKind.SMS, store)
    email = LocalChannel(ChannelKind.EMAIL, store)
    await sms.send(message(1))
    await sms.send(message(2, recipient="+6590000000"))
    await email.send(
        OutboundMessage("e1", ChannelKind.EMAIL, "a@example.com", body="hi", subject="s")
    )
    assert [e.message.message_id for e in await store.recent(channel=ChannelKind.SMS)] == [
        "m2",
        "m1",
    ]
    assert [e.message.message_id for e in await store.recent(recipient="+6590000000")] == ["m2"]
    assert len(await store.recent(limit=1)) == 1


async def test_the_inbox_stays_bounded():
    store = InMemoryInboxStore(max_entries=5)
    channel = LocalChannel(ChannelKind.SMS, store)
    results = await channel.send_many([message(n) for n in range(8)])
    assert len(await store.recent()) == 5
    assert await store.get(results[0].provider_message_id or "") is None
    assert await store.get(results[7].provider_message_id or "") is not None
