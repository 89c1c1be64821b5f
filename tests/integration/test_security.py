"""CSRF protection, rate limits, security headers and cookie flags (web/security.py, web/ratelimit.py)."""
from __future__ import annotations

import re

import pytest
from redis import Redis

from mediaserver import create_app
from mediaserver.accounts import create_user
from tests.helpers import PASSWORD, app_config, raw_client
from tests.integration.security_world import ADMIN, GUEST, VIEWER, world_fixture

CSRF_MESSAGE = "CSRF token missing or invalid"


world = world_fixture("security")


def raw_login(app, username="alice"):
    """A client without automatic CSRF headers, logged in the way a script does it."""
    client = raw_client(app)
    token = client.get("/api/auth/csrf").json["csrf_token"]
    response = client.post("/api/auth/login", json={"username": username, "password": PASSWORD},
                           headers={"X-CSRFToken": token})
    assert response.status_code == 200, response.json
    return client, response.json["csrf_token"]


# --- CSRF ---------------------------------------------------------------------------------------

def test_every_state_changing_route_refuses_a_request_without_the_token(world):
    """Each POST/PUT/PATCH/DELETE route, as a logged-in admin with no token: 400 (JSON for /api/)."""
    client, _ = raw_login(world.app)
    client.set_cookie(f"party_{world.code}", world.guest_token)
    checked = 0
    for rule in world.app.url_map.iter_rules():
        for method in sorted(rule.methods & {"POST", "PUT", "PATCH", "DELETE"}):
            url = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: {"code": world.code, "kind": "movies"}.get(m[1], "1"),
                         rule.rule)
            response = client.open(url, method=method, json={})
            assert response.status_code == 400, (method, url, response.status_code)
            if url.startswith("/api/"):
                assert response.json == {"error": "Bad Request", "message": CSRF_MESSAGE}, (method, url)
            else:
                assert CSRF_MESSAGE in response.get_data(as_text=True) and response.mimetype == "text/html"
            checked += 1
    assert checked >= 15  # 17 when written
    assert client.get("/api/auth/me").json["user"]["username"] == "alice"  # the refusals changed nothing


def test_a_wrong_or_other_sessions_token_is_refused_and_the_right_one_accepted(world):
    client, token = raw_login(world.app)
    _other, other_token = raw_login(world.app, "bob")
    url = f"/api/media-files/{world.ids['direct']}/position"
    for bad in ("nonsense", token[:-2] + "xx", other_token):
        response = client.put(url, json={"position_ms": 1000}, headers={"X-CSRFToken": bad})
        assert response.status_code == 400 and response.json["message"] == CSRF_MESSAGE, bad
    assert client.put(url, json={"position_ms": 1000}, headers={"X-CSRFToken": token}).status_code == 200
    assert client.delete(url, headers={"X-CSRF-Token": token}).status_code == 200  # Flask-WTF's other name


def test_json_login_needs_a_token_and_answers_the_new_sessions_token(world):
    client = raw_client(world.app)
    refused = client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
    assert refused.status_code == 400 and refused.json["message"] == CSRF_MESSAGE
    assert client.get("/api/auth/me").status_code == 401  # login CSRF: no session was made
    csrf = client.get("/api/auth/csrf")
    assert csrf.headers["Cache-Control"] == "no-store"
    login = client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD},
                        headers={"X-CSRFToken": csrf.json["csrf_token"]})
    assert login.status_code == 200
    new = login.json["csrf_token"]
    assert new != csrf.json["csrf_token"]  # the session (and its token) changes at login
    stale = client.post("/api/auth/logout", headers={"X-CSRFToken": csrf.json["csrf_token"]})
    assert stale.status_code == 400
    assert client.post("/api/auth/logout", headers={"X-CSRFToken": new}).json == {"ok": True}


