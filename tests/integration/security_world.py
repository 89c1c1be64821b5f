"""A small real world for the security tests (authorization matrix, fuzzing, hardening): a scanned
library, an admin and a viewer, two parties with one guest, a published (hand-made) HLS ladder, a scan
run, a stored image; and clients for the four principals: anonymous, party guest, viewer, admin.

Files are copied, not linked: the stream routes refuse symlinks that lead out of the library.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from mediaserver import create_app
from mediaserver.accounts import create_user
from mediaserver.db import get_db
from mediaserver.models import Episode, Movie, ScanRun, Show, TranscodeJob, utcnow
from tests.helpers import NO_RATE_LIMITS, PASSWORD, app_config, clip, media_id

DIRECT = "Movies/Friday (2012)/Friday (2012).mp4"  # H.264/AAC MP4 with an .srt beside it: direct play
HLS = "Movies/Big Buck Bunny (2008).webm"  # VP8/Vorbis: played through its (hand-made) HLS ladder
EPISODE = "Shows/Flower/Season 01/Flower S01E01.mp4"
LEAK = "Movies/Leak (2001).mp4"  # a symlink to a file outside the library
FILES = {DIRECT: "video/friday.mp4", DIRECT.replace(".mp4", ".en.srt"): "subtitles/typical.srt",
         HLS: "video/big_buck_bunny_0_30.webm", EPISODE: "video/flower.mp4"}
IMAGE = "poster-test.jpg"

ANONYMOUS, GUEST, VIEWER, ADMIN = "anonymous", "guest", "viewer", "admin"
PRINCIPALS = (ANONYMOUS, GUEST, VIEWER, ADMIN)
USERNAMES = {ADMIN: "alice", VIEWER: "bob"}  # the user principals' accounts


@dataclass
class World:
    app: object
    base: Path
    ids: dict = field(default_factory=dict)  # direct, hls, episode_file, leak, movie, show, episode, job, scan
    code: str = ""  # party A (the direct title): the guest's party
    hls_code: str = ""  # party B (the HLS title): the guest is in it too
    guest_token: str = ""
    hls_guest_token: str = ""
    cookies: dict = field(default_factory=dict)  # principal -> {cookie name: value}
    party_ids: dict = field(default_factory=dict)  # code -> id
    outside: Path | None = None  # a secret file outside every served folder

    def client(self, principal: str, own_session: bool = False):
        """A fresh test client holding only `principal`'s credentials (it sends CSRF tokens). With
        `own_session`, a user principal signs in anew: a request that ends its session (a log out)
        must not end the session every other test shares."""
        if own_session and principal in USERNAMES:
            return self.login(USERNAMES[principal])
        client = self.app.test_client()
        for name, value in self.cookies.get(principal, {}).items():
            client.set_cookie(name, value)
        return client

    def renew(self, principal: str) -> None:
        """Sign a user principal in anew, for the tests after one that logged it out everywhere."""
        if principal in USERNAMES:
            self.cookies[principal] = {"session": self.login(USERNAMES[principal]).get_cookie("session").value}

    def login(self, username: str):
        client = self.app.test_client()
        response = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
        assert response.status_code == 200, response.json
        return client

    def new_party(self, media_key: str = "direct") -> str:
        response = self.login("alice").post("/api/parties", json={"media_file_id": self.ids[media_key]})
        assert response.status_code == 201, response.json
        self.party_ids[response.json["code"]] = response.json["id"]
        return response.json["code"]

    def stream_urls(self, principal: str) -> dict:
        """The principal's own stream URLs (paths): `direct`, `subtitle`, `hls`; forged ones for anonymous."""
        if principal == ANONYMOUS:
            forged = "eyJmb3JnZWQiOnRydWV9.forged"
            return {"direct": f"/media/{self.ids['direct']}/{forged}/x.mp4",
                    "subtitle": f"/media/{self.ids['direct']}/{forged}/subs/x0.vtt",
                    "hls": f"/hls/{self.ids['hls']}/{forged}/master.m3u8"}
        client = self.client(principal)
        if principal == GUEST:
            direct = client.get(f"/api/parties/{self.code}/playback").json
            hls = client.get(f"/api/parties/{self.hls_code}/playback").json
        else:
            direct = client.get(f"/api/media-files/{self.ids['direct']}/playback").json
            hls = client.get(f"/api/media-files/{self.ids['hls']}/playback").json
        assert direct["kind"] == "file" and hls["kind"] == "hls", (direct, hls)
        return {"direct": urlsplit(direct["url"]).path, "subtitle": urlsplit(direct["subtitles"][0]["url"]).path,
                "hls": urlsplit(hls["url"]).path}


