"""The digest as a MIME message, and sending it with smtplib.

Structure, the one mail clients handle best:

    multipart/alternative
      text/plain                 the same figures, for clients that show no HTML
      multipart/related
        text/html                <img src="cid:...">
        image/png (inline, Content-ID) x 3

The HTML references its images by Content-ID only, so nothing is loaded from the network when
the mail is opened (and no tracking pixel is possible). Transport security is the operator's
choice: STARTTLS (port 587), implicit TLS (465) or none (a local relay); the password comes
from the environment through the config's `${VAR}` expansion and is never logged.
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from monitor.config import SmtpConfig
from monitor.digest.charts import Chart
from monitor.digest.render import Rendered

log = logging.getLogger(__name__)


def content_id(chart: Chart, key: str) -> str:
    """The chart's Content-ID without angle brackets, unique per digest (`key`)."""
    return f"{chart.cid}.{_slug(key)}@brandmon"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9-]+", "-", text).strip("-").lower() or "digest"


def digest_message_id(brand: str, week: str, sender: str) -> str:
    """Message-ID fixed per brand and week: a retried send is recognisable as the same mail."""
    domain = sender.rpartition("@")[2] or "brandmon"
    return f"<digest.{_slug(week)}.{_slug(brand)}@{domain}>"


def compose(
    rendered: Rendered,
    charts: Sequence[Chart],
    *,
    key: str,
    sender: str,
    recipients: Sequence[str],
    date: datetime,
    message_id: str | None = None,
) -> EmailMessage:
    """Build the multipart message; `rendered.html` must use `cid:` + content_id(chart, key)."""
    message = EmailMessage()
    message["Subject"] = rendered.subject
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = format_datetime(date)
    message["Message-ID"] = message_id or make_msgid(domain="brandmon")
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(rendered.text, subtype="plain", charset="utf-8")
    message.add_alternative(rendered.html, subtype="html", charset="utf-8")
    html_part = message.get_payload()[1]
    for chart in charts:
        html_part.add_related(
            chart.png,
            maintype="image",
            subtype="png",
            cid=f"<{content_id(chart, key)}>",
            disposition="inline",
            filename=f"{chart.cid}.png",
        )
    return message


def _tls_context(smtp: SmtpConfig) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(smtp.ca_file) if smtp.ca_file else None)


def send(message: EmailMessage, smtp: SmtpConfig, recipients: Sequence[str]) -> None:
    """Deliver to the relay; raises OSError / smtplib.SMTPException when it did not take it."""
    if smtp.security == "ssl":
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            smtp.host, smtp.port, timeout=smtp.timeout_seconds, context=_tls_context(smtp)
        )
    else:
        client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_seconds)
    with client:
        if smtp.security == "starttls":
            client.starttls(context=_tls_context(smtp))
        if smtp.username:
            password = smtp.password.get_secret_value() if smtp.password else ""
            client.login(smtp.username, password)
        refused = client.send_message(message, from_addr=smtp.sender, to_addrs=list(recipients))
    if refused:
        log.warning(
            "digest: the relay refused %d recipient(s): %s",
            len(refused),
            ", ".join(sorted(refused)),
        )