def test_forms_carry_the_token_and_a_form_without_it_gets_the_html_error_page(world):
    client = raw_client(world.app)
    page = client.get("/login").get_data(as_text=True)
    meta = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)[1]
    field = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
    assert meta and field and 'src="/static/js/csrf.js"' in page
    refused = client.post("/login", data={"username": "alice", "password": PASSWORD})
    assert refused.status_code == 400 and refused.mimetype == "text/html"
    assert CSRF_MESSAGE in refused.get_data(as_text=True)
    logged_in = client.post("/login", data={"username": "alice", "password": PASSWORD, "csrf_token": field})
    assert logged_in.status_code == 302
    home = client.get("/").get_data(as_text=True)
    logout_token = re.search(r'name="csrf_token" value="([^"]+)"', home)[1]  # the log-out form's
    assert client.post("/logout").status_code == 400
    assert client.post("/logout", data={"csrf_token": logout_token}).status_code == 302
    assert client.get("/api/auth/me").status_code == 401


def test_a_bearer_token_request_needs_no_csrf_token(world):
    """A browser never adds Authorization to a cross-site request: a Bearer request cannot be forged."""
    client = raw_client(world.app)
    bearer = {"Authorization": f"Bearer {world.guest_token}"}
    response = client.post("/api/playback-errors", headers=bearer,
                           json={"kind": "network", "party": world.code, "message": "bearer"})
    assert response.status_code == 204
    no_token = client.post("/api/playback-errors", json={"kind": "network", "party": world.code})
    assert no_token.status_code == 400 and no_token.json["message"] == CSRF_MESSAGE


def test_every_state_changing_fetch_of_the_browser_code_sends_the_token():
    from tests.helpers import PROJECT

    found = 0
    for path in sorted((PROJECT / "static" / "js").glob("*.js")):
        text = path.read_text()
        for call in re.finditer(r"\b(csrfFetch|fetch)\(([^;]*?)\}\)", text, re.S):
            if re.search(r"method:\s*[^,]*\"(POST|PUT|PATCH|DELETE)\"", call[2]):
                assert call[1] == "csrfFetch", f"{path.name}: {call[0][:80]}"
                found += 1
    assert found >= 8  # the pattern still finds the calls (8 when written)


# --- rate limits --------------------------------------------------------------------------------

@pytest.fixture
def limited(tmp_path, redis_db):
    app = create_app(app_config(tmp_path, LOGIN_LIMIT_PER_IP=4, LOGIN_LIMIT_PER_ACCOUNT=3,
                                PARTY_JOIN_LIMIT_PER_IP=3, PARTY_CREATE_LIMIT_PER_USER=2))
    with app.app_context():
        create_user("alice", PASSWORD, is_admin=True)
        create_user("bob", PASSWORD)
    return app


