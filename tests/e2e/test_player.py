"""A person's path in headless Chromium: log in, open a transcoded title, watch it play through hls.js."""
import pytest

from tests.helpers import PASSWORD, media_id

BBB = "video/bbb_h264_aac_720p_30s.mp4"
PLAYING_PAST = "(t) => { const v = document.querySelector('video'); return v && v.currentTime > t; }"


def log_in(page, base):
    page.goto(base + "/")
    assert "/login" in page.url
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")


def test_log_in_open_a_title_and_watch_it_play(page, live_server, ladder_app):
    log_in(page, live_server)
    page.goto(live_server + "/files")
    row = page.locator("#library tr", has_text="bbb_h264_aac_720p_30s.mp4")
    row.get_by_role("link", name="Play").click()
    page.wait_for_url(f"{live_server}/watch/{media_id(ladder_app, BBB)}")
    page.wait_for_function(PLAYING_PAST, arg=3, timeout=30_000)
    options = page.locator("#quality option").all_text_contents()
    assert options[0] == "Auto" and [o.split(" ")[0] for o in options[1:]] == ["720p", "480p", "360p"]
    errors = page.evaluate("document.querySelector('video').error")
    assert errors is None


@pytest.mark.parametrize("rel,past_s", [
    ("video/bbb_hevc_720p_10s.mp4", 3),               # HEVC, which Chromium cannot decode: transcoded
    ("video/h265_bframes.mp4", 0.5),                  # HEVC with B-frames, 1 s, no audio
    ("video/big_buck_bunny_0_30.webm", 3),            # VP8/Vorbis in WebM
    ("video/flower.webm", 3),
    ("video/rabbit320.webm", 3),
    ("video/bbb_642x642_768kbps_30fps_vp9.webm", 1.5),  # VP9, odd width, no audio
    ("video/bbb_interlaced_576i25_mpeg2.ts", 3),      # interlaced, anamorphic MPEG-2
    ("audio/bear_with_picture.flac", 1.5),            # audio only, cover art ignored
])
def test_transcoded_sources_play(page, live_server, ladder_app, rel, past_s):
    log_in(page, live_server)
    page.goto(f"{live_server}/watch/{media_id(ladder_app, rel)}")
    page.wait_for_function(PLAYING_PAST, arg=past_s, timeout=30_000)


def test_the_quality_menu_switches_rungs(page, live_server, ladder_app):
    log_in(page, live_server)
    page.goto(f"{live_server}/watch/{media_id(ladder_app, BBB)}")
    page.wait_for_function(PLAYING_PAST, arg=0.5, timeout=30_000)
    page.select_option("#quality", label=page.locator("#quality option", has_text="360p").text_content())
    page.wait_for_function("() => document.querySelector('video').videoHeight === 360 && "
                           "window.mediaserverHls.levels[window.mediaserverHls.currentLevel].height === 360",
                           timeout=30_000)


def test_a_failed_title_explains_itself(page, live_server, ladder_app):
    log_in(page, live_server)
    page.goto(f"{live_server}/watch/{media_id(ladder_app, 'broken/flower_truncated.mp4')}")
    page.wait_for_function("() => document.getElementById('status').textContent.includes('no HLS ladder')")


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
