"""Sessions that can be ended (issue 13, item 5) and the sign-in holes of item 6: a replayed cookie after
a log out, old cookies and stream tokens after a password change or "log out everywhere", the sessions
list, the login's `next`, an expired token with another user's cookie, and the Bearer CSRF exemption.
"""
from __future__ import annotations

import time
from datetime import timedelta
from urllib.parse import quote, urlsplit

import pytest

from mediaserver import create_app, tokens
from mediaserver.accounts import IDLE_LIMIT_S, SEEN_EVERY_S, create_user, session_user, start_session
from mediaserver.db import get_db
from mediaserver.models import User, UserSession, as_utc, utcnow
from tests.helpers import NO_RATE_LIMITS, PASSWORD, app_config, make_library, media_id

MOVIE = "Movies/BBB (2008).mp4"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    base = tmp_path_factory.mktemp("sessions")
    library = make_library(base / "lib", {MOVIE: "video/bbb_h264_aac_720p_30s.mp4"})
    app = create_app_with(base, library)
    with app.app_context():
        create_user("alice", PASSWORD, is_admin=True)
        create_user("bob", PASSWORD)
    assert app.test_cli_runner().invoke(args=["scan"]).exit_code == 0
    app.movie = media_id(app, MOVIE)
    return app


def create_app_with(base, library):
    return create_app(app_config(base, LIBRARY_ROOTS=[str(library)], **NO_RATE_LIMITS))


