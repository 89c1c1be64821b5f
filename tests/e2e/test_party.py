"""Watch parties in real Chromium pages against a real `serve.py` (eventlet) process.

Three pages (a host and two guests) play one title; the spread of their `video.currentTime` is
sampled together with each page's clock and compared at one instant. Issue 5's acceptance:
spread <= 50 ms p95 over 20 s of steady play (<= 100 ms with a guest whose network adds 200 ms of
round trip); back under 100 ms within 2 s after each seek and resume (also a play given at once
after a seek); playbackRate never outside [0.95, 1.05]; a guest's pause refused in host mode,
allowed in `everyone` mode; a guest offline for 15 s holds the room at most 10 s; the server
killed and restarted: every page back in sync within 5 s.
"""
from __future__ import annotations

import statistics
import time

import pytest

from tests.e2e.party_pages import (STEADY_S, open_party, p95, room_state, spread_ms, start_party, steady_spreads,
                                   time_to_sync, wait_all)
from tests.e2e.party_server import PartyServer

@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = PartyServer(tmp_path_factory.mktemp("party"))
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def party(server, browser):
    """A party on the 90 s title: (code, [host page, guest page, guest page], contexts)."""
    contexts = [browser.new_context() for _ in range(3)]
    code, pages = start_party(server, contexts, {"media_file_id": server.media_id})
    yield code, pages, contexts
    for ctx in contexts:
        ctx.close()


def open_and_play(server, code: str, pages, queries=("", "", ""), within_s: float = 4) -> None:
    """Open the party in every page, the host (first page) presses play, wait until all play in step."""
    for page, query in zip(pages, queries):
        open_party(page, server.url, code, query)
    pages[0].evaluate("window.partySync.play()")
    wait_all(pages, "playing")
    time_to_sync(pages, within_s=within_s)  # the first start, media still warming up


def rates_within_bounds(pages) -> None:
    for page in pages:
        stats = page.evaluate("window.partySync.stats()")
        assert 0.95 <= stats["min_rate"] and stats["max_rate"] <= 1.05, stats


def test_three_pages_stay_within_50_ms_and_recover_from_seek_and_resume(server, party):
    code, pages, _ = party
    open_and_play(server, code, pages)
    host = pages[0]
    time.sleep(2)
    spreads = steady_spreads(pages, STEADY_S)
    print(f"steady play: p50 {statistics.median(spreads):.1f} ms, p95 {p95(spreads):.1f} ms, "
          f"max {max(spreads):.1f} ms over {len(spreads)} samples")
    assert p95(spreads) <= 50
    recoveries = []
    for target_ms in (40_000, 10_000, 60_000):
        host.evaluate(f"window.partySync.seek({target_ms})")
        time.sleep(0.1)
        recoveries.append(time_to_sync(pages))
    host.evaluate("window.partySync.pause()")
    wait_all(pages, "paused")
    assert spread_ms(pages) < 100  # paused at one position
    host.evaluate("window.partySync.seek(20000); window.partySync.play()")  # play waits for the seek's ack
    recoveries.append(time_to_sync(pages))
    assert 20 <= host.evaluate("document.getElementById('video').currentTime") < 23  # both applied
    print("recovery after seek, seek, seek, seek and resume (s):", [round(r, 2) for r in recoveries])
    assert max(recoveries) <= 2.0
    rates_within_bounds(pages)


def test_a_guest_200_ms_away_stays_within_100_ms(server, party):
    code, pages, contexts = party
    cdp = contexts[2].new_cdp_session(pages[2])
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 200, "downloadThroughput": -1,
                                                   "uploadThroughput": -1})
    # Chromium's emulation delays HTTP, not WebSocket frames: that guest's Socket.IO uses long-polling.
    open_and_play(server, code, pages, ("", "", "?transport=polling"), within_s=5)
    rtt = pages[2].evaluate("window.partySync.stats().rtt_ms")
    assert rtt >= 190, f"the emulated round trip did not apply: {rtt} ms"
    time.sleep(2)
    spreads = steady_spreads(pages, STEADY_S)
    print(f"with a +200 ms guest (its RTT {rtt:.0f} ms): p95 {p95(spreads):.1f} ms, max {max(spreads):.1f} ms")
    assert p95(spreads) <= 100
    pages[0].evaluate("window.partySync.seek(30000)")
    time.sleep(0.1)
    assert time_to_sync(pages) <= 2.0
    rates_within_bounds(pages)


