"""One active device, every device controls it (issue 14, item 6), in headless Chromium: two browser
contexts signed in as the same user are two devices of one playback session (docs/SESSION.md, "The
browser side"). Device A plays an album; a pause pressed on B reaches A's <audio> within
PAUSE_BOUND_MS; B then chooses itself in the Devices menu: A goes silent and B plays on from where A
was, within START_BOUND_MS of the session's projected position. One web process (two are tested on
the server side: tests/integration/test_session_processes.py)."""
from __future__ import annotations

import pytest

from tests.e2e.party_server import csrf_post
from tests.e2e.test_music import PLAYING, album_id, music_server  # noqa: F401 (a fixture)
from tests.helpers import PASSWORD

#: From B's click on Pause to A's `pause` event (ms).
PAUSE_BOUND_MS = 300
#: B's element against the session's projection once B plays (ms).
START_BOUND_MS = 100

#: Marks when any of the page's music <audio> elements fires `pause`, and when #pb-play is clicked
#: (performance.timeOrigin + now: one clock for both pages of this machine).
MARK = """() => {
  const now = () => performance.timeOrigin + performance.now();
  window.marks = { pausedAt: null, clickedAt: null };
  document.querySelectorAll('#player-bar audio.music-audio').forEach((a) => a.addEventListener('pause', () => {
    if (window.marks.pausedAt === null) window.marks.pausedAt = now();
  }));
  document.getElementById('pb-play').addEventListener('click', () => { window.marks.clickedAt = now(); }, true);
}"""

#: The page's element position and the session's projection at the same moment (ms), and whether
#: every <audio> of the page is silent.
POSITIONS = """() => {
  const m = window.mediaserverMusic, s = m.session.state, el = m.player.element;
  let projected = s.position_ms;
  if (s.state === 'playing') projected += Math.max(0, m.session.clock.serverNow() - s.anchor_server_ms);
  const silent = [...document.querySelectorAll('#player-bar audio.music-audio')].every((a) => a.paused);
  return { element: el.currentTime * 1000, projected, silent, active: m.session.active, state: s.state,
           title: document.getElementById('pb-title').textContent };
}"""


@pytest.fixture
def devices(browser, music_server):  # noqa: F811 (the fixture imported above)
    """Two signed-in pages of the same user, each its own device: (a, b, base URL)."""
    _app, url = music_server
    contexts, pages, errors = [], [], []
    for _ in range(2):
        context = browser.new_context()
        csrf_post(context, url + "/api/auth/login", {"username": "alice", "password": PASSWORD})
        page = context.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        contexts.append(context)
        pages.append(page)
    yield pages[0], pages[1], url
    for context in contexts:
        context.close()  # a second close (a test closed one) does nothing
    assert not errors, errors


def session_is(page, state, title):
    page.wait_for_function(
        "([state, title]) => { const s = window.mediaserverMusic.session.state;"
        " return s && s.state === state && document.getElementById('pb-title').textContent === title; }",
        arg=[state, title], timeout=15_000)