def login(app, username: str = "bob", password: str = PASSWORD):
    client = app.test_client()
    response = client.post("/api/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.json
    return client


def replay(app, client):
    """A new client holding only `client`'s session cookie, as an attacker who copied it would."""
    stolen = app.test_client()
    stolen.set_cookie("session", client.get_cookie("session").value)
    return stolen


def stream_path(app, client) -> str:
    body = client.get(f"/api/media-files/{app.movie}/playback").json
    assert body["kind"] == "file", body
    return urlsplit(body["url"]).path


def test_a_cookie_replayed_after_logout_is_dead(world):
    for logout in ("/api/auth/logout", "/logout"):
        client = login(world)
        stolen = replay(world, client)
        assert stolen.get("/api/auth/me").status_code == 200
        assert client.post(logout).status_code in (200, 302)
        assert stolen.get("/api/auth/me").status_code == 401, logout
        assert stolen.get("/shows").headers["Location"].startswith("/login")


def test_a_password_change_ends_every_other_session_and_the_old_stream_tokens(world):
    with world.app_context():
        create_user("carol", PASSWORD)
    here, elsewhere = login(world, "carol"), login(world, "carol")
    old_stream = stream_path(world, elsewhere)
    assert world.test_client().get(old_stream).status_code == 200  # the token alone plays it

    wrong = here.post("/api/auth/password", json={"current_password": "not it", "new_password": "n3w-password"})
    assert wrong.status_code == 403 and wrong.json["message"] == "the current password is wrong"
    short = here.post("/api/auth/password", json={"current_password": PASSWORD, "new_password": "short"})
    assert short.status_code == 400 and "at least 8" in short.json["message"]
    assert elsewhere.get("/api/auth/me").status_code == 200  # neither changed anything

    changed = here.post("/api/auth/password", json={"current_password": PASSWORD, "new_password": "n3w-password"})
    assert changed.status_code == 200 and changed.json["ok"] and changed.json["csrf_token"]
    assert elsewhere.get("/api/auth/me").status_code == 401
    assert here.get("/api/auth/me").status_code == 200  # the browser that changed it stays in, afresh
    dead = world.test_client().get(old_stream)
    assert dead.status_code == 403 and "signed out everywhere" in dead.json["message"]
    assert here.get(old_stream).status_code == 403  # the cookie does not revive an old epoch's token
    assert world.test_client().get(stream_path(world, here)).status_code == 200  # a new token plays
    assert world.test_client().post("/api/auth/login", json={"username": "carol", "password": PASSWORD}
                                    ).status_code == 401
    assert login(world, "carol", "n3w-password").get("/api/auth/me").status_code == 200


def test_log_out_everywhere_ends_all_sessions_and_tokens(world):
    with world.app_context():
        create_user("dave", PASSWORD)
    first, second = login(world, "dave"), login(world, "dave")
    token_url = stream_path(world, second)
    assert first.post("/api/auth/logout-everywhere").json == {"ok": True}
    assert first.get("/api/auth/me").status_code == 401
    assert second.get("/api/auth/me").status_code == 401
    assert world.test_client().get(token_url).status_code == 403
    page = login(world, "dave")
    assert page.post("/account/logout-everywhere").headers["Location"].startswith("/login")
    assert page.get("/api/auth/me").status_code == 401


def test_users_see_and_end_their_own_sessions(world):
    with world.app_context():
        create_user("erin", PASSWORD)
    laptop = world.test_client()
    laptop.post("/api/auth/login", json={"username": "erin", "password": PASSWORD},
                headers={"User-Agent": "Laptop Firefox"})
    phone = world.test_client()
    phone.post("/api/auth/login", json={"username": "erin", "password": PASSWORD}, headers={"User-Agent": "Phone"})
    listed = laptop.get("/api/auth/sessions").json["sessions"]
    assert [(s["user_agent"], s["current"]) for s in sorted(listed, key=lambda s: s["id"])] == [
        ("Laptop Firefox", True), ("Phone", False)]
    assert all(s["address"] == "127.0.0.1" and s["created_at"] and s["last_seen_at"] for s in listed)
    phone_id = next(s["id"] for s in listed if not s["current"])

    alice = login(world, "alice")  # an admin still ends only her own sessions here
    assert alice.delete(f"/api/auth/sessions/{phone_id}").status_code == 404
    assert phone.get("/api/auth/me").status_code == 200
    assert laptop.delete(f"/api/auth/sessions/{phone_id}").json == {"ok": True}
    assert phone.get("/api/auth/me").status_code == 401
    assert laptop.delete(f"/api/auth/sessions/{phone_id}").status_code == 404

    page = laptop.get("/account")
    assert page.status_code == 200 and b"Laptop Firefox" in page.data and b"(this one)" in page.data
    assert b"Phone" not in page.data
    mine = laptop.get("/api/auth/sessions").json["sessions"][0]["id"]
    assert laptop.post(f"/account/sessions/{mine}/end").headers["Location"].startswith("/login")
    assert laptop.get("/api/auth/me").status_code == 401


def test_the_password_form_changes_it_and_says_so(world):
    with world.app_context():
        create_user("fred", PASSWORD)
    client, other = login(world, "fred"), login(world, "fred")
    differ = client.post("/account/password", data={"current_password": PASSWORD, "new_password": "aaaaaaaa1",
                                                    "new_password2": "aaaaaaaa2"}, follow_redirects=True)
    assert b"The two new passwords differ." in differ.data and other.get("/api/auth/me").status_code == 200
    done = client.post("/account/password", data={"current_password": PASSWORD, "new_password": "aaaaaaaa1",
                                                  "new_password2": "aaaaaaaa1"}, follow_redirects=True)
    assert b"Password changed" in done.data
    assert other.get("/api/auth/me").status_code == 401 and client.get("/api/auth/me").status_code == 200


def one_session(username: str, user_agent: str):
    """A new user with one session (in an app context): (user, its secret, its row, its last_seen_at)."""
    user = create_user(username, PASSWORD)
    secret = start_session(user, user_agent, "127.0.0.1")
    row = get_db().query(UserSession).filter_by(user_id=user.id).one()
    return user, secret, row, as_utc(row.last_seen_at)


def test_last_seen_is_written_at_most_every_few_minutes(world):
    """The clock is injected: `session_user(secret, now)`."""
    with world.app_context():
        user, secret, row, began = one_session("gina", "test")
        session_user(secret, began + timedelta(seconds=SEEN_EVERY_S - 1))
        get_db().expire_all()
        assert as_utc(get_db().get(UserSession, row.id).last_seen_at) == began
        later = began + timedelta(seconds=SEEN_EVERY_S)
        assert session_user(secret, later)[1].id == user.id
        get_db().expire_all()
        assert as_utc(get_db().get(UserSession, row.id).last_seen_at) == later
        assert session_user("not-a-session", utcnow()) is None and session_user(None, utcnow()) is None


@pytest.mark.parametrize("target", ["/%09/evil.example", "/%0a/x", "/%0d%0aSet-Cookie:x=1", "//evil.example",
                                    "/\\evil.example", "%5C%5Cevil.example", "https://evil.example/",
                                    "http:/evil.example", "javascript:alert(1)", "/%00x", " //evil.example"])
def test_login_never_redirects_off_site(world, target):
    client = world.test_client()
    response = client.post(f"/login?next={target}", data={"username": "bob", "password": PASSWORD})
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert response.headers["Location"] == "/", response.headers["Location"]  # the home page
    assert client.get("/api/auth/me").status_code == 200


def test_login_keeps_a_same_site_next(world):
    response = world.test_client().post("/login?next=" + quote("/shows?sort=title", safe=""),
                                        data={"username": "bob", "password": PASSWORD})
    assert response.headers["Location"] == "/shows?sort=title"


def test_an_expired_token_is_honoured_for_its_own_users_cookie_only(world):
    secret = world.config["SECRET_KEY"]
    with world.app_context():
        bob = get_db().query(User).filter_by(username="bob").one()
        bob_id, bob_epoch = bob.id, bob.token_epoch
    expired, _ = tokens.issue(secret, bob_id, world.movie, ttl_s=10, now_s=time.time() - 60, epoch=bob_epoch)
    path = f"/media/{world.movie}/{expired}/BBB%20%282008%29.mp4"
    assert world.test_client().get(path).status_code == 403
    assert login(world, "alice").get(path).status_code == 403  # an admin's cookie is not bob's
    assert login(world, "bob").get(path).status_code == 200


def test_csrf_is_skipped_only_for_a_valid_bearer_and_then_the_cookie_is_ignored(world):
    admin = login(world, "alice")
    forged = admin.post("/api/parties", json={"media_file_id": world.movie}, headers={"Authorization": "Bearer x"})  # the test client sends no CSRF token with a Bearer
    assert forged.status_code == 400 and "CSRF" in forged.json["message"]
    created = admin.post("/api/parties", json={"media_file_id": world.movie})
    code = created.json["code"]
    token = world.test_client().post(f"/api/parties/{code}/join", json={"name": "Kim"}).json["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    as_guest = admin.post("/api/parties", json={"media_file_id": world.movie}, headers=bearer)
    assert as_guest.status_code == 401  # no CSRF check, and no admin either: the guest is no user
    assert admin.get(f"/api/parties/{code}", headers=bearer).status_code == 200  # the guest's own party
    assert admin.get("/api/auth/me", headers=bearer).status_code == 401
    assert admin.get("/api/auth/me").status_code == 200


def test_a_role_change_ends_the_users_sessions_and_tokens_and_a_grant_does_not(world):
    with world.app_context():
        create_user("hank", PASSWORD)
    client = login(world, "hank")
    token_url = stream_path(world, client)
    runner = world.test_cli_runner()
    granted = runner.invoke(args=["users", "set", "hank", "--transcode"])  # no role change
    assert granted.exit_code == 0 and "role changed" not in granted.output
    assert client.get("/api/auth/me").status_code == 200
    assert world.test_client().get(token_url).status_code == 200
    promoted = runner.invoke(args=["users", "set", "hank", "--admin"])
    assert promoted.exit_code == 0 and "every session of the user was logged out" in promoted.output
    assert client.get("/api/auth/me").status_code == 401
    assert world.test_client().get(token_url).status_code == 403
    admin = login(world, "hank")
    assert admin.get("/api/auth/me").json["user"]["is_admin"] is True
    assert runner.invoke(args=["users", "set", "hank", "--no-admin"]).exit_code == 0
    assert admin.get("/api/auth/me").status_code == 401  # demoted: the admin session is gone too


def test_flask_users_password_sets_a_new_one_and_logs_the_user_out(world):
    with world.app_context():
        create_user("ivy", PASSWORD)
    client = login(world, "ivy")
    runner = world.test_cli_runner()
    short = runner.invoke(args=["users", "password", "ivy", "--password", "short"])
    assert short.exit_code == 1 and "at least 8" in short.output
    assert client.get("/api/auth/me").status_code == 200
    done = runner.invoke(args=["users", "password", "ivy", "--password", "fresh-password"])
    assert done.exit_code == 0 and "logged out" in done.output
    assert client.get("/api/auth/me").status_code == 401
    assert login(world, "ivy", "fresh-password").get("/api/auth/me").status_code == 200
    assert runner.invoke(args=["users", "password", "nobody", "--password", "fresh-password"]).exit_code == 1


def test_a_session_idle_for_30_days_has_ended_and_its_row_goes_at_the_next_login(world):
    """The clock is injected: `session_user(secret, now)`; the row's last_seen_at is moved back."""
    with world.app_context():
        user, secret, row, seen = one_session("jack", "old laptop")
        assert session_user(secret, seen + timedelta(seconds=IDLE_LIMIT_S)) is None
        assert session_user(secret, seen + timedelta(seconds=IDLE_LIMIT_S - 1)) is not None  # (seen again)
        row.last_seen_at = utcnow() - timedelta(seconds=IDLE_LIMIT_S + 60)
        get_db().commit()
    client = login(world, "jack")  # (SQLite may give the new row the deleted one's id: compare agents)
    agents = [s["user_agent"] for s in client.get("/api/auth/sessions").json["sessions"]]
    assert len(agents) == 1 and agents[0].startswith("Werkzeug/")  # the test client's: only the new one
    with world.app_context():
        assert [r.user_agent for r in get_db().query(UserSession).filter_by(user_id=user.id)] == agents
