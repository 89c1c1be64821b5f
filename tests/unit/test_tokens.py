"""Stream tokens: pure, `now_s` given."""
import base64
import json

import pytest

from mediaserver import tokens
from mediaserver.exceptions import TokenError

SECRET = "a-secret-of-sufficient-length"


def test_a_token_grants_its_title_until_it_expires():
    token, grant = tokens.issue(SECRET, user_id=7, media_file_id=3, ttl_s=600, now_s=1_000_000)
    assert grant.expires_s == 1_000_600
    assert tokens.verify(SECRET, token, 3, now_s=1_000_599) == grant


def test_expired_at_the_expiry_second():
    token, _ = tokens.issue(SECRET, 7, 3, ttl_s=600, now_s=1_000_000)
    with pytest.raises(TokenError, match="expired"):
        tokens.verify(SECRET, token, 3, now_s=1_000_600)


def test_another_titles_token_is_refused():
    token, _ = tokens.issue(SECRET, 7, 3, ttl_s=600, now_s=0)
    with pytest.raises(TokenError, match="another title"):
        tokens.verify(SECRET, token, 4, now_s=1)


def _swap_payload(token: str) -> str:
    """Keep the signature, replace the payload with a well-formed one granting user 999 forever."""
    payload = base64.urlsafe_b64encode(json.dumps([999, 3, 9_999_999_999]).encode()).rstrip(b"=").decode()
    return payload + token[token.index("."):]


@pytest.mark.parametrize("mangle", [
    lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),   # signature changed
    _swap_payload,                                        # payload swapped, old signature
    lambda t: "",
    lambda t: "not-a-token",
])
def test_tampered_tokens_are_refused(mangle):
    token, _ = tokens.issue(SECRET, 7, 3, ttl_s=600, now_s=0)
    with pytest.raises(TokenError, match="invalid"):
        tokens.verify(SECRET, mangle(token), 3, now_s=1)


def test_a_token_signed_with_another_secret_is_refused():
    token, _ = tokens.issue("another-secret-entirely-xyz", 7, 3, ttl_s=600, now_s=0)
    with pytest.raises(TokenError):
        tokens.verify(SECRET, token, 3, now_s=1)


def _respellings(token: str) -> list[str]:
    """The token with its last character swapped for each other base64url character."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return [token[:-1] + c for c in alphabet if c != token[-1]]


def test_a_stream_token_is_accepted_in_one_spelling_only():
    token, _ = tokens.issue(SECRET, 7, 3, ttl_s=600, now_s=0)
    refused = 0
    for spelling in _respellings(token):
        with pytest.raises(TokenError, match="invalid"):
            tokens.verify(SECRET, spelling, 3, now_s=1)
        refused += 1
    assert refused == 63


def test_a_party_token_is_accepted_in_one_spelling_only():
    token = tokens.issue_party(SECRET, party_id=5, participant_id=9)
    assert tokens.read_party(SECRET, token) == (5, 9)
    for spelling in _respellings(token):
        with pytest.raises(TokenError, match="invalid"):
            tokens.read_party(SECRET, spelling)


def test_a_token_carries_its_users_epoch():
    token, grant = tokens.issue(SECRET, 7, 3, ttl_s=600, now_s=0, epoch=4)
    assert tokens.verify(SECRET, token, 3, now_s=1).epoch == 4 == grant.epoch
    guest, _ = tokens.issue(SECRET, 0, 3, ttl_s=600, now_s=0, party_id=8)
    assert tokens.verify(SECRET, guest, 3, now_s=1) == tokens.StreamGrant(0, 3, 600, 8, 0)
