from collections.abc import Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

import pytest

from smartnation.messaging.channels.fakes.server import ServerThread
from smartnation.messaging.channels.fakes.telegram_server import FakeTelegram
from smartnation.messaging.channels.fakes.twilio_server import FakeTwilio
from smartnation.messaging.channels.fakes.whatsapp_server import FakeWhatsApp

FakeT = TypeVar("FakeT")


@dataclass
class Running(Generic[FakeT]):
    """A fake provider and the base URL of the server answering for it."""

    fake: FakeT
    url: str


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def whatsapp_fake() -> Iterator[Running[FakeWhatsApp]]:
    fake = FakeWhatsApp()
    with ServerThread(fake.app()) as server:
        yield Running(fake, server.url)


@pytest.fixture
def telegram_fake() -> Iterator[Running[FakeTelegram]]:
    fake = FakeTelegram()
    with ServerThread(fake.app()) as server:
        yield Running(fake, server.url)


@pytest.fixture
def twilio_fake() -> Iterator[Running[FakeTwilio]]:
    fake = FakeTwilio()
    with ServerThread(fake.app()) as server:
        yield Running(fake, server.url)
