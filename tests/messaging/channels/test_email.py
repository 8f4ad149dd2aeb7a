import email
import email.policy
import socket
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from smartnation.messaging.channels.base import (
    ChannelKind,
    InvalidRecipient,
    OutboundMessage,
    PermanentFailure,
    SendPolicy,
    TemporaryFailure,
)
from smartnation.messaging.channels.email import SmtpEmailChannel
from smartnation.messaging.channels.fakes.server import bind

pytestmark = pytest.mark.anyio

UNSUBSCRIBE = "https://notify.example.gov.sg/unsubscribe/c7/abc123"


class Recorder:
    """An aiosmtpd handler that keeps what it receives and refuses scripted addresses."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []
        self.refuse_rcpt: dict[str, str] = {}
        self.refuse_data: str | None = None
        self.sessions = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.sessions += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse_rcpt:
            return self.refuse_rcpt[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.refuse_data:
            return self.refuse_data
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"


class BoundController(Controller):
    """aiosmtpd on a socket we bound to a free port ourselves (no port race)."""

    def __init__(self, handler: Any) -> None:
        self._sock = bind()
        super().__init__(handler, hostname="127.0.0.1", port=self._sock.getsockname()[1])

    def _create_server(self):
        return self.loop.create_server(self._factory_invoker, sock=self._sock)


@pytest.fixture
def smtp() -> Iterator[tuple[Recorder, int]]:
    recorder = Recorder()
    controller = BoundController(recorder)
    controller.start()
    try:
        yield recorder, controller.port
    finally:
        controller.stop()


def channel_for(port: int, **kwargs: Any) -> SmtpEmailChannel:
    return SmtpEmailChannel(
        host="127.0.0.1",
        port=port,
        security="none",
        from_address="no-reply@notify.example.gov.sg",
        from_name="Gov.sg",
        timeout=5,
        **kwargs,
    )


def mail(recipient: str = "tan.ah.kow@example.com", n: int = 1, **kwargs: Any) -> OutboundMessage:
    defaults: dict[str, Any] = {
        "subject": "Your vaccination appointment",
        "body": "Your appointment is on 12 May at 10:00.",
        "html_body": "<p>Your appointment is on <strong>12 May</strong> at 10:00.</p>",
        "unsubscribe_url": UNSUBSCRIBE,
        "unsubscribe_mailto": "mailto:unsubscribe@notify.example.gov.sg?subject=c7",
    }
    defaults.update(kwargs)
    return OutboundMessage(f"e{n}", ChannelKind.EMAIL, recipient, **defaults)


async def send(port: int, message: OutboundMessage, **kwargs: Any):
    channel = channel_for(port, **kwargs)
    try:
        return await channel.send(message)
    finally:
        await channel.aclose()


async def test_email_has_both_parts_and_one_click_unsubscribe_headers(smtp):
    recorder, port = smtp
    result = await send(port, mail())
    assert result.accepted
    assert result.provider_message_id == "<e1@notify.example.gov.sg>"
    ((rcpt_tos, received),) = recorder.messages
    assert rcpt_tos == ["tan.ah.kow@example.com"]
    (sender,) = received["From"].addresses
    assert (sender.display_name, sender.addr_spec) == ("Gov.sg", "no-reply@notify.example.gov.sg")
    assert received["To"] == "tan.ah.kow@example.com"
    assert received["Subject"] == "Your vaccination appointment"
    assert received["Message-ID"] == "<e1@notify.example.gov.sg>"
    assert received["Date"]
    assert received["List-Unsubscribe"] == (
        f"<{UNSUBSCRIBE}>, <mailto:unsubscribe@notify.example.gov.sg?subject=c7>"
    )
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert received.get_content_type() == "multipart/alternative"
    plain = received.get_body(("plain",))
    html = received.get_body(("html",))
    assert plain is not None
    assert html is not None
    assert plain.get_content().strip() == "Your appointment is on 12 May at 10:00."
    assert "<strong>12 May</strong>" in html.get_content()


async def test_non_latin_text_survives(smtp):
    recorder, port = smtp
    result = await send(
        port, mail(subject="疫苗接种预约", body="您的预约在5月12日。", html_body=None)
    )
    assert result.accepted
    ((_, received),) = recorder.messages
    assert received["Subject"] == "疫苗接种预约"
    assert received.get_content_type() == "text/plain"
    assert received.get_content().strip() == "您的预约在5月12日。"


async def test_without_an_https_url_there_is_no_one_click_header(smtp):
    recorder, port = smtp
    await send(port, mail(unsubscribe_url=None))
    ((_, received),) = recorder.messages
    assert received["List-Unsubscribe"] == "<mailto:unsubscribe@notify.example.gov.sg?subject=c7>"
    assert received["List-Unsubscribe-Post"] is None


async def test_a_refused_mailbox_is_an_invalid_recipient(smtp):
    recorder, port = smtp
    recorder.refuse_rcpt["nobody@example.com"] = "550 5.1.1 No such user"
    result = await send(port, mail("nobody@example.com"))
    assert isinstance(result.failure, InvalidRecipient)
    assert result.failure.code == "smtp-550"


async def test_a_4xx_reply_is_temporary(smtp):
    recorder, port = smtp
    recorder.refuse_rcpt["busy@example.com"] = "451 4.3.0 Try again later"
    result = await send(port, mail("busy@example.com"))
    assert isinstance(result.failure, TemporaryFailure)
    assert result.failure.code == "smtp-451"


async def test_a_refused_message_is_permanent(smtp):
    recorder, port = smtp
    recorder.refuse_data = "554 5.6.0 Message rejected"
    result = await send(port, mail())
    assert isinstance(result.failure, PermanentFailure)
    assert result.failure.code == "smtp-554"


async def test_no_server_is_temporary_and_certainly_not_sent():
    with socket.socket() as placeholder:
        placeholder.bind(("127.0.0.1", 0))
        result = await send(placeholder.getsockname()[1], mail())
    assert isinstance(result.failure, TemporaryFailure)
    assert not result.failure.ambiguous


async def test_send_many_reuses_connections_and_recovers_after_a_refusal(smtp):
    recorder, port = smtp
    recorder.refuse_rcpt["r3@example.com"] = "550 5.1.1 No such user"
    channel = channel_for(port, policy=SendPolicy(concurrency=2))
    messages = [mail(f"r{n}@example.com", n=n) for n in range(10)]
    try:
        results = await channel.send_many(messages)
    finally:
        await channel.aclose()
    assert [r.accepted for r in results] == [n != 3 for n in range(10)]
    assert len(recorder.messages) == 9
    # One session per worker thread, not one per message.
    assert recorder.sessions <= 2


async def test_a_key_that_is_not_a_valid_message_id_is_digested(smtp):
    recorder, port = smtp
    result = await send(port, mail(idempotency_key="campaign-7:tan@example.com"))
    again = await send(port, mail(n=2, idempotency_key="campaign-7:tan@example.com"))
    assert result.provider_message_id == again.provider_message_id
    assert result.provider_message_id is not None
    left = result.provider_message_id.removeprefix("<").split("@")[0]
    assert len(left) == 40
    assert all(c in "0123456789abcdef" for c in left)
    assert recorder.messages[0][1]["Message-ID"] == result.provider_message_id
