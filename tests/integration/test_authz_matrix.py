"""The authorization matrix: every route of `app.url_map` (each rule x method, static files aside) for
each of four principals: anonymous, a party guest (the party's token cookie), a viewer (a user who is
not an admin) and an admin. A route missing from EXPECTED fails `test_the_matrix_covers_every_route`:
a new route must say here who may use it.

Outcomes: ALLOW (the request got past authorization: 2xx, 3xx, or a 400/404/409/416/422 about its
input or a missing object), LOGIN (401, or a page's redirect to /login?next=...), DENY (403). Requests
are real: ids of a scanned clip, a party, a transcode job row; every request comes from a fresh
client holding only its principal's credentials, and sends the CSRF token (the CSRF tests are in
test_security.py).
"""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.helpers import PASSWORD
from tests.integration.security_world import ADMIN, ANONYMOUS, GUEST, IMAGE, PRINCIPALS, VIEWER, world_fixture

ALLOW, LOGIN, DENY = "allow", "login", "deny"
PUBLIC = (ALLOW, ALLOW, ALLOW, ALLOW)
USERS = (LOGIN, LOGIN, ALLOW, ALLOW)  # any logged-in user
ADMINS = (LOGIN, LOGIN, DENY, ALLOW)
MEMBERS = (LOGIN, ALLOW, ALLOW, ALLOW)  # the party's guest, or any logged-in user
TOKEN = (DENY, ALLOW, ALLOW, ALLOW)  # stream URLs: the principal's own signed token (anonymous has none)


def _fresh_job(world) -> int:
    """A new queued transcode job of the episode's file (cancelling one is destructive)."""
    admin = world.login("alice")
    admin.post(f"/api/media-files/{world.ids['episode_file']}/transcode")
    return admin.get("/api/admin/transcodes?limit=1").json["items"][0]["id"]


