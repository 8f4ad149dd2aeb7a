import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from multidict import CIMultiDict
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from smartnation.messaging.channels.base import ChannelKind, OutboundMessage, TemporaryFailure
from smartnation.messaging.channels.fakes.server import ServerThread
from smartnation.messaging.channels.httpcommon import ProviderResponse, retry_after_header
from smartnation.messaging.channels.whatsapp import WhatsAppCloudChannel, classify_error

pytestmark = pytest.mark.anyio


def response(status: int = 429, body: object = None, **headers: str) -> ProviderResponse:
    content = b"" if body is None else json.dumps(body).encode()
    return ProviderResponse(status, "", CIMultiDict(headers), content)


def test_headers_are_read_whatever_their_case():
    assert retry_after_header(response(**{"retry-after": "3"})) == 3.0


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
    odd = response(400, {"error": {"code": 130429, "error_data": "x", "message": "m"}})
    failure = classify_error(odd)
    assert failure.code == "130429"
    assert failure.text == "m"


async def test_a_200_without_a_message_id_is_an_ambiguous_temporary_failure():
    # A provider that answers 200 but forgets the id: only the reply matters here.
    async def forgetful(request):
        return JSONResponse({"messages": []})

    app = Starlette(routes=[Route("/{version}/{phone}/messages", forgetful, methods=["POST"])])
    with ServerThread(app) as server:
        channel = WhatsAppCloudChannel(phone_number_id="1", access_token="t", base_url=server.url)
        try:
            result = await channel.send(
                OutboundMessage("m1", ChannelKind.WHATSAPP, "+6581234567", template_name="t")
            )
        finally:
            await channel.aclose()
    assert isinstance(result.failure, TemporaryFailure)
    assert result.failure.ambiguous
