"""Where alerts go: the generic webhook (JSON), a Slack incoming webhook (Block Kit) and e-mail
over SMTP. A channel is on when its address is set in `[alerts]`; each has its own throttle."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, Protocol

import aiohttp
import aiosmtplib

from mainspring import codec
from mainspring.operations import alert_format
from mainspring.operations.alert_format import AlertMessage
from mainspring.settings import Alerts as AlertConfig

log = logging.getLogger("mainspring.alerts")
TIMEOUT_S = 10.0
ATTEMPTS = 3  # for alerts from the rules; a test alert tries once and says what went wrong
RETRY_DELAY_S = 0.5
_HEADERS = {"Content-Type": "application/json", "User-Agent": "mainspring-alerts"}


class Channel(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def throttle_ms(self) -> int: ...

    async def send(self, message: AlertMessage, attempts: int = ATTEMPTS) -> str | None:
        """Deliver `message`; None when delivered, else the last error (already logged)."""
        ...


async def _post_json(name: str, url: str, body: Any, attempts: int) -> str | None:
    timeout = aiohttp.ClientTimeout(total=TIMEOUT_S)
    error = "not sent"
    for attempt in range(attempts):
        if attempt:
            await asyncio.sleep(RETRY_DELAY_S * 2 ** (attempt - 1))
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.post(url, data=codec.dumpb(body), headers=_HEADERS) as response,
            ):
                if response.status < 400:
                    return None
                error = f"answered HTTP {response.status}"
        except (aiohttp.ClientError, TimeoutError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        log.warning("alert %s delivery failed: %s", name, error)
    return error


@dataclass(frozen=True, slots=True)
class Webhook:
    url: str
    throttle_ms: int
    name: str = "webhook"

    async def send(self, message: AlertMessage, attempts: int = ATTEMPTS) -> str | None:
        return await _post_json(self.name, self.url, alert_format.payload(message), attempts)


@dataclass(frozen=True, slots=True)
class Slack:
    url: str
    throttle_ms: int
    name: str = "slack"

    async def send(self, message: AlertMessage, attempts: int = ATTEMPTS) -> str | None:
        return await _post_json(self.name, self.url, alert_format.slack_blocks(message), attempts)


@dataclass(frozen=True, slots=True)
class Email:
    host: str
    port: int
    sender: str
    recipients: tuple[str, ...]
    throttle_ms: int
    user: str | None = None
    password: str | None = None
    starttls: bool = True
    tls: bool = False
    name: str = "email"

    def compose(self, message: AlertMessage) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = ", ".join(self.recipients)
        mail["Subject"] = alert_format.title(message)
        mail["X-Mainspring-Rule"] = message.rule
        mail["X-Mainspring-State"] = message.state
        mail.set_content(alert_format.text(message))
        return mail

    async def send(self, message: AlertMessage, attempts: int = ATTEMPTS) -> str | None:
        mail = self.compose(message)
        error = "not sent"
        for attempt in range(attempts):
            if attempt:
                await asyncio.sleep(RETRY_DELAY_S * 2 ** (attempt - 1))
            try:
                await aiosmtplib.send(
                    mail,
                    hostname=self.host,
                    port=self.port,
                    username=self.user,
                    password=self.password,
                    start_tls=self.starttls and not self.tls,
                    use_tls=self.tls,
                    timeout=TIMEOUT_S,
                )
                return None
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                error = f"{type(exc).__name__}: {exc}"
            log.warning("alert email delivery failed: %s", error)
        return error


def configured(config: AlertConfig) -> list[Channel]:
    """The channels whose address is set, in a fixed order (webhook, slack, email)."""
    channels: list[Channel] = []
    if config.webhook_url:
        channels.append(Webhook(config.webhook_url, config.webhook_throttle_ms))
    if config.slack_webhook_url:
        channels.append(Slack(config.slack_webhook_url, config.slack_throttle_ms))
    if config.smtp_host and config.email_from:
        channels.append(
            Email(
                host=config.smtp_host,
                port=config.smtp_port,
                sender=config.email_from,
                recipients=config.email_to,
                throttle_ms=config.email_throttle_ms,
                user=config.smtp_user,
                password=config.smtp_password,
                starttls=config.smtp_starttls,
                tls=config.smtp_tls,
            )
        )
    return channels
