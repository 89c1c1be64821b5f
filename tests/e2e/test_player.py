"""A person's path in headless Chromium: log in, open a title, watch it play: directly, remuxed or
transcoded, with its audio and subtitle tracks, through short-lived stream tokens."""
from urllib.parse import urlparse

import pytest

from tests.helpers import PASSWORD, decodable_media, media_id

BBB = "video/bbb_h264_aac_720p_30s.mp4"
PLAYING_PAST = "(t) => { const v = document.querySelector('video'); return v && v.currentTime > t; }"
#: Clips are played at this rate to keep the suite short; Chromium still decodes every frame.
FAST = 4


def log_in(page, base):
    page.goto(base + "/")
    assert "/login" in page.url
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")


def playback(page, base, media):
    return page.evaluate(f"fetch('{base}/api/media-files/{media}/playback').then(r => r.json())")


def play_past(page, share, timeout_ms=60_000):
    """Wait for playback to start, speed it up, then wait until `share` of the duration is played."""
    page.wait_for_function(PLAYING_PAST, arg=0.05, timeout=timeout_ms)
    page.evaluate(f"document.querySelector('video').playbackRate = {FAST}")
    page.wait_for_function("(s) => { const v = document.querySelector('video');"
                           " return v.ended || (isFinite(v.duration) && v.duration > 0 && v.currentTime > s * v.duration); }",
                           arg=share, timeout=timeout_ms)
    assert page.evaluate("document.querySelector('video').error") is None


MUSIC_ELEMENT = "window.mediaserverMusic && window.mediaserverMusic.player.element"


def music_play_past(page, share, timeout_ms=60_000):
    """The music player's sound plays its track past `share` of its duration: started, then sought by
    the session to 5 s before that point (the session corrects any playbackRate a test would set)."""
    page.wait_for_function(f"() => {{ const a = {MUSIC_ELEMENT}; return a && !a.paused && a.currentTime > 0.05; }}",
                           timeout=timeout_ms)
    duration = page.evaluate(f"() => {MUSIC_ELEMENT}.duration")
    if duration * share > 6:
        page.evaluate(f"() => window.mediaserverMusic.session.seek({duration * share - 5})")
    page.wait_for_function(f"(s) => {{ const a = {MUSIC_ELEMENT}; return a.ended || a.currentTime > s * a.duration; }}",
                           arg=share, timeout=timeout_ms)
    assert page.evaluate(f"() => {MUSIC_ELEMENT}.error") is None


def test_log_in_open_a_title_and_watch_it_play_directly(page, live_server, ladder_app):
    log_in(page, live_server)
    page.goto(live_server + "/files")
    row = page.locator("#library tr", has_text="bbb_h264_aac_720p_30s.mp4")
    row.get_by_role("link", name="Play").click()
    media = media_id(ladder_app, BBB)
    page.wait_for_url(f"{live_server}/watch/{media}")
    page.wait_for_function(PLAYING_PAST, arg=1, timeout=30_000)
    info = playback(page, live_server, media)
    assert (info["method"], info["kind"]) == ("direct", "file")
    assert page.evaluate("document.querySelector('video').currentSrc").startswith(f"{live_server}/media/{media}/")
    # A file played directly has one quality and its own tracks: the menus are hidden, not shown empty.
    for menu in ("#quality", "#audio", "#subtitles"):
        assert not page.locator(menu).is_visible(), menu


@pytest.mark.every_clip
@pytest.mark.parametrize("rel", decodable_media())
def test_every_decodable_clip_plays_past_80_percent_with_its_tracks_listed(signed_in_page, live_server, ladder_app, rel):
    page = signed_in_page
    media = media_id(ladder_app, rel)
    page.goto(f"{live_server}/watch/{media}")
    if "/music/" in page.url:  # a music file opens the music player (tests/e2e/test_music.py)
        music_play_past(page, 0.8)
        return
    play_past(page, 0.8)
    info = playback(page, live_server, media)
    if info["kind"] == "hls":
        has_video = page.evaluate("window.mediaserverHls.levels.some(l => l.height > 0)")
        hls_audio = page.evaluate("window.mediaserverHls.audioTracks.length")
        assert hls_audio == (len(info["audio"]) if has_video else 0)  # audio-only: the variants are the audio
        convertible = [t for t in info["subtitles"] if t["convertible"]]
        assert page.evaluate("window.mediaserverHls.subtitleTracks.length") == len(convertible)


def test_mkv_with_h264_level_52_and_ac3_plays_as_h264_and_aac(page, live_server, ladder_app):
    log_in(page, live_server)
    media = media_id(ladder_app, "video/sample_with_srt.mkv")
    page.goto(f"{live_server}/watch/{media}")
    page.wait_for_function(PLAYING_PAST, arg=0.3, timeout=30_000)
    info = playback(page, live_server, media)
    # This clip's H.264 is level 5.2, above the 4.2 that decision.py lets through: transcoded, not remuxed
    assert info["method"] == "transcode" and any("level 5.2" in r for r in info["reasons"])
    assert page.evaluate("window.mediaserverHls.levels[0].audioCodec") == "mp4a.40.2"


def test_two_audio_tracks_are_listed_and_switch(page, live_server, ladder_app):
    log_in(page, live_server)
    page.goto(f"{live_server}/watch/{media_id(ladder_app, 'video/friday_multitrack.mkv')}")
    page.wait_for_function(PLAYING_PAST, arg=0.3, timeout=30_000)
    options = page.locator("#audio option").all_text_contents()
    assert len(options) == 2 and "[en]" in options[0] and "[fr]" in options[1]
    page.select_option("#audio", index=1)
    page.wait_for_function("() => window.mediaserverHls.audioTrack === 1", timeout=10_000)
    page.wait_for_function("() => document.querySelector('#audio').selectedIndex === 1")
    page.wait_for_function(PLAYING_PAST, arg=2, timeout=30_000)