def build_world(base: Path) -> World:
    library = base / "lib"
    for name, rel in FILES.items():
        (library / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(clip(rel), library / name)
    outside = base / "outside"
    outside.mkdir()
    shutil.copyfile(clip("video/rabbit320.mp4"), outside / "rabbit.mp4")
    (library / LEAK).parent.mkdir(parents=True, exist_ok=True)
    (library / LEAK).symlink_to(outside / "rabbit.mp4")
    (outside / "secret.txt").write_text("top secret: outside every served folder\n")

    app = create_app(app_config(base, LIBRARY_ROOTS=[str(library)], **NO_RATE_LIMITS))  # test_security tests them
    world = World(app=app, base=base, outside=outside / "secret.txt")
    with app.app_context():
        create_user("alice", PASSWORD, is_admin=True)
        create_user("bob", PASSWORD)
    result = app.test_cli_runner().invoke(args=["scan"])
    assert result.exit_code == 0, result.output
    world.ids.update(direct=media_id(app, DIRECT), hls=media_id(app, HLS), episode_file=media_id(app, EPISODE),
                     leak=media_id(app, LEAK))
    with app.app_context():
        db = get_db()
        world.ids["movie"] = db.query(Movie).first().id
        world.ids["show"] = db.query(Show).first().id
        world.ids["episode"] = db.query(Episode).first().id
        # a published ladder for the HLS title: a succeeded job row and its folder
        folder = f"{world.ids['hls']}-fake"
        out = Path(app.config["DATA_DIR"]) / "hls" / folder
        (out / "v0").mkdir(parents=True)
        (out / "master.m3u8").write_text("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000\nv0/index.m3u8\n")
        (out / "v0" / "index.m3u8").write_text("#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\nseg0.m4s\n"
                                               "#EXT-X-ENDLIST\n")
        (out / "v0" / "seg0.m4s").write_bytes(b"\0" * 2048)
        job = TranscodeJob(media_file_id=world.ids["hls"], status="succeeded", progress=100.0, output_dir=folder,
                           created_at=utcnow(), finished_at=utcnow(), attempts=1)
        run = ScanRun(status="done")
        db.add_all([job, run])
        db.commit()
        world.ids["job"], world.ids["scan"] = job.id, run.id
        images = Path(app.config["DATA_DIR"]) / "images"
        images.mkdir(parents=True, exist_ok=True)
        (images / IMAGE).write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    for principal in USERNAMES:
        world.renew(principal)
    world.code, world.hls_code = world.new_party("direct"), world.new_party("hls")
    guest = app.test_client()
    world.guest_token = guest.post(f"/api/parties/{world.code}/join", json={"name": "Sam"}).json["token"]
    world.hls_guest_token = guest.post(f"/api/parties/{world.hls_code}/join", json={"name": "Sam"}).json["token"]
    world.cookies[GUEST] = {f"party_{world.code}": world.guest_token, f"party_{world.hls_code}": world.hls_guest_token}
    return world


def remove_world(world: World) -> None:
    shutil.rmtree(world.base, ignore_errors=True)


def world_fixture(name: str):
    """A module-scoped `world` fixture: `world = world_fixture("authz")` in a test module."""
    @pytest.fixture(scope="module")
    def world(tmp_path_factory):
        made = build_world(tmp_path_factory.mktemp(name))
        yield made
        remove_world(made)

    return world
