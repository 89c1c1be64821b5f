"""A listening party in three Chromium pages (issue 14): the host and two guests, one guest 200 ms of
round trip away (through tests/e2e/delay_proxy.py, WebSocket included), play an album started with its
next tracks queued. Acceptance: the spread of the pages'
`currentTime` at most 25 ms p95 in steady play; each new track starts on every page within 100 ms of
the others (two track changes, the room moving on at each track's end); the pages show the track, not
a picture.
"""
from __future__ import annotations

import contextlib
import time

import pytest

from tests.e2e.delay_proxy import DelayProxy
from tests.e2e.party_pages import open_party, p95, start_party, steady_spreads, time_to_sync, wait_all
from tests.e2e.party_server import PartyServer

TRACKS = (("Dawn", 30), ("Noon", 8), ("Dusk", 8))  # (title, s): room for the steady measure, then two changes
STEADY_S = 15
#: One sample of a page: [its clock (ms), the title it plays, currentTime (ms), playbackRate, paused].
START_JS = """() => { const v = document.getElementById('video');
  return [performance.timeOrigin + performance.now(), window.partySync.sourceId, v.currentTime * 1000,
          v.playbackRate, v.paused]; }"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = PartyServer(tmp_path_factory.mktemp("listening"), tracks=TRACKS)
    srv.start()
    yield srv
    srv.stop()


def album_tracks(context, url: str) -> list[int]:
    albums = context.request.get(url + "/api/library/albums").json()["items"]
    album = next(a for a in albums if a["title"] == "Night Album")
    return [t["media_file_id"] for t in context.request.get(f"{url}/api/library/albums/{album['id']}").json()["tracks"]]


def start_instants(pages, media_file_id: int, timeout_s: float = 30) -> list[float]:
    """When each page's position was 0 on title `media_file_id` (ms of the page clocks, which share this
    machine's clock), from its first sample playing it past 100 ms."""
    starts: dict[int, float] = {}
    deadline = time.monotonic() + timeout_s
    while len(starts) < len(pages) and time.monotonic() < deadline:
        for index, page in enumerate(pages):
            if index in starts:
                continue
            now, source, position, rate, paused = page.evaluate(START_JS)
            if source == media_file_id and not paused and position > 100:
                starts[index] = now - position / rate
        time.sleep(0.02)
    assert len(starts) == len(pages), f"not every page started title {media_file_id}: {starts}"
    return [starts[i] for i in range(len(pages))]


def test_three_members_one_200_ms_away_play_an_album_together(server, browser):
    contexts = [browser.new_context() for _ in range(3)]
    with contextlib.ExitStack() as stack:
        for ctx in contexts:
            stack.callback(ctx.close)
        server.login(contexts[0])
        first, *rest = album_tracks(contexts[0], server.url)
        code, pages = start_party(server, contexts, {"media_file_id": first, "queue": rest})
        # the far guest reaches the server through a proxy adding 100 ms each way, WebSocket included
        proxy = stack.enter_context(DelayProxy(server.port, delay_s=0.1))
        for page, url in zip(pages, (server.url, server.url, f"http://127.0.0.1:{proxy.port}")):
            open_party(page, url, code)
        for page in pages:  # the audio layout: the track's title and artist, no picture
            page.wait_for_function("() => !document.getElementById('now-track').hidden", timeout=10_000)
            assert page.text_content("#now-track-title") == "Dawn"
            assert page.text_content("#now-track-artists") == "Solar Band"
            assert not page.is_visible("#video")
        assert pages[2].evaluate("window.partySync.stats().rtt_ms") >= 190
        pages[0].evaluate("window.partySync.play()")
        wait_all(pages, "playing")
        time_to_sync(pages, within_s=5)
        time.sleep(2)
        spreads = steady_spreads(pages, STEADY_S)
        print(f"listening party, a +200 ms guest: p95 {p95(spreads):.1f} ms, max {max(spreads):.1f} ms "
              f"over {len(spreads)} samples")
        assert p95(spreads) <= 25
        for media_file_id, title in zip(rest, ("Noon", "Dusk")):  # the room moves on at each track's end
            starts = start_instants(pages, media_file_id)
            print(f"{title} started on the three pages within {max(starts) - min(starts):.1f} ms")
            assert max(starts) - min(starts) <= 100
            assert all(page.text_content("#now-track-title") == title for page in pages)