def test_a_pause_from_b_reaches_a_and_b_takes_over_where_a_was(devices):
    a, b, base = devices
    a.goto(f"{base}/music/albums/{album_id(a, base, 'Long Album')}")
    a.get_by_role("button", name="Play album", exact=True).click()
    a.wait_for_function(PLAYING, timeout=15_000)

    b.goto(base + "/music")
    session_is(b, "playing", "First Long")
    state_b = b.evaluate(POSITIONS)
    assert state_b["silent"] and not state_b["active"], state_b
    bar_b = b.get_by_role("region", name="Player")
    bar_b.get_by_role("button", name="Devices").click()
    devices_b = b.get_by_role("region", name="Devices")
    assert devices_b.get_by_role("button").count() == 2
    assert devices_b.locator("li[aria-current=true]").count() == 1  # A, the active one
    assert "this browser" not in devices_b.locator("li[aria-current=true]").text_content()

    a.wait_for_function("() => window.mediaserverMusic.player.element.currentTime > 1.5", timeout=10_000)
    a.evaluate(MARK)
    b.evaluate(MARK)
    bar_b.get_by_role("button", name="Pause").click()
    a.wait_for_function("() => window.marks.pausedAt !== null", timeout=5_000)
    paused_at = a.evaluate("() => window.marks.pausedAt")
    clicked_at = b.evaluate("() => window.marks.clickedAt")
    pause_ms = paused_at - clicked_at
    print(f"\npause: B's click to A's pause event {pause_ms:.1f} ms")
    assert 0 <= pause_ms <= PAUSE_BOUND_MS
    session_is(b, "paused", "First Long")
    held = a.evaluate(POSITIONS)
    assert held["silent"], held

    bar_b.get_by_role("button", name="Play", exact=True).click()  # from B: A plays on
    a.wait_for_function(PLAYING, timeout=10_000)
    a.wait_for_function("(t) => window.mediaserverMusic.player.element.currentTime * 1000 > t + 1000",
                        arg=held["element"], timeout=10_000)
    assert b.evaluate(POSITIONS)["silent"]

    where_a_was = a.evaluate(POSITIONS)
    devices_b.get_by_role("button", name="Play on Chrome on Linux (this browser)").click()
    b.wait_for_function(PLAYING, timeout=10_000)
    b.wait_for_timeout(500)  # past its start
    now_b = b.evaluate(POSITIONS)
    now_a = a.evaluate(POSITIONS)
    assert now_a["silent"] and not now_a["active"], now_a
    assert now_b["active"] and not now_b["silent"] and now_b["title"] == "First Long", now_b
    off = now_b["element"] - now_b["projected"]
    print(f"set_device: A was at {where_a_was['element']:.0f} ms; B plays at {now_b['element']:.0f} ms,"
          f" {off:+.1f} ms from the projection")
    assert abs(off) <= START_BOUND_MS
    assert now_b["element"] >= where_a_was["element"]
    assert devices_b.locator("li[aria-current=true]").text_content().startswith("Chrome on Linux (this browser)")


def test_a_page_loaded_later_offers_to_resume_the_paused_session(devices):
    a, b, base = devices
    a.goto(f"{base}/music/albums/{album_id(a, base, 'Queue Album')}")
    a.get_by_role("button", name="Play album", exact=True).click()
    a.wait_for_function(PLAYING, timeout=15_000)
    a.wait_for_function("() => window.mediaserverMusic.player.element.currentTime > 1", timeout=10_000)
    a.context.close()  # the active device leaves while playing: the session pauses where it was

    b.goto(base + "/music")
    session_is(b, "paused", "Alpha")
    resume = b.get_by_role("button", name="Resume where you stopped")
    resume.wait_for()
    held = b.evaluate(POSITIONS)
    assert held["projected"] > 1000 and held["silent"], held
    assert b.locator("#pb-time").text_content() != "0:00"
    resume.click()  # no other device is online: B plays it, from where A was
    b.wait_for_function(PLAYING, timeout=10_000)
    now = b.evaluate(POSITIONS)
    assert now["active"] and now["element"] >= held["projected"] - START_BOUND_MS, (held, now)
    assert resume.is_hidden()


def test_tracks_by_ids_for_the_session_queue(devices):
    """`GET /api/library/tracks?ids=`: how a device learns the tracks of a queue another one made."""
    a, _b, base = devices
    request = a.context.request
    ids = [t["id"] for t in request.get(f"{base}/api/library/tracks?q=long").json()["items"]]
    assert len(ids) == 2
    found = request.get(f"{base}/api/library/tracks?ids={ids[1]},{ids[0]},999999").json()
    assert sorted(t["id"] for t in found["items"]) == sorted(ids) and found["total"] == 2
    assert request.get(f"{base}/api/library/tracks?ids=1,x").status == 400
    assert request.get(f"{base}/api/library/tracks?ids=" + ",".join(["1"] * 501)).status == 400
