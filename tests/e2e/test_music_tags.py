"""Every audio file of ../shared/music-tags that the scan reads, played in headless Chromium by the music
player (issue 14: "every file ffprobe decodes plays in Chromium, directly or transcoded; the others are
failed with a reason"). The library is scanned with auto-transcode on (the default of `make run`), so
the files a browser cannot play get their audio-only HLS from a real RQ worker, and the ones it plays
are sent as they are. A track counts as played when Chromium decoded audio from it
(`webkitAudioDecodedByteCount` > 0); a track that cannot play must say why in the player bar.

The files allowed not to play are the ones MANIFEST.md says ffprobe itself fails to decode ("ffprobe
warns: ... decode_frame() failed" and the like) and the two whose decoding ffmpeg cannot finish
(test_music_playback.UNDECODABLE_AUDIO), and one Chromium refuses (CHROMIUM_REFUSES); every other one
must play."""
from __future__ import annotations

import re

import pytest
from redis import Redis
from sqlalchemy import select

from mediaserver import create_app
from mediaserver.accounts import create_user
from mediaserver.db import get_db
from mediaserver.models import MediaFile
from tests.e2e.party_server import csrf_post
from tests.helpers import MUSIC_TAGS, PASSWORD, TEST_REDIS_URL, app_config, run_worker, serving
from tests.integration.test_music_playback import UNDECODABLE_AUDIO
from tests.music_library import link_music_tags

#: MANIFEST.md's "ok" files that Chromium cannot play all the same, and why.
CHROMIUM_REFUSES = {"nero-chapters.m4b": "claims 47 hours in 80 KB: Chromium's MP4 demuxer fails any seek in it"}
#: How long one track may take to start or to say it cannot play (ms): a cold HLS start is ~1 s.
START_TIMEOUT_MS = 15_000


def decode_warned() -> set[str]:
    """The files MANIFEST.md's table says ffprobe opens with a decoding error (its last column)."""
    names = set()
    for line in (MUSIC_TAGS / "MANIFEST.md").read_text().splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) > 2 and cells[1].startswith("`") and cells[-2].startswith("ffprobe warns") \
                and re.search(r"decod|invalid data|par", cells[-2], re.I):
            names.add(cells[1].strip("`"))
    return names


@pytest.fixture(scope="module")
def tags_server(tmp_path_factory):
    base = tmp_path_factory.mktemp("music-tags-e2e")
    root = link_music_tags(base / "lib")
    redis = Redis.from_url(TEST_REDIS_URL)
    redis.flushdb()
    app = create_app(app_config(base, LIBRARY_ROOTS=[str(root)], AUTO_TRANSCODE_DEFAULT=True, PROBE_WORKERS=2))
    with app.app_context():
        create_user("alice", PASSWORD, is_admin=True)
    result = app.test_cli_runner().invoke(args=["scan"])
    assert result.exit_code == 0, result.output
    run_worker(app)
    with serving(app) as url:
        yield app, url
    redis.flushdb()


#: Plays one track (the JSON of /api/library/tracks) alone through the page's playback session, then
#: answers {played, hls, said}: `played` once Chromium decoded audio from its <audio> element, or
#: not with what the player bar said of it ("Cannot play “title”: reason"; an earlier track's late
#: word is not taken), or everything it said within the timeout.
PLAY_ONE = """async ([track, timeoutMs]) => {
  const { player, session } = window.mediaserverMusic;
  const said = [];
  const onStatus = (e) => said.push(e.detail.text);
  player.addEventListener("status", onStatus);
  await session.playTracks([track], 0, false);
  const t0 = performance.now();
  const outcome = await new Promise((resolve) => {
    const check = () => {
      const el = player.element, cannot = said.find((t) => t.startsWith("Cannot play “" + track.title + "”"));
      if (cannot) return resolve({ played: false, said: cannot });
      const slot = player.active;  // its element is emptied when the track is loaded into it
      if (slot.entry && slot.entry.track.id === track.id && el.currentSrc && el.webkitAudioDecodedByteCount > 0) {
        return resolve({ played: true, hls: el.currentSrc.startsWith("blob:") || el.currentSrc.includes(".m3u8") });
      }
      if (performance.now() - t0 > timeoutMs) return resolve({ played: false, said: said.join(" | ") || "" });
      setTimeout(check, 20);
    };
    check();
  });
  player.removeEventListener("status", onStatus);
  return outcome;
}"""


def test_every_audio_file_the_scan_reads_plays_in_chromium_or_says_why_not(browser, tags_server):
    app, base = tags_server
    with app.app_context():
        ok = {m.id: m.path for m in get_db().scalars(select(MediaFile).where(MediaFile.status == "ok"))}
    context = browser.new_context()
    csrf_post(context, base + "/api/auth/login", {"username": "alice", "password": PASSWORD})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(base + "/music")
    page.wait_for_function("() => window.mediaserverMusic && window.mediaserverMusic.session")
    tracks = context.request.get(base + "/api/library/tracks?per_page=500").json()["items"]
    assert {t["media_file_id"] for t in tracks} <= set(ok)
    outcomes = {ok[t["media_file_id"]]: page.evaluate(PLAY_ONE, [t, START_TIMEOUT_MS]) for t in tracks}
    context.close()
    played = sorted(name for name, o in outcomes.items() if o["played"])
    not_played = {name: o["said"] for name, o in outcomes.items() if not o["played"]}
    through_hls = sum(1 for o in outcomes.values() if o["played"] and o["hls"])
    print(f"\n{len(tracks)} tracks of {len(ok)} files read: {len(played)} played ({through_hls} through HLS), "
          f"{len(not_played)} said why not:")
    for name, said in sorted(not_played.items()):
        print(f"  {name}: {said[:160]}")
    assert not errors, errors
    assert len(tracks) >= 70  # every audio file read (the rest of `ok` is video: Theora in Ogg)
    allowed = decode_warned() | UNDECODABLE_AUDIO | set(CHROMIUM_REFUSES)
    assert set(not_played) <= allowed, {n: s for n, s in not_played.items() if n not in allowed}
    for name, said in not_played.items():
        assert re.match(r"Cannot play .+: .{10,}\. Skipping it\.$", said, re.S), (name, said)
    assert through_hls >= 15  # ALAC, WMA, APE, WavPack, TAK, Musepack, DSD, AC-3, AIFF, TTA, Speex...
