"""Audio in headless Chromium through a party's page (a music file's `/watch/<id>` opens the music player:
tests/e2e/test_music.py): a FLAC file played directly, a WavPack file transcoded to an audio-only HLS,
and a file with two audio tracks whose menu switches between them."""
import pytest
from redis import Redis

from mediaserver import create_app
from mediaserver.accounts import create_user
from tests.e2e.party_server import csrf_post
from tests.e2e.test_player import PLAYING_PAST, log_in, playback
from tests.helpers import MUSIC_TAGS, PASSWORD, TEST_REDIS_URL, app_config, link_clip, link_file, media_id, run_worker, \
    serving
from tests.integration.test_music_playback import two_track_file

FLAC, WAVPACK, TWO = "Bear/bear.flac", "Silence/silence-44-s.wv", "Tones/two-tracks.mka"


@pytest.fixture(scope="module")
def music_server(tmp_path_factory):
    base = tmp_path_factory.mktemp("music-e2e")
    for folder in ("Bear", "Silence", "Tones"):
        (base / "lib" / folder).mkdir(parents=True)
    link_clip("audio/bear.flac", base / "lib" / FLAC)
    link_file(MUSIC_TAGS / "silence-44-s.wv", base / "lib" / WAVPACK)
    two_track_file(base / "lib" / TWO)
    redis = Redis.from_url(TEST_REDIS_URL)
    redis.flushdb()
    app = create_app(app_config(base, LIBRARY_ROOTS=[str(base / "lib")], AUTO_TRANSCODE_DEFAULT=True))
    with app.app_context():
        create_user("alice", PASSWORD, is_admin=True)
    assert app.test_cli_runner().invoke(args=["scan"]).exit_code == 0
    run_worker(app)
    with serving(app) as url:
        yield app, url
    redis.flushdb()


def open_playing(page, base, media_file_id):
    """A party on the file, its page open and playing (the party page has the player's audio menu)."""
    made = csrf_post(page.context, base + "/api/parties", {"media_file_id": media_file_id})
    assert made.status == 201, made.text()
    page.goto(f"{base}/p/{made.json()['code']}")
    page.wait_for_function("() => window.partySync && document.getElementById('video').readyState >= 1",
                           timeout=30_000)
    page.evaluate("() => window.partySync.play()")


def test_a_flac_plays_directly_and_a_wavpack_file_through_hls(page, music_server):
    app, base = music_server
    log_in(page, base)
    flac = media_id(app, FLAC)
    open_playing(page, base, flac)
    page.wait_for_function(PLAYING_PAST, arg=0.5, timeout=30_000)
    assert (playback(page, base, flac)["kind"]) == "file"
    assert page.evaluate("document.querySelector('video').currentSrc").endswith("/bear.flac")
    wavpack = media_id(app, WAVPACK)
    open_playing(page, base, wavpack)
    page.wait_for_function(PLAYING_PAST, arg=0.5, timeout=30_000)
    info = playback(page, base, wavpack)
    assert (info["method"], info["kind"]) == ("transcode", "hls")
    assert page.evaluate("window.mediaserverHls.levels.map(l => l.audioCodec)") == ["mp4a.40.2"]
    assert page.evaluate("document.querySelector('video').error") is None


def test_two_audio_tracks_are_offered_the_default_first_and_switch(page, music_server):
    app, base = music_server
    log_in(page, base)
    open_playing(page, base, media_id(app, TWO))
    page.wait_for_function(PLAYING_PAST, arg=0.3, timeout=30_000)
    assert page.locator("#audio").is_visible() and not page.locator("#quality").is_visible()
    options = page.eval_on_selector_all("#audio option", "os => os.map(o => [o.textContent, o.selected])")
    assert options == [["English [en]", False], ["French [fr]", True]]
    french = page.evaluate("window.mediaserverHls.currentLevel")
    assert "audio_1/" in page.evaluate(f"window.mediaserverHls.levels[{french}].uri")
    assert page.evaluate("window.mediaserverHls.autoLevelEnabled") is False  # pinned: no switch by bit rate
    page.select_option("#audio", label="English [en]")
    page.wait_for_function("() => window.mediaserverHls.levels[window.mediaserverHls.currentLevel].uri"
                           ".includes('audio_0/')", timeout=10_000)
    at = page.evaluate("document.querySelector('video').currentTime")
    page.wait_for_function(PLAYING_PAST, arg=at + 0.3, timeout=10_000)
