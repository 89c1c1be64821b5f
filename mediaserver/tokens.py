"""Signed stream tokens (itsdangerous). Pure: `now_s` is a parameter, nothing here reads a clock.

A stream token binds a user id, a media file id and an expiry (s since the epoch), and, for a watch
party's guest, the party's id (the route then checks the party has not ended). It is URL-safe, so it
travels as a path component of every playlist and segment URL: relative URIs in the playlists keep
it, and the token alone is enough (no cookie), as VLC or a TV need. A user's token also carries the
user's `token_epoch` (models.User): a password change, a role change or "log out everywhere" moves the
epoch on, and the route refuses tokens of an older one.

A token is accepted only in the one spelling `issue` gives it: base64 leaves unused bits in a last
character, so without that check four spellings of one signature would all pass.
"""
from __future__ import annotations

import hmac
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer

from .exceptions import TokenError, TokenExpired

#: v2: the fields are `[user_id, media_file_id, expires_s, party_id or null, epoch]`.
SALT = "mediaserver.stream-token.v2"
PARTY_SALT = "mediaserver.party-token.v1"


@dataclass(frozen=True)
class StreamGrant:
    """What a valid token grants: `user_id` may read `media_file_id` until `expires_s` (epoch s).

    A party guest's grant has `user_id` 0 and the party's id in `party_id`. `epoch` is the user's
    `token_epoch` when it was issued (0 for a guest).
    """

    user_id: int
    media_file_id: int
    expires_s: int
    party_id: int | None = None
    epoch: int = 0


def _loads(serializer: URLSafeSerializer, token: str):
    """The payload of `token`, signed by `serializer` and spelled as `serializer` spells it; raises
    BadSignature otherwise (a re-spelled last base64 character included)."""
    payload = serializer.loads(token)
    if not hmac.compare_digest(serializer.dumps(payload).encode(), token.encode("utf-8", "replace")):
        raise BadSignature("not the canonical spelling of the token")
    return payload


def issue(secret: str, user_id: int, media_file_id: int, ttl_s: int, now_s: float,
          party_id: int | None = None, epoch: int = 0) -> tuple[str, StreamGrant]:
    """Sign a token valid for `ttl_s` seconds from `now_s` (epoch s). Returns (token, grant)."""
    grant = StreamGrant(user_id, media_file_id, int(now_s) + int(ttl_s), party_id, epoch)
    fields = [grant.user_id, grant.media_file_id, grant.expires_s, party_id, epoch]
    return URLSafeSerializer(secret, salt=SALT).dumps(fields), grant


def verify(secret: str, token: str, media_file_id: int, now_s: float) -> StreamGrant:
    """Check a token for `media_file_id` at time `now_s`.

    Raises TokenError with the reason: malformed or tampered, or issued for another title; TokenExpired
    (a TokenError carrying the grant) when it has expired.
    """
    try:
        user_id, token_media_id, expires_s, party_id, epoch = _loads(URLSafeSerializer(secret, salt=SALT), token)
        grant = StreamGrant(int(user_id), int(token_media_id), int(expires_s),
                            int(party_id) if party_id is not None else None, int(epoch))
    except (BadSignature, TypeError, ValueError, UnicodeError):
        raise TokenError("invalid stream token") from None
    if grant.media_file_id != media_file_id:
        raise TokenError("stream token is for another title")
    if now_s >= grant.expires_s:
        raise TokenExpired("stream token has expired", grant)
    return grant


def issue_party(secret: str, party_id: int, participant_id: int) -> str:
    """Sign a party guest's token: `[party_id, participant_id]`. It has no expiry of its own: it ends
    with the party (the routes and the socket check the party is still running)."""
    return URLSafeSerializer(secret, salt=PARTY_SALT).dumps([party_id, participant_id])


def verify_party(secret: str, token: str, party_id: int) -> int:
    """The participant id a party token names, when it was signed for `party_id`.

    Raises TokenError: malformed or tampered, or issued for another party.
    """
    token_party, participant_id = read_party(secret, token)
    if token_party != party_id:
        raise TokenError("party token is for another party")
    return participant_id


def read_party(secret: str, token: str) -> tuple[int, int]:
    """`(party_id, participant_id)` of a party token signed with `secret` (whichever party it names).

    Raises TokenError: malformed or tampered.
    """
    try:
        token_party, participant_id = _loads(URLSafeSerializer(secret, salt=PARTY_SALT), token)
        return int(token_party), int(participant_id)
    except (BadSignature, TypeError, ValueError, UnicodeError):
        raise TokenError("invalid party token") from None