def login(client, username, password=PASSWORD, address="10.0.0.1"):
    return client.post("/api/auth/login", json={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def test_failed_logins_are_limited_per_account_with_retry_after(limited):
    client = limited.test_client()
    for i in range(3):
        assert login(client, "alice", "wrong", f"10.0.0.{i}").status_code == 401
    refused = login(client, "Alice", "wrong", "10.0.0.9")  # another address, the name in another case
    assert refused.status_code == 429
    assert refused.json["error"] == "Too Many Requests" and "try again in" in refused.json["message"]
    assert 1 <= int(refused.headers["Retry-After"]) <= 60 and refused.json["retry_after_s"] > 0
    assert login(client, "alice", PASSWORD, "10.0.0.9").status_code == 429  # even the right password, for now
    assert login(client, "bob", PASSWORD, "10.0.0.9").status_code == 200  # another account is not affected


def test_failed_logins_are_limited_per_address_and_successes_do_not_count(limited):
    client = limited.test_client()
    for _ in range(10):
        assert login(client, "alice", address="10.0.0.1").status_code == 200  # successes are free
    for name in ("a", "b", "c", "d"):
        assert login(client, name, "wrong", "10.0.0.2").status_code == 401
    assert login(client, "alice", address="10.0.0.2").status_code == 429
    assert login(client, "alice", address="10.0.0.3").status_code == 200


def test_the_login_form_answers_429_with_its_page(limited):
    client = limited.test_client()
    for _ in range(3):
        assert client.post("/login", data={"username": "bob", "password": "x"}).status_code == 401
    page = client.post("/login", data={"username": "bob", "password": PASSWORD})
    assert page.status_code == 429 and page.mimetype == "text/html" and page.headers["Retry-After"]
    assert "Too many failed logins" in page.get_data(as_text=True)


def test_guest_joins_are_limited_per_address_and_parties_per_user(limited):
    host = limited.test_client()
    login(host, "alice")
    with limited.app_context():
        from mediaserver.db import get_db
        from mediaserver.models import MediaFile
        db = get_db()
        db.add(MediaFile(root="/nowhere", path="a.mp4", size=1, mtime=0, status="ok"))
        db.commit()
    codes = [host.post("/api/parties", json={"media_file_id": 1}) for _ in range(3)]
    assert [r.status_code for r in codes] == [201, 201, 429] and codes[2].headers["Retry-After"]
    code = codes[0].json["code"]
    guest = limited.test_client()
    joins = [guest.post(f"/api/parties/{code}/join", json={"name": f"G{i}"},
                        environ_base={"REMOTE_ADDR": "10.0.0.5"}) for i in range(4)]
    assert [r.status_code for r in joins] == [200, 200, 200, 429]
    assert joins[3].json["message"].startswith("too many party joins")
    other = guest.post(f"/api/parties/{code}/join", json={"name": "H"}, environ_base={"REMOTE_ADDR": "10.0.0.6"})
    assert other.status_code == 200


def test_limits_are_shared_through_redis_and_concurrent_attempts_cannot_pass_them(limited, tmp_path):
    """Two app instances (two processes in production) count together; a burst of parallel failures
    takes at most the limit's slots."""
    from concurrent.futures import ThreadPoolExecutor

    twin = create_app(app_config(tmp_path / "twin", DATABASE_URL=limited.config["DATABASE_URL"],
                                 RATE_LIMIT_PREFIX=limited.config["RATE_LIMIT_PREFIX"],
                                 LOGIN_LIMIT_PER_IP=4, LOGIN_LIMIT_PER_ACCOUNT=3))

    def attempt(i):
        app = (limited, twin)[i % 2]
        return login(app.test_client(), "alice", "wrong", "10.0.0.7").status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(attempt, range(12)))
    assert statuses.count(401) == 3 and statuses.count(429) == 9


def test_without_redis_logins_still_work(tmp_path, redis_db):
    app = create_app(app_config(tmp_path, REDIS_URL="redis://127.0.0.1:1/0"))
    with app.app_context():
        create_user("alice", PASSWORD)
    assert login(app.test_client(), "alice").status_code == 200


# --- headers and cookies ------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/login", "/api/auth/csrf", "/api/auth/me", "/static/js/csrf.js", "/nowhere",
                                  "/hls/x"])
def test_security_headers_on_every_response(world, path):
    response = world.app.test_client().get(path)
    csp = response.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'" and "unsafe-inline" not in directives["script-src"]
    assert directives["default-src"] == "'self'" and directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'" and directives["media-src"] == "'self' blob:"
    assert directives["img-src"] == "'self' data:"
    assert directives["connect-src"] == "'self' ws://localhost wss://localhost"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "camera=()" in response.headers["Permissions-Policy"]


def _carrying_a_token(world, name):
    """(response, the credential its body carries) of the answers that hand out a stream or party token."""
    if name == "playback":
        response = world.client(VIEWER).get(f"/api/media-files/{world.ids['direct']}/playback")
        return response, response.json["url"].split("/")[-2]
    if name == "party playback":
        response = world.client(GUEST).get(f"/api/parties/{world.code}/playback")
        return response, response.json["url"].split("/")[-2]
    if name == "party create":
        response = world.login("alice").post("/api/parties", json={"media_file_id": world.ids["direct"]})
        return response, response.json["code"]
    if name == "party join":
        response = world.app.test_client().post(f"/api/parties/{world.code}/join", json={"name": "Kim"})
        return response, response.json["token"]
    response = world.client(GUEST).get(f"/p/{world.code}")  # the party page of a guest
    return response, world.guest_token


@pytest.mark.parametrize("name", ["playback", "party playback", "party create", "party join", "party page"])
def test_answers_that_carry_a_token_are_never_stored(world, name):
    """A cache (the browser's, a proxy's) must not keep a token past its use: `Cache-Control: no-store`."""
    response, credential = _carrying_a_token(world, name)
    assert response.status_code in (200, 201) and credential in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    if name == "party page":
        assert f'data-join-token="{world.guest_token}"' in response.get_data(as_text=True)


