"""Email over SMTP: multipart text and HTML, with one-click unsubscribe (RFC 2369, RFC 8058).

The stdlib `smtplib` runs in a thread pool sized to the send policy's concurrency; each thread
keeps its own SMTP connection open across messages (a new connection, and TLS handshake, per
message would dominate the cost). That avoids a new dependency for what is a blocking but
well-understood client.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
import smtplib
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Literal

from smartnation.messaging.channels.base import (
    BoundedChannel,
    ChannelKind,
    Failure,
    InvalidRecipient,
    OutboundMessage,
    PermanentFailure,
    SendPolicy,
    SendResult,
    TemporaryFailure,
)

Security = Literal["none", "starttls", "tls"]

_IDLE_PROBE_SECONDS = 5.0


# RFC 5322 dot-atom-text, the form of a Message-ID's left part.
_DOT_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")


def _message_id_left(key: str) -> str:
    """`key` itself when it is a valid left part, else a stable digest of it."""
    if _DOT_ATOM.fullmatch(key):
        return key
    return hashlib.sha256(key.encode()).hexdigest()[:40]


def build_email(
    message: OutboundMessage,
    *,
    from_address: str,
    from_name: str | None = None,
    message_id_domain: str = "localhost",
) -> EmailMessage:
    """The MIME message for `message`: text/plain, plus text/html when there is HTML."""
    mail = EmailMessage()
    mail["From"] = Address(display_name=from_name or "", addr_spec=from_address)
    mail["To"] = message.recipient
    mail["Subject"] = message.subject or ""
    mail["Date"] = format_datetime(datetime.now(UTC))
    # Derived from our id so that the provider id is known before the send, and a retried send
    # carries the same Message-ID (receivers may drop the duplicate).
    mail["Message-ID"] = f"<{_message_id_left(message.dedupe_key)}@{message_id_domain}>"
    unsubscribe = [
        f"<{uri}>" for uri in (message.unsubscribe_url, message.unsubscribe_mailto) if uri
    ]
    if unsubscribe:
        mail["List-Unsubscribe"] = ", ".join(unsubscribe)
    if message.unsubscribe_url and message.unsubscribe_url.startswith("https://"):
        # RFC 8058: mail clients may POST this body to the HTTPS URI, without a confirmation page.
        mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    mail.set_content(message.body or "")
    if message.html_body:
        mail.add_alternative(message.html_body, subtype="html")
    return mail


class SmtpEmailChannel(BoundedChannel):
    kind = ChannelKind.EMAIL

    def __init__(
        self,
        *,
        host: str,
        port: int = 587,
        from_address: str,
        from_name: str | None = None,
        username: str | None = None,
        password: str | None = None,
        security: Security = "starttls",
        timeout: float = 30.0,
        message_id_domain: str | None = None,
        policy: SendPolicy | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.policy = policy or SendPolicy(concurrency=8)
        self.host = host
        self.port = port
        self.from_address = from_address
        self.from_name = from_name
        self.username = username
        self.password = password
        self.security = security
        self.timeout = timeout
        self.message_id_domain = message_id_domain or from_address.rpartition("@")[2]
        self._ssl_context = ssl_context or ssl.create_default_context()
        self._executor = ThreadPoolExecutor(
            max_workers=self.policy.concurrency, thread_name_prefix="smtp"
        )
        self._local = threading.local()
        self._open: set[smtplib.SMTP] = set()
        self._open_lock = threading.Lock()

    async def send(self, message: OutboundMessage) -> SendResult:
        mail = build_email(
            message,
            from_address=self.from_address,
            from_name=self.from_name,
            message_id_domain=self.message_id_domain,
        )
        loop = asyncio.get_running_loop()
        failure = await loop.run_in_executor(self._executor, self._deliver, mail)
        if failure is not None:
            return SendResult.failed(message, failure)
        return SendResult.ok(message, str(mail["Message-ID"]))

    def _deliver(self, mail: EmailMessage) -> Failure | None:
        try:
            connection = self._connection()
        except smtplib.SMTPResponseException as exc:
            # Greeting, STARTTLS or login refused (e.g. 535 bad credentials).
            self._drop()
            return _classify_reply(exc.smtp_code, exc.smtp_error, recipient=False)
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            return TemporaryFailure("connect", type(exc).__name__)
        try:
            connection.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            self._reset()
            code, reply = next(iter(exc.recipients.values()))
            return _classify_reply(code, reply, recipient=True)
        except smtplib.SMTPResponseException as exc:
            self._drop()
            return _classify_reply(exc.smtp_code, exc.smtp_error, recipient=False)
        except (smtplib.SMTPException, OSError) as exc:
            # Lost connection or timeout: the server may or may not have queued the message.
            self._drop()
            return TemporaryFailure("connection", type(exc).__name__, ambiguous=True)
        return None

    def _connection(self) -> smtplib.SMTP:
        connection: smtplib.SMTP | None = getattr(self._local, "connection", None)
        now = time.monotonic()
        if connection is not None:
            # Servers close idle sessions; probe only one that sat idle, not every send.
            idle = now - getattr(self._local, "used_at", now)
            try:
                if idle < _IDLE_PROBE_SECONDS or connection.noop()[0] == 250:
                    self._local.used_at = now
                    return connection
            except (smtplib.SMTPException, OSError):
                pass
            self._drop()
        if self.security == "tls":
            connection = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=self._ssl_context
            )
        else:
            connection = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            if self.security == "starttls":
                connection.starttls(context=self._ssl_context)
        if self.username:
            connection.login(self.username, self.password or "")
        self._local.connection = connection
        self._local.used_at = now
        with self._open_lock:
            self._open.add(connection)
        return connection

    def _reset(self) -> None:
        connection: smtplib.SMTP | None = getattr(self._local, "connection", None)
        if connection is None:
            return
        try:
            connection.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()

    def _drop(self) -> None:
        connection: smtplib.SMTP | None = getattr(self._local, "connection", None)
        self._local.connection = None
        if connection is None:
            return
        with self._open_lock:
            self._open.discard(connection)
        with contextlib.suppress(OSError):
            connection.close()

    async def aclose(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self._close_all)

    def _close_all(self) -> None:
        self._executor.shutdown(wait=True)
        with self._open_lock:
            connections, self._open = self._open, set()
        for connection in connections:
            try:
                connection.quit()
            except (smtplib.SMTPException, OSError):
                connection.close()


def _classify_reply(code: int, reply: bytes | str, *, recipient: bool) -> Failure:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    code_text = f"smtp-{code}"
    if 400 <= code < 500:
        return TemporaryFailure(code_text, text)
    # 5.1.x enhanced codes are about the address itself (RFC 3463).
    if recipient or text.startswith("5.1."):
        return InvalidRecipient(code_text, text)
    return PermanentFailure(code_text, text)
