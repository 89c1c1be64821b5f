"""Helpers for the `/session` tests (test_session_socket.py, test_session_processes.py): tracks put in
the catalog directly (a media file, an album and its tracks: no scan needed, the catalog's own tests
scan), users signed in over HTTP, and `Device`, a python-socketio client on `/session` signed in by a
login cookie. Times are integer ms."""
from __future__ import annotations

import time
import uuid

from mediaserver.db import get_db
from mediaserver.models import Album, Artist, MediaFile, Track
from mediaserver.models.music import name_key
from tests.helpers import PASSWORD, csrf_session
from tests.party_peer import Peer
from tests.processes import position  # noqa: F401 (the session tests' too)

NS = "/session"
EVENTS = ("session_state", "rejected", "time_pong", "error")


def add_tracks(app, durations_ms: list[int]) -> list[int]:
    """Tracks of one album with these durations (ms), each on its own audio media file; their ids."""
    with app.app_context():
        db = get_db()
        name = f"Artist {uuid.uuid4().hex[:8]}"
        artist = Artist(name=name, name_key=name_key(name), sort_name=name)
        album = Album(title="Album", title_key="album", album_artist=artist)
        db.add_all([artist, album])
        ids = []
        for n, duration in enumerate(durations_ms, 1):
            media = MediaFile(root="/music", path=f"/music/{name}/{n:02d}.flac", size=1, mtime=0.0, status="ok",
                              container="flac", duration_ms=duration)
            track = Track(media_file=media, album=album, title=f"Track {n}", track_number=n, duration_ms=duration)
            db.add_all([media, track])
            db.flush()
            ids.append(track.id)
        db.commit()
        return ids


def login(url: str, username: str):
    """A requests session signed in as `username` (a browser of its own: a session row of its own)."""
    session = csrf_session()
    response = session.post(url + "/api/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return session


def cookie_of(session) -> str:
    return "; ".join(f"{k}={v}" for k, v in session.cookies.items())


class Device(Peer):
    """A browser of a user on `/session`: connected with the login cookie of `http` (a requests session),
    registered as `device_id` when `name` is given."""

    def __init__(self, url: str, http, name: str | None = None, device_id: str | None = None, **options) -> None:
        super().__init__(url, cookie_of(http), namespace=NS, events=EVENTS, **options)
        self.http, self.device_id = http, device_id or uuid.uuid4().hex
        if name is not None:
            ack = self.register(name)
            assert ack["ok"], ack

    def register(self, name: str) -> dict:
        return self.sio.call("register", {"device_id": self.device_id, "name": name}, namespace=NS, timeout=5)

    def command(self, action: str, rev: int, **fields) -> dict:
        """Send `command` and return its ack (the handler has run)."""
        data = {"action": action, "rev": rev, "event_id": fields.pop("event_id", uuid.uuid4().hex), **fields}
        return self.sio.call("command", data, namespace=NS, timeout=5)

    def state(self, pred=lambda s: True, since: int = 0, timeout: float = 3.0) -> dict:
        return self.wait("session_state", pred, since, timeout)[0]

    def latest(self) -> dict:
        return self.received("session_state")[-1]


def play_and_move(controller: Device, watcher: Device, target: Device, rev: int) -> tuple[dict, dict]:
    """`play` at `rev` from `controller`, half a second of it, then `set_device` to `target` from
    `controller`; returns the playing state and the moved one (rev + 2) as `watcher` received them."""
    rev = controller.command("play", rev)["rev"]
    playing = watcher.state(lambda s: s["rev"] == rev and s["state"] == "playing")
    time.sleep(0.5)
    mark = watcher.mark()
    assert controller.command("set_device", rev, device_id=target.device_id)["ok"]
    return playing, watcher.state(lambda s: s["active_device_id"] == target.device_id, mark)
