"""A real SMTP server for tests (aiosmtpd on a free localhost port) that keeps every message it receives."""

from __future__ import annotations

import re
import socket
import threading
import time
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller


@dataclass
class Received:
    """One delivered message: envelope sender and recipients, and the parsed message."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def body(self) -> str:
        return self.message.get_content().replace("\r\n", "\n")

    def token(self, parameter: str) -> str:
        """The token of the first ``?<parameter>=`` link in the body."""
        found = re.search(rf"\?{parameter}=([A-Za-z0-9_-]+)", self.body)
        assert found, f"no ?{parameter}= link in: {self.body}"
        return found.group(1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpServer:
    """``with SmtpServer() as smtp:`` runs the server; ``smtp.messages`` lists what arrived.

    ``refused`` holds recipient addresses answered with 550; clearing ``gate`` holds every message at DATA
    until it is set again (to show that a caller does not wait for the e-mail).
    """

    def __init__(self) -> None:
        self.messages: list[Received] = []
        self.refused: set[str] = set()
        self.gate = threading.Event()
        self.gate.set()
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.gate.set()
        self.controller.stop()

    def env(self) -> dict[str, str]:
        """The PORTAL_SMTP_* settings that point at this server."""
        return {"PORTAL_SMTP_HOST": "127.0.0.1", "PORTAL_SMTP_PORT": str(self.port)}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refused:
            return "550 5.1.1 Recipient unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.gate.wait(30)
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """The messages once at least ``count`` have arrived (fails after ``timeout`` seconds)."""
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(self.messages) >= count, f"expected {count} messages, got {len(self.messages)}"
        return list(self.messages)
