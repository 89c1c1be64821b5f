"""What the party browser tests measure in their pages: positions sampled with each page's clock and
compared at one instant, the room's state, waits (tests/e2e/test_party.py, test_listening_party.py)."""
from __future__ import annotations

import statistics
import time

import pytest

from tests.e2e.party_server import csrf_post

STEADY_S = 20
SAMPLE_EVERY_S = 0.2
SAMPLE_JS = """() => { const v = document.getElementById('video');
  return [performance.timeOrigin + performance.now(), v.currentTime * 1000, v.playbackRate, v.paused]; }"""


def open_party(page, url: str, code: str, query: str = "") -> None:
    page.goto(f"{url}/p/{code}{query}")
    page.wait_for_function("() => window.partySync && window.partySync.stats().rev >= 0 "
                           "&& document.getElementById('video').readyState >= 3", timeout=30_000)


def spread_ms(pages) -> float:
    """Max - min of the pages' positions, each moved to the latest sample's instant (ms)."""
    samples = [p.evaluate(SAMPLE_JS) for p in pages]
    instant = max(s[0] for s in samples)
    positions = [pos + (0 if paused else (instant - t) * rate) for t, pos, rate, paused in samples]
    return max(positions) - min(positions)


def steady_spreads(pages, seconds: float) -> list[float]:
    spreads, end = [], time.monotonic() + seconds
    while time.monotonic() < end:
        spreads.append(spread_ms(pages))
        time.sleep(SAMPLE_EVERY_S)
    return spreads


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def time_to_sync(pages, limit_ms: float = 100, within_s: float = 2.0) -> float:
    """Seconds until the spread is under `limit_ms` and every page plays; fails after `within_s`."""
    start = time.monotonic()
    while time.monotonic() - start < within_s + 3:
        if spread_ms(pages) < limit_ms and all(not p.evaluate("document.getElementById('video').paused")
                                               for p in pages):
            return time.monotonic() - start
        time.sleep(0.05)
    pytest.fail(f"spread still >= {limit_ms} ms {within_s + 3} s after the command")


def room_state(page) -> str:
    return page.evaluate("window.partySync.stats().state")


def wait_all(pages, state: str, timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if all(room_state(p) == state for p in pages):
            return
        time.sleep(0.05)
    pytest.fail(f"pages not all {state}: {[room_state(p) for p in pages]}")


def start_party(server, contexts, body: dict) -> tuple[str, list]:
    """The first browser context (logged in as the admin) starts a party with `body` (`POST
    /api/parties`), the others join it as "Guest 1", "Guest 2", ...: (invite code, a page per context)."""
    server.login(contexts[0])
    response = csrf_post(contexts[0], server.url + "/api/parties", body)
    assert response.status == 201, response.text()
    code = response.json()["code"]
    pages = [contexts[0].new_page()]
    for i, ctx in enumerate(contexts[1:], start=1):
        assert csrf_post(ctx, f"{server.url}/api/parties/{code}/join", {"name": f"Guest {i}"}).ok
        pages.append(ctx.new_page())
    return code, pages
