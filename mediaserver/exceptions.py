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