def test_a_huge_body_is_refused_with_413_json(world):
    response = world.client(ADMIN).post("/api/auth/login", data=b"{" + b" " * (2 * 1024 * 1024),
                                        content_type="application/json")
    assert response.status_code == 413 and response.json["message"]


def test_no_template_has_inline_script_or_event_handlers():
    from tests.helpers import PROJECT

    for path in (PROJECT / "mediaserver" / "templates").glob("*.html"):
        text = path.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), path.name
        assert not re.search(r"\son[a-z]+\s*=", text), path.name
        assert "javascript:" not in text, path.name


def test_cookies_are_httponly_lax_and_secure_when_configured(tmp_path, redis_db):
    for secure in (False, True):
        app = create_app(app_config(tmp_path / str(secure), SECURE_COOKIES=secure))
        with app.app_context():
            create_user("alice", PASSWORD, is_admin=True)
            from mediaserver.db import get_db
            from mediaserver.models import MediaFile
            get_db().add(MediaFile(root="/nowhere", path="a.mp4", size=1, mtime=0, status="ok"))
            get_db().commit()
        client = app.test_client()
        response = client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
        session_cookie = next(v for v in response.headers.getlist("Set-Cookie") if v.startswith("session="))
        assert "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie
        assert ("Secure" in session_cookie) is secure
        code = client.post("/api/parties", json={"media_file_id": 1}).json["code"]
        joined = app.test_client().post(f"/api/parties/{code}/join", json={"name": "Sam"})
        party_cookie = next(v for v in joined.headers.getlist("Set-Cookie") if v.startswith(f"party_{code}="))
        assert "HttpOnly" in party_cookie and "SameSite=Lax" in party_cookie
        assert ("Secure" in party_cookie) is secure


def test_over_https_a_write_also_needs_a_same_site_referer_and_gets_hsts(tmp_path, redis_db):
    """Flask-WTF's strict check behind TLS: a token alone is not enough without a same-origin Referer."""
    app = create_app(app_config(tmp_path, SECURE_COOKIES=True))
    with app.app_context():
        create_user("alice", PASSWORD)
    client = raw_client(app)
    https = {"base_url": "https://media.example.org"}
    token = client.get("/api/auth/csrf", **https).json["csrf_token"]
    body = {"json": {"username": "alice", "password": PASSWORD}}
    refused = client.post("/api/auth/login", headers={"X-CSRFToken": token}, **body, **https)
    assert refused.status_code == 400 and refused.json["message"] == CSRF_MESSAGE
    cross = client.post("/api/auth/login", headers={"X-CSRFToken": token, "Referer": "https://evil.example/"},
                        **body, **https)
    assert cross.status_code == 400
    ok = client.post("/api/auth/login", headers={"X-CSRFToken": token, "Referer": "https://media.example.org/login"},
                     **body, **https)
    assert ok.status_code == 200 and ok.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in app.test_client().get("/login").headers  # plain http: none


def test_the_secure_cookies_variable_is_read_from_the_environment(monkeypatch, tmp_path):
    from mediaserver import config
    from mediaserver.exceptions import ConfigError

    monkeypatch.setenv("MEDIASERVER_SECURE_COOKIES", "1")
    monkeypatch.setenv("MEDIASERVER_LOGIN_LIMIT_PER_IP", "7")
    settings = config.from_environment(str(tmp_path))
    assert settings["SECURE_COOKIES"] is True and settings["LOGIN_LIMIT_PER_IP"] == 7
    monkeypatch.setenv("MEDIASERVER_PARTY_JOIN_LIMIT_PER_IP", "0")
    with pytest.raises(ConfigError, match="MEDIASERVER_PARTY_JOIN_LIMIT_PER_IP"):
        config.from_environment(str(tmp_path))


def test_redis_keys_of_the_limits_expire(limited):
    client = limited.test_client()
    login(client, "alice", "wrong")
    keys = Redis.from_url(limited.config["REDIS_URL"]).keys(limited.config["RATE_LIMIT_PREFIX"] + "*")
    assert len(keys) == 2
    assert all(0 < Redis.from_url(limited.config["REDIS_URL"]).ttl(k) <= 61 for k in keys)
