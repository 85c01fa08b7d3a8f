"""Invitations by e-mail, through a real (tiny, in-process) SMTP server on localhost."""

from __future__ import annotations

import email
import email.policy
import socketserver
import threading
from collections.abc import Iterator
from email.message import EmailMessage

import pytest

from aichor.db.session import Session
from aichor.services import invitations
from aichor.settings import Settings
from tests.api.world import make_member, make_org


class _Smtp(socketserver.StreamRequestHandler):
    """Just enough of RFC 5321 for smtplib: EHLO, MAIL, RCPT, DATA, QUIT."""

    received: list[str]

    def handle(self) -> None:
        self._reply("220 test ESMTP")
        while line := self.rfile.readline().decode():
            verb = line[:4].upper()
            if verb == "EHLO":
                self._reply("250 test")
            elif verb == "DATA":
                self._reply("354 go ahead")
                self.received.append(self._message())
                self._reply("250 queued")
            elif verb == "QUIT":
                self._reply("221 bye")
                return
            else:
                self._reply("250 ok")

    def _message(self) -> str:
        lines = []
        while (line := self.rfile.readline().decode()) not in (".\r\n", ""):
            lines.append(line)
        return "".join(lines)

    def _reply(self, text: str) -> None:
        self.wfile.write(f"{text}\r\n".encode())


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, list[str]]]:
    received: list[str] = []
    handler = type("Handler", (_Smtp,), {"received": received})
    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield server.server_address[1], received
        server.shutdown()


def test_invitation_is_emailed_when_smtp_is_configured(
    db: Session, db_settings: Settings, smtp_server: tuple[int, list[str]]
) -> None:
    port, received = smtp_server
    settings = Settings.model_validate(
        db_settings.model_dump()
        | {"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_starttls": False}
    )
    admin = make_member(db, make_org(db, "mailers"), "boss@m.test", ["OrganizationAdmin"])
    created = invitations.create_invitation(
        db, admin, email="new@m.test", roles=["User"], project_ids=[], settings=settings
    )
    assert created.emailed is True
    [raw] = received
    message = email.message_from_string(raw, policy=email.policy.default)
    assert message["To"] == "new@m.test"
    assert isinstance(message, EmailMessage)
    assert created.link in message.get_content()
