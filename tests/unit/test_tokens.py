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
