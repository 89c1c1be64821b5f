"""Cache-Control for answers that must never be kept: those that carry a credential in their body
(a stream URL's signed token, a party guest's token, an invite code). A browser's or a proxy's cache
would otherwise hold it past its use, where a later user of the machine or the cache could read it."""
from __future__ import annotations

import functools

from flask import make_response


def no_store(view):
    """Decorate a view so that every answer it returns (an error it returns too) carries
    `Cache-Control: no-store`. An exception raised in it (abort, a PartyError) is answered by
    errors.py without it: such an answer carries no token."""
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        response = make_response(view(*args, **kwargs))
        response.cache_control.no_store = True
        return response

    return wrapped
