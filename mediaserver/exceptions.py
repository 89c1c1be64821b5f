"""Named errors a user or an operator can hit; the web layer turns them into JSON or page messages."""
from __future__ import annotations


class MediaServerError(Exception):
    """Base class of the project's own errors."""


class ConfigError(MediaServerError):
    """A setting from the environment is missing or malformed; the message names the variable."""


class ProbeError(MediaServerError):
    """ffprobe could not read a file; the message is ffprobe's own reason."""


class ScanAborted(MediaServerError):
    """A scan stopped before its end (a probe process died: killed, or out of memory); the files
    stored until then are kept, and the next scan goes on from there."""


class TMDBError(MediaServerError):
    """TMDB could not answer: the HTTP status and TMDB's `status_message` in the text, `.status` the HTTP
    status (None when TMDB was not reached: a timeout, a refused connection). Raised by
    `scanner.tmdb.TMDBClient` after its retries (429 and 5xx are retried, other 4xx are not)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class TranscodeError(MediaServerError):
    """ffmpeg failed or stopped short; the message holds ffmpeg's last error lines."""


class TokenError(MediaServerError):
    """A stream token is missing, tampered with, expired or for another title."""


class TokenExpired(TokenError):
    """A well-signed stream token past its expiry; `grant` is what it granted (a logged-in browser or a
    running party may still be honoured)."""

    def __init__(self, message: str, grant) -> None:
        super().__init__(message)
        self.grant = grant