def test_text_subtitles_become_text_tracks_with_cues(page, live_server, ladder_app):
    log_in(page, live_server)
    page.goto(f"{live_server}/watch/{media_id(ladder_app, 'video/friday_multitrack.mkv')}")
    page.wait_for_function(PLAYING_PAST, arg=0.3, timeout=30_000)
    assert page.locator("#subtitles option").all_text_contents()[1:] == ["English (SRT)", "English (ASS conversion)"]
    page.select_option("#subtitles", index=1)
    page.wait_for_function("() => Array.from(document.querySelector('video').textTracks)"
                           ".some(t => t.mode === 'showing' && t.cues && t.cues.length > 0)", timeout=20_000)


def test_bitmap_subtitles_are_listed_as_not_convertible(page, live_server, ladder_app):
    log_in(page, live_server)
    page.goto(f"{live_server}/watch/{media_id(ladder_app, 'video/sample_with_pgs_subtitles.mkv')}")
    page.wait_for_function("() => document.getElementById('tracks-note').textContent.includes('bitmap')")


def test_the_quality_menu_switches_rungs(page, live_server, ladder_app):
    log_in(page, live_server)
    page.goto(f"{live_server}/watch/{media_id(ladder_app, 'video/big_buck_bunny_0_30.webm')}")
    page.wait_for_function(PLAYING_PAST, arg=0.5, timeout=30_000)
    options = page.locator("#quality option").all_text_contents()
    assert options[0] == "Auto" and [o.split(" ")[0] for o in options[1:]] == ["720p", "480p", "360p"]
    page.select_option("#quality", label=page.locator("#quality option", has_text="360p").text_content())
    page.wait_for_function("() => document.querySelector('video').videoHeight === 360 && "
                           "window.mediaserverHls.levels[window.mediaserverHls.currentLevel].height === 360",
                           timeout=30_000)


#: A token this short (s) on the 10 s clip: renewed every 4 s, so it expires twice before the end.
SHORT_TTL_S = 5


def test_with_a_short_token_a_title_plays_to_its_end(page, live_server, ladder_app):
    ladder_app.config["TOKEN_TTL_S"] = SHORT_TTL_S
    try:
        log_in(page, live_server)
        issued, denied = [], []
        page.on("response", lambda r: r.status == 403 and denied.append(r.url))
        page.on("response", lambda r: r.url.endswith("/playback") and r.status == 200 and issued.append(r.json()["url"]))
        page.goto(f"{live_server}/watch/{media_id(ladder_app, 'video/bbb_hevc_720p_10s.mp4')}")
        page.wait_for_function("() => document.querySelector('video').ended", timeout=60_000)
        assert not denied and len(issued) >= 3  # renewed every 4 s, and never refused
        # Tokens alone (no cookie, as VLC): the first has expired, the renewed one still opens the title.
        first, last = (urlparse(url).path for url in (issued[0], issued[-1]))
        anonymous = ladder_app.test_client()
        assert anonymous.get(first).status_code == 403 and anonymous.get(last).status_code == 200
    finally:
        ladder_app.config["TOKEN_TTL_S"] = 900


def test_resume_position_is_stored_and_offered(page, live_server, ladder_app):
    log_in(page, live_server)
    media = media_id(ladder_app, "video/crystal.mp4")
    page.goto(f"{live_server}/watch/{media}")
    page.wait_for_function(PLAYING_PAST, arg=4, timeout=30_000)
    page.evaluate("document.querySelector('video').pause()")
    page.wait_for_function(f"() => fetch('/api/media-files/{media}/position').then(r => r.json())"
                           ".then(b => b.position_ms >= 4000)", timeout=10_000)
    page.goto(f"{live_server}/watch/{media}")
    page.wait_for_selector("#resume:not([hidden])")
    page.wait_for_function(PLAYING_PAST, arg=4, timeout=30_000)


def test_keyboard_shortcuts_pause_and_seek(page, live_server, ladder_app):
    log_in(page, live_server)
    page.goto(f"{live_server}/watch/{media_id(ladder_app, BBB)}")
    page.wait_for_function(PLAYING_PAST, arg=0.5, timeout=30_000)
    page.keyboard.press("k")
    page.wait_for_function("() => document.querySelector('video').paused")
    page.keyboard.press("ArrowRight")
    page.wait_for_function(PLAYING_PAST, arg=10)


@pytest.mark.parametrize("rel", ["broken/flower_truncated.mp4", "broken/sample_malformed_free_box.mp4"])
def test_a_broken_file_explains_itself(page, live_server, ladder_app, rel):
    log_in(page, live_server)
    page.goto(f"{live_server}/watch/{media_id(ladder_app, rel)}")
    page.wait_for_function("() => document.getElementById('status').textContent.includes('cannot be played')")


def test_the_poster_grid_searches_and_opens_a_title_that_plays(page, live_server, ladder_app):
    log_in(page, live_server)
    page.wait_for_selector(".card-poster")
    assert page.locator(".card-poster").count() >= 10  # every video clip of the shared library
    assert "TMDB enrichment is off" in page.text_content("body")
    page.fill("input[name=q]", "crystal")
    page.wait_for_function("() => document.querySelectorAll('.card-poster').length === 1")
    page.click(".card-poster")
    page.wait_for_selector(".hero")
    poster = page.locator(".hero img.poster")
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=poster.element_handle())
    page.click("a.button:has-text('Play')")
    page.wait_for_function(PLAYING_PAST, arg=2, timeout=30_000)
