"""The digest mailed to a real local SMTP server (aiosmtpd), end to end from the database.

What marketing receives is parsed back: MIME structure, Content-ID images, recipients,
subject, and every figure against the plain-Python reference over the seeded weeks. Then the
delivery guarantees: plain + AUTH, STARTTLS and implicit TLS with a self-signed certificate,
the relay down then up (retried with backoff, sent once), giving up after max attempts, a
restart and two daemons at once never sending a week twice.
"""

from __future__ import annotations

import email
import ipaddress
import logging
import socket
import ssl
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import Engine

from core.clock import FixedClock
from monitor.config import AppConfig, parse_config
from monitor.digest import ledger
from monitor.digest.render import clean_text, explain_spike, headline, metrics
from monitor.digest.service import digest_cron_trigger, send_due_digest
from tests.test_digest_figures import BRAND, TZ, WEEK, make_seed, reference, seed_database
from tests.test_digest_render import assert_metric_shown, parse_html

SEND_AT = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)  # Monday 09:00 in New York
RECIPIENTS = ["marketing@example.com", "cmo@example.com"]
USER, PASSWORD, PASSWORD_ENV = "brandmon", "s3cret pass", "BRANDMON_TEST_SMTP_PASSWORD"


class Inbox:
    """An aiosmtpd handler that keeps what it is given and how it was given."""

    def __init__(self) -> None:
        self.envelopes: list[Any] = []
        self.sessions: list[dict[str, Any]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.envelopes.append(envelope)
        tls = server.transport.get_extra_info("ssl_object") is not None or bool(session.ssl)
        self.sessions.append({"authenticated": session.authenticated, "tls": tls})
        return "250 OK"

    def messages(self) -> list[EmailMessage]:
        return [email.message_from_bytes(e.content, policy=default) for e in self.envelopes]


class LocalController(Controller):
    """aiosmtpd on 127.0.0.1 port 0: read the port the OS picked before the self-check."""

    def _trigger_server(self) -> None:
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


def _authenticate(
    server: Any, session: Any, envelope: Any, mechanism: str, data: Any
) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535


def start_smtp(
    inbox: Inbox, *, port: int = 0, tls: ssl.SSLContext | None = None, implicit: bool = False
) -> LocalController:
    # With implicit TLS aiosmtpd cannot tell that the link is encrypted: no auth_require_tls.
    options: dict[str, Any] = {
        "authenticator": _authenticate,
        "auth_require_tls": tls is not None and not implicit,
    }
    if tls is not None and not implicit:
        options |= {"tls_context": tls, "require_starttls": True}
    controller = LocalController(
        inbox, hostname="127.0.0.1", port=port, ssl_context=tls if implicit else None, **options
    )
    controller.start()
    return controller


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


@pytest.fixture
def smtp(inbox: Inbox) -> Iterator[LocalController]:
    controller = start_smtp(inbox)
    yield controller
    controller.stop()


def free_port() -> int:
    """A port nothing listens on (the relay is "down")."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def config_data(db_url: str, *, port: int, security: str = "none", **digest: Any) -> dict[str, Any]:
    smtp = {
        "host": "127.0.0.1",
        "port": port,
        "security": security,
        "username": USER,
        "password": "${" + PASSWORD_ENV + "}",
        "sender": "brandmon@kestrel.example",
        "timeout_seconds": 5,
    } | digest.pop("smtp", {})
    return {
        "timezone": TZ,
        "brands": [{"name": BRAND, "terms": ["kestrel"]}],
        "sources": {"demo": {"type": "replay", "path": "feed.jsonl"}},
        "storage": {"url": db_url},
        "digest": {"enabled": True, "recipients": RECIPIENTS, "smtp": smtp} | digest,
    }


def make_config(db_url: str, *, port: int, **options: Any) -> AppConfig:
    return parse_config(config_data(db_url, port=port, **options))


@pytest.fixture(autouse=True)
def _password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)


def parts(message: EmailMessage) -> list[str]:
    return [part.get_content_type() for part in message.walk()]


# -- the mail -------------------------------------------------------------------------------------


def test_mail_structure_and_every_figure(
    engine: Engine, db_url: str, smtp: LocalController, inbox: Inbox
) -> None:
    seed = make_seed()
    seed_database(engine, seed)
    config = make_config(db_url, port=smtp.port)
    outcomes = send_due_digest(config, engine, clock=FixedClock(SEND_AT))
    assert [(o.brand, o.week, o.status) for o in outcomes] == [(BRAND, "2026-W47", "sent")]

    (envelope,) = inbox.envelopes
    assert envelope.mail_from == "brandmon@kestrel.example"
    assert envelope.rcpt_tos == RECIPIENTS
    assert inbox.sessions == [{"authenticated": True, "tls": False}]
    (message,) = inbox.messages()
    want = reference(seed)
    assert message["Subject"] == f"Kestrel weekly social digest, 2026-W47: {headline(want)}"
    assert headline(want).startswith(("complaints ", "mentions "))
    assert message["To"] == ", ".join(RECIPIENTS)
    assert message["Message-ID"] == "<digest.2026-w47.kestrel@kestrel.example>"
    assert parts(message) == [
        "multipart/alternative",
        "text/plain",
        "multipart/related",
        "text/html",
        "image/png",
        "image/png",
        "image/png",
    ]

    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    related = message.get_body(("related",))
    images = {
        p["Content-ID"].strip("<>"): p
        for p in related.walk()
        if p.get_content_type() == "image/png"
    }
    assert len(images) == 3
    sources = [a["src"] for tag, a in parse_html(html).tags if tag == "img"]
    assert sorted(sources) == sorted(f"cid:{cid}" for cid in images)
    for image in images.values():
        assert image.get_content_disposition() == "inline"
        assert image.get_content().startswith(b"\x89PNG\r\n\x1a\n")
    assert "http" not in " ".join(sources)

    for m in metrics(want):
        assert f"- {m.name}: {m.value} | {m.change} | {m.previous}" in text
        assert_metric_shown(html, m)
    for day, counts in zip(WEEK.days, want.this.days, strict=True):
        label = f"{day:%a} {day.day}"
        assert f"{label}: {counts.mentions} mentions, {counts.complaints} complaints" in text
        assert (
            f"{label}: {counts.positive} positive, {counts.neutral} neutral, "
            f"{counts.negative} negative"
        ) in text
    for key, count in want.this.categories.items():
        assert f": {count} | " in text
        assert key in want.examples
    positions = [
        text.index(f"{i}. {clean_text(p.text)}") for i, p in enumerate(want.top_posts, start=1)
    ]
    assert positions == sorted(positions)
    (spike,) = want.spikes
    assert f"{spike.metric}: {explain_spike(spike.payload, spike.metric)}" in text
    assert "&lt;b&gt;no signal&lt;/b&gt;" in html


def test_a_week_is_sent_once_across_restarts(
    engine: Engine, db_url: str, smtp: LocalController, inbox: Inbox
) -> None:
    config = make_config(db_url, port=smtp.port)
    clock = FixedClock(SEND_AT)
    assert [o.status for o in send_due_digest(config, engine, clock=clock)] == ["sent"]
    clock.advance(hours=1)
    assert send_due_digest(config, engine, clock=clock) == []  # a restarted daemon
    clock.advance(days=6, hours=23)  # the following Monday 09:00
    assert [o.week for o in send_due_digest(config, engine, clock=clock)] == ["2026-W48"]
    assert len(inbox.envelopes) == 2
    run = ledger.run(engine, brand=BRAND, week="2026-W47")
    assert run is not None
    assert (run.status, run.attempts, run.sent_at) == ("sent", 1, SEND_AT)


def test_a_daemon_down_at_send_time_catches_up(
    engine: Engine, db_url: str, smtp: LocalController, inbox: Inbox
) -> None:
    config = make_config(db_url, port=smtp.port)
    wednesday = FixedClock(SEND_AT + timedelta(days=2))
    assert [o.week for o in send_due_digest(config, engine, clock=wednesday)] == ["2026-W47"]
    assert len(inbox.envelopes) == 1


def test_two_daemons_at_once_send_one_mail(
    engine: Engine, db_url: str, smtp: LocalController, inbox: Inbox
) -> None:
    config = make_config(db_url, port=smtp.port)
    start = threading.Barrier(2)
    results: list[list[Any]] = []

    def daemon() -> None:
        start.wait()
        results.append(send_due_digest(config, engine, clock=FixedClock(SEND_AT)))

    threads = [threading.Thread(target=daemon) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(len(r) for r in results) == [0, 1]
    assert len(inbox.envelopes) == 1


def test_smtp_down_then_up(
    engine: Engine, db_url: str, inbox: Inbox, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    config = make_config(db_url, port=port)
    clock = FixedClock(SEND_AT)
    with caplog.at_level(logging.WARNING, logger="monitor.digest"):
        (first,) = send_due_digest(config, engine, clock=clock)
    assert first.status == "retry"
    assert first.retry_at is not None
    assert first.retry_at > SEND_AT
    assert "attempt 1 failed" in caplog.text
    assert PASSWORD not in caplog.text
    clock.set(first.retry_at - timedelta(seconds=1))
    assert send_due_digest(config, engine, clock=clock) == []  # backing off

    controller = start_smtp(inbox, port=port)
    try:
        clock.set(first.retry_at)
        (second,) = send_due_digest(config, engine, clock=clock)
        assert (second.status, second.attempts) == ("sent", 2)
        assert send_due_digest(config, engine, clock=clock) == []
    finally:
        controller.stop()
    assert len(inbox.envelopes) == 1
    run = ledger.run(engine, brand=BRAND, week="2026-W47")
    assert run is not None
    assert (run.status, run.attempts, run.last_error) == ("sent", 2, None)


def test_gives_up_after_max_attempts(
    engine: Engine, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    config = make_config(db_url, port=free_port(), max_attempts=2)
    clock = FixedClock(SEND_AT)
    (first,) = send_due_digest(config, engine, clock=clock)
    assert first.retry_at is not None
    clock.set(first.retry_at)
    with caplog.at_level(logging.ERROR, logger="monitor.digest"):
        (second,) = send_due_digest(config, engine, clock=clock)
    assert (second.status, second.retry_at) == ("failed", None)
    assert "giving up after 2 attempts" in caplog.text
    clock.advance(days=1)
    assert send_due_digest(config, engine, clock=clock) == []
    run = ledger.run(engine, brand=BRAND, week="2026-W47")
    assert run is not None
    assert run.status == "failed"
    assert "Connection refused" in (run.last_error or "")


def test_wrong_password_is_a_failed_attempt(
    engine: Engine, db_url: str, smtp: LocalController, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "wrong")
    config = make_config(db_url, port=smtp.port)
    (outcome,) = send_due_digest(config, engine, clock=FixedClock(SEND_AT))
    assert outcome.status == "retry"
    assert "SMTPAuthenticationError" in (outcome.error or "")


def test_disabled_digest_sends_nothing(
    engine: Engine, db_url: str, smtp: LocalController, inbox: Inbox
) -> None:
    config = make_config(db_url, port=smtp.port, enabled=False)
    assert send_due_digest(config, engine, clock=FixedClock(SEND_AT)) == []
    assert inbox.envelopes == []


# -- transport security ---------------------------------------------------------------------------


def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1, made now (the relay's, and the CA the client trusts)."""
    pytest.importorskip("cryptography", reason="cryptography makes the test certificate")
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "brandmon test relay")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "relay.pem", tmp_path / "relay.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_with_a_self_signed_relay(
    engine: Engine, db_url: str, inbox: Inbox, tmp_path: Path, security: str
) -> None:
    cert, key = self_signed(tmp_path)
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert, key)
    controller = start_smtp(inbox, tls=server_tls, implicit=security == "ssl")
    try:
        untrusted = make_config(db_url, port=controller.port, security=security)
        (outcome,) = send_due_digest(untrusted, engine, clock=FixedClock(SEND_AT))
        assert outcome.status == "retry"
        assert "CERTIFICATE_VERIFY_FAILED" in (outcome.error or "")

        trusted = make_config(
            db_url, port=controller.port, security=security, smtp={"ca_file": str(cert)}
        )
        clock = FixedClock(outcome.retry_at or SEND_AT)
        (outcome,) = send_due_digest(trusted, engine, clock=clock)
        assert outcome.status == "sent"
    finally:
        controller.stop()
    assert inbox.sessions == [{"authenticated": True, "tls": True}]


def test_cron_trigger_fires_monday_nine_local() -> None:
    config = make_config("sqlite://", port=25)
    trigger = digest_cron_trigger(config)
    after = datetime(2026, 11, 18, tzinfo=UTC)
    fire = trigger.get_next_fire_time(None, after)
    assert fire is not None
    assert fire.astimezone(UTC) == SEND_AT
