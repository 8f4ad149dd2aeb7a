from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from smartnation.messaging.channels.base import ChannelKind, OutboundMessage, TemporaryFailure
from smartnation.messaging.channels.httpcommon import retry_after_header
from smartnation.messaging.channels.whatsapp import WhatsAppCloudChannel, classify_error

pytestmark = pytest.mark.anyio


def response(status: int = 429, **headers: str) -> httpx.Response:
    return httpx.Response(status, headers=headers)


def test_retry_after_in_seconds():
    assert retry_after_header(response(**{"Retry-After": "12"})) == 12.0


def test_retry_after_as_an_http_date():
    later = datetime.now(UTC) + timedelta(seconds=30)
    seconds = retry_after_header(response(**{"Retry-After": format_datetime(later, usegmt=True)}))
    assert seconds is not None
    assert 25 <= seconds <= 30


@pytest.mark.parametrize("value", ["", "soon"])
def test_missing_or_unreadable_retry_after_is_none(value):
    assert retry_after_header(response(**{"Retry-After": value})) is None


def test_a_graph_error_with_odd_error_data_still_classifies():
    odd = httpx.Response(400, json={"error": {"code": 130429, "error_data": "x", "message": "m"}})
    failure = classify_error(odd)
    assert failure.code == "130429"
    assert failure.text == "m"


async def test_a_200_without_a_message_id_is_an_ambiguous_temporary_failure():
    # A server adds nothing here: the reply is the whole point, so a mock transport serves it.
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json={"messages": []}))
    async with httpx.AsyncClient(transport=transport, base_url="http://graph.test") as client:
        channel = WhatsAppCloudChannel(phone_number_id="1", access_token="t", client=client)
        result = await channel.send(
            OutboundMessage("m1", ChannelKind.WHATSAPP, "+6581234567", template_name="t")
        )
    assert isinstance(result.failure, TemporaryFailure)
    assert result.failure.ambiguous