# (rule, method) -> ((anonymous, guest, viewer, admin), request builder: (world, principal) -> (url, kwargs))
EXPECTED = {
    ("/", "GET"): (USERS, lambda w, p: ("/", {})),
    ("/movies", "GET"): (USERS, lambda w, p: ("/movies", {})),
    ("/shows", "GET"): (USERS, lambda w, p: ("/shows", {})),
    ("/files", "GET"): (USERS, lambda w, p: ("/files", {})),
    ("/movies/<int:movie_id>", "GET"): (USERS, lambda w, p: (f"/movies/{w.ids['movie']}", {})),
    ("/shows/<int:show_id>", "GET"): (USERS, lambda w, p: (f"/shows/{w.ids['show']}", {})),
    ("/episodes/<int:episode_id>", "GET"): (USERS, lambda w, p: (f"/episodes/{w.ids['episode']}", {})),
    ("/media/<int:media_id>", "GET"): (USERS, lambda w, p: (f"/media/{w.ids['direct']}", {})),
    ("/watch/<int:media_id>", "GET"): (USERS, lambda w, p: (f"/watch/{w.ids['direct']}", {})),
    ("/images/<name>", "GET"): (USERS, lambda w, p: (f"/images/{IMAGE}", {})),
    ("/login", "GET"): (PUBLIC, lambda w, p: ("/login", {})),
    ("/login", "POST"): (PUBLIC, lambda w, p: ("/login", {"data": {"username": "bob", "password": PASSWORD}})),
    ("/logout", "POST"): (PUBLIC, lambda w, p: ("/logout", {})),
    ("/setup", "GET"): (PUBLIC, lambda w, p: ("/setup", {})),  # users exist: a redirect to /login (no next)
    ("/setup", "POST"): (PUBLIC, lambda w, p: ("/setup", {"data": {"username": "eve", "password": PASSWORD,
                                                                   "password2": PASSWORD}})),
    ("/admin/settings", "GET"): (ADMINS, lambda w, p: ("/admin/settings", {})),
    ("/admin/settings", "POST"): (ADMINS, lambda w, p: ("/admin/settings", {"data": {}})),  # saves nothing
    ("/admin/transcodes", "GET"): (ADMINS, lambda w, p: ("/admin/transcodes", {})),
    ("/api/admin/scans", "POST"): (ADMINS, lambda w, p: ("/api/admin/scans", {})),
    ("/api/admin/scans/<int:scan_id>", "GET"): (ADMINS, lambda w, p: (f"/api/admin/scans/{w.ids['scan']}", {})),
    ("/api/admin/transcodes", "GET"): (ADMINS, lambda w, p: ("/api/admin/transcodes", {})),
    ("/api/admin/transcodes/<int:job_id>/cancel", "POST"): (
        ADMINS, lambda w, p: (f"/api/admin/transcodes/{_fresh_job(w)}/cancel", {})),
    ("/api/admin/transcodes/<int:job_id>/retry", "POST"): (
        ADMINS, lambda w, p: (f"/api/admin/transcodes/{w.ids['job']}/retry", {})),  # succeeded: 409 for admins
    ("/api/auth/csrf", "GET"): (PUBLIC, lambda w, p: ("/api/auth/csrf", {})),
    ("/api/auth/login", "POST"): (PUBLIC, lambda w, p: ("/api/auth/login", {"json": {"username": "bob",
                                                                                    "password": PASSWORD}})),
    ("/api/auth/logout", "POST"): (PUBLIC, lambda w, p: ("/api/auth/logout", {})),
    ("/api/auth/me", "GET"): (USERS, lambda w, p: ("/api/auth/me", {})),
    # the user's own account: a too-short new password (400) and an unknown session id (404) change nothing
    ("/api/auth/password", "POST"): (USERS, lambda w, p: ("/api/auth/password", {"json": {
        "current_password": PASSWORD, "new_password": "short"}})),
    ("/api/auth/sessions", "GET"): (USERS, lambda w, p: ("/api/auth/sessions", {})),
    ("/api/auth/sessions/<int:session_id>", "DELETE"): (USERS, lambda w, p: ("/api/auth/sessions/999999", {})),
    ("/api/auth/logout-everywhere", "POST"): (USERS, lambda w, p: ("/api/auth/logout-everywhere", {})),
    ("/account", "GET"): (USERS, lambda w, p: ("/account", {})),
    ("/account/password", "POST"): (USERS, lambda w, p: ("/account/password", {"data": {
        "current_password": PASSWORD, "new_password": "different1", "new_password2": "different2"}})),
    ("/account/sessions/<int:session_id>/end", "POST"): (USERS, lambda w, p: ("/account/sessions/999999/end", {})),
    ("/account/logout-everywhere", "POST"): (USERS, lambda w, p: ("/account/logout-everywhere", {})),
    ("/api/library/media-files", "GET"): (USERS, lambda w, p: ("/api/library/media-files", {})),
    # music: the world has none, so an unknown id's 404 shows the route got past authorization
    ("/api/library/artists", "GET"): (USERS, lambda w, p: ("/api/library/artists", {})),
    ("/api/library/artists/<int:artist_id>", "GET"): (USERS, lambda w, p: ("/api/library/artists/999999", {})),
    ("/api/library/albums", "GET"): (USERS, lambda w, p: ("/api/library/albums", {})),
    ("/api/library/albums/<int:album_id>", "GET"): (USERS, lambda w, p: ("/api/library/albums/999999", {})),
    ("/api/library/tracks", "GET"): (USERS, lambda w, p: ("/api/library/tracks", {})),
    ("/api/search", "GET"): (USERS, lambda w, p: ("/api/search?q=friday", {})),
    # playlists: a user's own; an unknown one (as another user's) is a 404, a nameless one a 400
    ("/api/playlists", "GET"): (USERS, lambda w, p: ("/api/playlists", {})),
    ("/api/playlists", "POST"): (USERS, lambda w, p: ("/api/playlists", {"json": {"name": ""}})),
    ("/api/playlists/<int:playlist_id>", "GET"): (USERS, lambda w, p: ("/api/playlists/999999", {})),
    ("/api/playlists/<int:playlist_id>", "PATCH"): (USERS, lambda w, p: ("/api/playlists/999999", {"json": {}})),
    ("/api/playlists/<int:playlist_id>", "DELETE"): (USERS, lambda w, p: ("/api/playlists/999999", {})),
    ("/api/playlists/<int:playlist_id>/items", "POST"): (
        USERS, lambda w, p: ("/api/playlists/999999/items", {"json": {"track_ids": []}})),
    ("/api/playlists/<int:playlist_id>/items/<int:item_id>", "PATCH"): (
        USERS, lambda w, p: ("/api/playlists/999999/items/1", {"json": {"index": 0}})),
    ("/api/playlists/<int:playlist_id>/items/<int:item_id>", "DELETE"): (
        USERS, lambda w, p: ("/api/playlists/999999/items/1", {})),
    # the music pages (one shell, web/music_pages.py); an unknown album or artist is a 404 page
    ("/music", "GET"): (USERS, lambda w, p: ("/music", {})),
    ("/music/artists", "GET"): (USERS, lambda w, p: ("/music/artists", {})),
    ("/music/albums/<int:album_id>", "GET"): (USERS, lambda w, p: ("/music/albums/999999", {})),
    ("/music/artists/<int:artist_id>", "GET"): (USERS, lambda w, p: ("/music/artists/999999", {})),
    ("/music/search", "GET"): (USERS, lambda w, p: ("/music/search?q=friday", {})),
    ("/music/playlists", "GET"): (USERS, lambda w, p: ("/music/playlists", {})),
    ("/music/playlists/<int:playlist_id>", "GET"): (USERS, lambda w, p: ("/music/playlists/999999", {})),
    ("/api/library/movies", "GET"): (USERS, lambda w, p: ("/api/library/movies", {})),
    ("/api/library/movies/<int:movie_id>", "GET"): (USERS, lambda w, p: (f"/api/library/movies/{w.ids['movie']}",
                                                                         {})),
    ("/api/library/shows", "GET"): (USERS, lambda w, p: ("/api/library/shows", {})),
    ("/api/library/shows/<int:show_id>", "GET"): (USERS, lambda w, p: (f"/api/library/shows/{w.ids['show']}", {})),
    ("/api/library/<kind>/<int:row_id>/match", "POST"): (
        ADMINS, lambda w, p: (f"/api/library/movies/{w.ids['movie']}/match", {"json": {"tmdb_id": 603}})),
    ("/api/tmdb/search", "GET"): (ADMINS, lambda w, p: ("/api/tmdb/search?kind=movie&q=friday", {})),
    ("/api/media-files/<int:media_id>", "GET"): (USERS, lambda w, p: (f"/api/media-files/{w.ids['direct']}", {})),
    ("/api/media-files/<int:media_id>/frame.jpg", "GET"): (
        USERS, lambda w, p: (f"/api/media-files/{w.ids['direct']}/frame.jpg", {})),
    ("/api/media-files/<int:media_id>/playback", "GET"): (
        USERS, lambda w, p: (f"/api/media-files/{w.ids['direct']}/playback", {})),
    ("/api/media-files/<int:media_id>/position", "GET"): (
        USERS, lambda w, p: (f"/api/media-files/{w.ids['direct']}/position", {})),
    ("/api/media-files/<int:media_id>/position", "PUT"): (
        USERS, lambda w, p: (f"/api/media-files/{w.ids['direct']}/position", {"json": {"position_ms": 5000}})),
    ("/api/media-files/<int:media_id>/position", "DELETE"): (
        USERS, lambda w, p: (f"/api/media-files/{w.ids['direct']}/position", {})),
    # admins, and users granted it (`flask users set NAME --transcode`; the viewer is not, see below)
    ("/api/media-files/<int:media_id>/transcode", "POST"): (
        ADMINS, lambda w, p: (f"/api/media-files/{w.ids['episode_file']}/transcode", {})),
    ("/api/transcodes/events", "GET"): (ADMINS, lambda w, p: ("/api/transcodes/events", {})),  # the whole queue
    ("/api/parties", "POST"): (USERS, lambda w, p: ("/api/parties", {"json": {"media_file_id": w.ids["direct"]}})),
    ("/api/parties/<code>", "GET"): (MEMBERS, lambda w, p: (f"/api/parties/{w.code}", {})),
    ("/api/parties/<code>/join", "POST"): (PUBLIC, lambda w, p: (f"/api/parties/{w.code}/join",
                                                                 {"json": {"name": "Kim"}})),
    ("/api/parties/<code>/playback", "GET"): (MEMBERS, lambda w, p: (f"/api/parties/{w.code}/playback", {})),
    ("/api/parties/<code>/titles", "GET"): (MEMBERS, lambda w, p: (f"/api/parties/{w.code}/titles", {})),
    # a member got past authorization: the party's title is a video, so no cover (404)
    ("/api/parties/<code>/cover/<int:media_file_id>", "GET"): (
        MEMBERS, lambda w, p: (f"/api/parties/{w.code}/cover/{w.ids['direct']}", {})),
    # the host (alice) or an admin; a guest is no user at all (401); bob is neither (403)
    ("/api/parties/<code>/end", "POST"): (ADMINS, lambda w, p: (f"/api/parties/{w.new_party()}/end", {})),
    # the signed-in user's own playback session (a guest's party token is no login: 401)
    ("/api/session", "GET"): (USERS, lambda w, p: ("/api/session", {})),
    ("/api/playback-errors", "POST"): (MEMBERS, lambda w, p: ("/api/playback-errors", {"json": {
        "kind": "network", "media_file_id": w.ids["direct"], "message": "matrix", "party": w.code}})),
    ("/p/<code>", "GET"): (PUBLIC, lambda w, p: (f"/p/{w.code}", {})),  # the invite page, or the party's
    ("/p/<code>/qr.svg", "GET"): (PUBLIC, lambda w, p: (f"/p/{w.code}/qr.svg", {})),
    ("/media/<int:media_id>/<token>/<name>", "GET"): (TOKEN, lambda w, p: (w.stream_urls(p)["direct"], {})),
    ("/media/<int:media_id>/<token>/subs/<key>.vtt", "GET"): (TOKEN, lambda w, p: (w.stream_urls(p)["subtitle"],
                                                                                  {})),
    ("/hls/<int:media_id>/<token>/<path:subpath>", "GET"): (TOKEN, lambda w, p: (w.stream_urls(p)["hls"], {})),
    ("/hls/<path:rest>", "GET"): ((DENY, DENY, DENY, DENY), lambda w, p: ("/hls/master.m3u8", {})),
    # operations (helper modules of issue 6): public by design, no secret in either (web/ops.py)
    ("/healthz", "GET"): (PUBLIC, lambda w, p: ("/healthz", {})),
    ("/metrics", "GET"): (PUBLIC, lambda w, p: ("/metrics", {})),
}

