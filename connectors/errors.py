"""Error classes that decide what the daemon does next with a failing source.

Retriable (429, 5xx, timeouts): back off with jitter and try again next run.
Fatal for the source (401/403): pause the source and tell operations which credential to check.
Skippable record (malformed item): the connector logs it and keeps the rest of the page.
"""

from __future__ import annotations

from datetime import datetime


class SourceError(Exception):
    """Base class for errors a connector raises out of `fetch_new`/`refresh_engagement`."""


class RetriableSourceError(SourceError):
    """Try again later; `retry_after` seconds when the API said how long (rate limits)."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class StopRequestedError(RetriableSourceError):
    """The daemon is stopping: a request was refused before it was sent, so the poll or
    refresh in hand ends now (whatever it read is stored or dropped, never half-stored)."""


class FatalSourceError(SourceError):
    """The source cannot work until a human fixes something, e.g. a rejected credential."""

    def __init__(self, message: str, *, credential: str | None = None) -> None:
        super().__init__(message)
        self.credential = credential


class SkippableRecordError(SourceError):
    """One record could not be parsed; the rest of the batch is fine."""


class BudgetSpentError(RetriableSourceError):
    """The source spent its daily budget; reading resumes at `resume_at` (next UTC day)."""

    def __init__(self, message: str, *, retry_after: float, resume_at: datetime) -> None:
        super().__init__(message, retry_after=retry_after)
        self.resume_at = resume_at
