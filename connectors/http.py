"""Plain HTTP for the networks without a client library worth its weight: one GET, with
every failure turned into the error class that decides what the daemon does next.

No retries or sleeps here: the daemon backs off per source with jitter, so one slow network
never holds a scheduler thread.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from connectors.errors import FatalSourceError, RetriableSourceError, StopRequestedError

USER_AGENT = "brandmon/0.1 (self-hosted brand monitoring)"


def get(
    session: requests.Session,
    url: str,
    *,
    network: str,
    timeout: float,
    params: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    credential: str | None = None,
    now: datetime,
) -> requests.Response:
    """GET `url`; 2xx and 304 come back, anything else raises a `SourceError`."""
    try:
        response = session.get(url, params=params, headers=headers, timeout=timeout)
    except requests.RequestException as exc:
        raise RetriableSourceError(f"{network}: {type(exc).__name__}: {exc}") from None
    return checked(response, network=network, credential=credential, now=now)


def post_json(
    session: requests.Session,
    url: str,
    body: Mapping[str, Any],
    *,
    network: str,
    timeout: float,
    credential: str | None = None,
    now: datetime,
) -> requests.Response:
    """POST a JSON body (a login); errors as for `get`."""
    try:
        response = session.post(url, json=dict(body), timeout=timeout)
    except requests.RequestException as exc:
        raise RetriableSourceError(f"{network}: {type(exc).__name__}: {exc}") from None
    return checked(response, network=network, credential=credential, now=now)


def checked(
    response: requests.Response, *, network: str, credential: str | None, now: datetime
) -> requests.Response:
    """The response when it succeeded (2xx, 304); else the `SourceError` its status means."""
    status = response.status_code
    if status < 300 or status == 304:
        return response
    where = response.url.split("?", 1)[0]
    if status == 429:
        raise RetriableSourceError(
            f"{network}: 429 too many requests for {where}",
            retry_after=retry_after(response.headers.get("retry-after"), now),
        )
    if status >= 500 or status == 408:
        raise RetriableSourceError(
            f"{network}: server error {status} for {where}",
            retry_after=retry_after(response.headers.get("retry-after"), now),
        )
    if status in (401, 403):
        raise FatalSourceError(f"{network}: {status} for {where}", credential=credential)
    raise FatalSourceError(f"{network}: request refused ({status}) for {where}")


def retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds from a `Retry-After` header (seconds or an HTTP date); None when absent."""
    if not value:
        return None
    value = value.strip()
    if value.replace(".", "", 1).isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max((when - now).total_seconds(), 1.0)


def session() -> requests.Session:
    """A session sending brandmon's user agent (APIs ask for one that names the client)."""
    made = requests.Session()
    made.headers["User-Agent"] = USER_AGENT
    return made


class _StopAwareAdapter(HTTPAdapter):
    """Refuses to send once `stop` is set: a poll of many pages ends at its next page."""

    def __init__(self, stop: threading.Event) -> None:
        super().__init__()
        self._stop = stop

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        if self._stop.is_set():
            raise StopRequestedError(f"stopping: {request.method} {request.url} not sent")
        return super().send(request, *args, **kwargs)


def stop_on(session: requests.Session, stop: threading.Event) -> None:
    """Make every request of `session` refuse to start once `stop` is set."""
    adapter = _StopAwareAdapter(stop)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