ALLOWED_ERRORS = {400, 404, 409, 416, 422}
#: Routes that end the session they are sent with: sent from a session of their own.
ENDS_SESSION = {("/logout", "POST"), ("/api/auth/logout", "POST"), ("/api/auth/logout-everywhere", "POST"),
                ("/account/logout-everywhere", "POST")}


world = world_fixture("authz")


def routes(app) -> set[tuple[str, str]]:
    return {(rule.rule, method) for rule in app.url_map.iter_rules() if rule.endpoint != "static"
            for method in rule.methods - {"HEAD", "OPTIONS"}}


def outcome(response) -> str:
    status = response.status_code
    assert status < 500, f"{status}: {response.get_data(as_text=True)[:300]}"
    if status == 401:
        return LOGIN
    if status in (301, 302, 303, 307, 308):
        location = urlsplit(response.headers["Location"])
        return LOGIN if location.path == "/login" and "next" in parse_qs(location.query) else ALLOW
    if status == 403:
        return DENY
    if status < 400 or status in ALLOWED_ERRORS:
        if status == 400 and response.is_json:
            assert "CSRF" not in response.json["message"], response.json
        return ALLOW
    raise AssertionError(f"unexpected {status}: {response.get_data(as_text=True)[:300]}")


def test_the_matrix_covers_every_route(world):
    actual = routes(world.app)
    missing, stale = sorted(actual - EXPECTED.keys()), sorted(EXPECTED.keys() - actual)
    assert not missing, f"routes without an expected row in EXPECTED (add them): {missing}"
    assert not stale, f"rows of EXPECTED for routes that no longer exist: {stale}"


