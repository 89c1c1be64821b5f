"""Accounts: first-run set-up, login by page and JSON, protected routes, `flask users create`."""
from tests.helpers import PASSWORD


def test_first_visit_without_users_offers_the_admin_set_up_once(client):
    assert client.get("/").headers["Location"].startswith("/login")
    assert client.get("/login").headers["Location"] == "/setup"
    page = client.get("/setup")
    assert b"Create the admin account" in page.data
    response = client.post("/setup", data={"username": "root", "password": "s3cret-pass", "password2": "s3cret-pass"})
    assert response.status_code == 302
    assert client.get("/api/auth/me").json["user"] == {"id": 1, "username": "root", "is_admin": True,
                                                      "may_transcode": False}
    assert client.get("/setup").headers["Location"] == "/login"  # gone once a user exists


def test_set_up_rejects_mismatched_or_short_passwords(client):
    assert b"differ" in client.post("/setup", data={"username": "r", "password": "aaaaaaaa", "password2": "b"}).data
    assert b"at least 8" in client.post("/setup", data={"username": "r", "password": "short", "password2": "short"}).data
    assert client.get("/api/auth/me").status_code == 401


def test_json_login_sets_the_session_cookie(client, user):
    response = client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
    assert response.status_code == 200
    assert response.json["user"] == {"id": user.id, "username": "alice", "is_admin": True, "may_transcode": False}
    assert response.json["csrf_token"]  # the new session's CSRF token (test_security.py)
    assert "session=" in response.headers["Set-Cookie"]
    assert client.get("/api/library/media-files").status_code == 200


def test_bad_credentials_get_401_json(client, user):
    response = client.post("/api/auth/login", json={"username": "alice", "password": "wrong password"})
    assert response.status_code == 401
    assert response.json["message"] == "wrong user name or password"
    assert client.post("/api/auth/login", json={"username": "nobody", "password": PASSWORD}).status_code == 401


def test_malformed_login_gets_400_json(client, user):
    for body in (None, [], {"username": "alice"}, {"username": 1, "password": 2}):
        response = client.post("/api/auth/login", json=body)
        assert response.status_code == 400 and "username" in response.json["message"]


def test_routes_need_a_logged_in_user(client, user):
    for url in ("/api/library/media-files", "/api/media-files/1", "/api/media-files/1/playback"):
        response = client.get(url)
        assert response.status_code == 401 and response.json["error"] == "Unauthorized"
    assert client.post("/api/media-files/1/transcode").status_code == 401
    for url in ("/", "/media/1", "/watch/1", "/admin/settings"):
        assert client.get(url).headers["Location"].startswith("/login?next=")


def test_page_login_redirects_back(client, user):
    response = client.post("/login?next=/media/5", data={"username": "alice", "password": PASSWORD})
    assert response.headers["Location"] == "/media/5"
    response = client.post("/login?next=//evil.example/", data={"username": "alice", "password": PASSWORD})
    assert response.headers["Location"] == "/"


def test_logout_ends_the_session(auth_client):
    auth_client.post("/api/auth/logout")
    assert auth_client.get("/api/auth/me").status_code == 401


def test_users_create_command(runner, client):
    result = runner.invoke(args=["users", "create", "bob", "--password", "hunter2hunter2"])
    assert result.exit_code == 0 and "created user 'bob'" in result.output
    assert runner.invoke(args=["users", "create", "bob", "--password", "hunter2hunter2"]).exit_code != 0
    assert runner.invoke(args=["users", "create", "eve", "--password", "short"]).exit_code != 0
    response = client.post("/api/auth/login", json={"username": "bob", "password": "hunter2hunter2"})
    assert response.json["user"]["is_admin"] is False
    assert client.get("/admin/settings").status_code == 403


def test_admin_flag(runner, client):
    runner.invoke(args=["users", "create", "carol", "--password", "hunter2hunter2", "--admin"])
    client.post("/api/auth/login", json={"username": "carol", "password": "hunter2hunter2"})
    assert client.get("/admin/settings").status_code == 200
    client.post("/admin/settings", data={"settings_form": "1", "auto_transcode": "on"})
    assert b"checked" in client.get("/admin/settings").data
    client.post("/admin/settings", data={"settings_form": "1"})
    assert b"checked" not in client.get("/admin/settings").data