def test_host_mode_refuses_a_guests_pause_and_everyone_mode_allows_it(server, party):
    code, pages, _ = party
    for page in pages[:2]:
        open_party(page, server.url, code)
    host, guest = pages[:2]
    host.evaluate("window.partySync.play()")
    wait_all([host, guest], "playing")
    guest.click("#btn-playpause")
    # functions, not bare expressions: Playwright evaluates a bare one with eval(), which the CSP refuses
    guest.wait_for_function("() => document.getElementById('notice').textContent.includes('host')", timeout=5_000)
    time.sleep(1)
    assert room_state(host) == "playing" and not guest.evaluate("document.getElementById('video').paused")
    host.select_option("#control-mode", "everyone")
    host.wait_for_function("() => (window.partySync.last || {}).control_mode === 'everyone'", timeout=5_000)
    guest.wait_for_function("() => (window.partySync.last || {}).control_mode === 'everyone'", timeout=5_000)
    guest.click("#btn-playpause")
    wait_all([host, guest], "paused")
    assert host.evaluate("document.getElementById('video').paused")


def test_an_offline_guest_holds_the_room_at_most_10_s_and_rejoins_in_sync(server, party):
    code, pages, contexts = party
    open_and_play(server, code, pages)
    host = pages[0]
    contexts[2].set_offline(True)
    held_s, longest_s, end = None, 0.0, time.monotonic() + 15
    while time.monotonic() < end:
        now = time.monotonic()
        if room_state(host) == "waiting":
            held_s = held_s or now
            longest_s = max(longest_s, now - held_s)
        else:
            held_s = None
        time.sleep(0.1)
    contexts[2].set_offline(False)
    print(f"room held for at most {longest_s:.1f} s while a guest was offline")
    assert longest_s <= 10.5
    assert time_to_sync(pages, within_s=10) <= 10


def test_the_server_killed_and_restarted_mid_party(server, party):
    code, pages, _ = party
    open_and_play(server, code, pages)
    time.sleep(1)
    server.kill()
    killed = time.monotonic()
    time.sleep(1)
    server.start()
    deadline = killed + 5 + server.last_start_s
    while time.monotonic() < deadline:
        members = server.members(code)
        if members and all(m["status"] != "offline" for m in members) and spread_ms(pages) < 100:
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"not back in sync within 5 s of the restart: {server.members(code)}")
    state = server.state(code)
    expected = state["position_ms"] + max(0, state["server_ms"] - state["anchor_server_ms"])
    position = pages[0].evaluate("document.getElementById('video').currentTime * 1000")
    assert abs(position - expected) < 500, (position, expected)
    print(f"back in sync {time.monotonic() - killed:.1f} s after the kill (restart took {server.last_start_s:.1f} s)")


def test_a_party_started_from_the_player_page_and_joined_by_name_from_the_invite(server, browser):
    host_ctx, guest_ctx = browser.new_context(), browser.new_context()
    try:
        server.login(host_ctx)
        host = host_ctx.new_page()
        host.goto(f"{server.url}/watch/{server.media_id}")
        host.click("#start-party")
        host.wait_for_url("**/p/*", timeout=10_000)
        invite = host.input_value("#invite-url")
        assert invite.endswith(host.url.rsplit("/p/", 1)[1]) and "/p/" in invite
        assert host.evaluate("document.getElementById('qr').naturalWidth") > 0  # the QR image loaded
        guest = guest_ctx.new_page()
        guest.goto(invite)
        guest.fill("#join-name", "Sam")
        guest.click("#join-form [type=submit]")
        guest.wait_for_function("() => window.partySync && window.partySync.stats().joined", timeout=15_000)
        assert guest.locator("video").count() == 1
        host.wait_for_function("() => [...document.querySelectorAll('#members [data-member-id]')]"
                               ".some(li => li.textContent.includes('Sam'))", timeout=10_000)
    finally:
        host_ctx.close()
        guest_ctx.close()