@pytest.mark.parametrize("principal", PRINCIPALS)
@pytest.mark.parametrize("route", sorted(EXPECTED), ids=lambda r: f"{r[1]} {r[0]}")
def test_route_answers_each_principal_as_expected(world, route, principal):
    expected, build = EXPECTED[route]
    url, kwargs = build(world, principal)
    client = world.client(principal, own_session=route in ENDS_SESSION)
    response = client.open(url, method=route[1], buffered=False, **kwargs)
    try:
        got = outcome(response)
        want = expected[PRINCIPALS.index(principal)]
        assert got == want, f"{route[1]} {url} as {principal}: {response.status_code}, expected {want}"
        if url.startswith(("/api/", "/hls/", "/media/")) and response.status_code >= 400:
            assert response.is_json and response.json["message"], response.get_data(as_text=True)[:200]
    finally:
        response.close()
        if route[0].endswith("/logout-everywhere"):  # it ended the principal's shared session too
            world.renew(principal)


def test_a_guest_token_opens_its_own_party_only(world):
    """The guest principal of the matrix is a member of its parties, and of no other."""
    other = world.new_party()
    guest = world.client(GUEST)
    assert guest.get(f"/api/parties/{world.code}").status_code == 200
    assert guest.get(f"/api/parties/{other}").status_code == 401  # no cookie for it: a stranger there
    bearer = {"Authorization": f"Bearer {world.guest_token}"}
    assert world.app.test_client().get(f"/api/parties/{other}", headers=bearer).status_code == 403
    assert world.client(ANONYMOUS).get(f"/api/parties/{world.code}", headers=bearer).status_code == 200
    events = world.client(VIEWER).get("/api/transcodes/events?media_file_id=1", buffered=False)
    assert events.status_code == 200  # one title's progress: any user (the whole queue is the admins')
    events.close()
    assert world.client(ADMIN).get("/api/auth/me").json["user"]["is_admin"] is True


def test_a_user_granted_transcodes_may_queue_one_and_the_viewer_queued_none(world):
    """The matrix's viewer (bob) is refused; granted the flag, he may queue, and no longer once it is taken."""
    url = f"/api/media-files/{world.ids['direct']}/transcode"
    viewer = world.client(VIEWER)
    refused = viewer.post(url)
    assert refused.status_code == 403 and refused.json["message"].startswith("queueing a transcode is for admins")
    runner = world.app.test_cli_runner()
    try:
        assert runner.invoke(args=["users", "set", "bob", "--transcode"]).exit_code == 0
        assert viewer.post(url).status_code == 202
        assert runner.invoke(args=["users", "set", "bob", "--no-transcode"]).exit_code == 0
        assert viewer.post(url).status_code == 403
    finally:
        runner.invoke(args=["users", "set", "bob", "--no-transcode"])
