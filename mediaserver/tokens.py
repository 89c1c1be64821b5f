"""Signed stream tokens (itsdangerous). Pure: `now_s` is a parameter, nothing here reads a clock.

A token binds a user id, a media file id and an expiry (s since the epoch). It is URL-safe, so it
travels as a path component of every playlist and segment URL: relative URIs in the playlists keep
it, and the token alone is enough (no cookie), as VLC or a TV need.
"""
from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer

from .exceptions import TokenError

SALT = "mediaserver.stream-token.v1"


@dataclass(frozen=True)
class StreamGrant:
    """What a valid token grants: `user_id` may read `media_file_id` until `expires_s` (epoch s)."""

    user_id: int
    media_file_id: int
    expires_s: int


def issue(secret: str, user_id: int, media_file_id: int, ttl_s: int, now_s: float) -> tuple[str, StreamGrant]:
    """Sign a token valid for `ttl_s` seconds from `now_s`. Returns (token, grant)."""
    grant = StreamGrant(user_id, media_file_id, int(now_s) + int(ttl_s))
    token = URLSafeSerializer(secret, salt=SALT).dumps([grant.user_id, grant.media_file_id, grant.expires_s])
    return token, grant


def verify(secret: str, token: str, media_file_id: int, now_s: float) -> StreamGrant:
    """Check a token for `media_file_id` at time `now_s`.

    Raises TokenError with the reason: malformed or tampered, expired, or issued for another title.
    """
    try:
        user_id, token_media_id, expires_s = URLSafeSerializer(secret, salt=SALT).loads(token)
        grant = StreamGrant(int(user_id), int(token_media_id), int(expires_s))
    except (BadSignature, TypeError, ValueError):
        raise TokenError("invalid stream token") from None
    if grant.media_file_id != media_file_id:
        raise TokenError("stream token is for another title")
    if now_s >= grant.expires_s:
        raise TokenError("stream token has expired")
    return grant
