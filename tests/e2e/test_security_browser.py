"""The security headers and CSRF tokens in a real browser: every page renders and runs its scripts
under the Content-Security-Policy without a single violation, and the browser code's POST, PUT and
DELETE requests (static/js/csrf.js) and forms pass the CSRF check.
"""
from __future__ import annotations

import pytest

from tests.helpers import PASSWORD, serving
from tests.integration.security_world import world_fixture

world = world_fixture("browser_security")


@pytest.fixture(scope="module")
def site(world):
    with serving(world.app) as url:
        world.url = url
        yield world


def watch(page) -> dict:
    """Record CSP violations (the page's own event) and every non-GET request's status."""
    seen = {"violations": [], "writes": []}
    page.add_init_script("document.addEventListener('securitypolicyviolation', e => "
                         "(window.__csp = window.__csp || []).push(e.violatedDirective + ' ' + e.blockedURI));")
    page.on("console", lambda m: seen["violations"].append(m.text)
            if "Content Security Policy" in m.text or "Refused to" in m.text else None)
    page.on("response", lambda r: seen["writes"].append((r.request.method, r.url, r.status))
            if r.request.method not in ("GET", "HEAD") else None)
    return seen


def violations(page, seen) -> list:
    return seen["violations"] + (page.evaluate("window.__csp || []") or [])


def test_pages_run_under_the_csp_and_their_writes_pass_the_csrf_check(site, browser):
    context = browser.new_context()
    page = context.new_page()
    seen = watch(page)
    try:
        page.goto(site.url + "/login")
        page.fill("input[name=username]", "alice")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")  # the form's hidden csrf_token
        page.wait_for_url(site.url + "/")
        ids = site.ids
        for path in ("/", "/shows", "/files", f"/movies/{ids['movie']}", f"/shows/{ids['show']}",
                     f"/episodes/{ids['episode']}", f"/media/{ids['direct']}", "/admin/transcodes",
                     f"/watch/{ids['hls']}", f"/p/{site.code}"):
            page.goto(site.url + path)
            page.wait_for_load_state("networkidle")
            assert not violations(page, seen), (path, violations(page, seen))
        page.goto(f"{site.url}/p/{site.code}")
        page.wait_for_function("() => window.partySync && window.partySync.stats().joined", timeout=15_000)
        # the direct-play title: it plays (media-src), and leaving saves the resume point (csrfFetch PUT)
        page.goto(f"{site.url}/watch/{ids['direct']}")
        page.wait_for_function("() => document.querySelector('video').currentTime > 1.2", timeout=20_000)
        page.goto(site.url + "/admin/settings")
        page.click("#scan-now")  # csrfFetch POST /api/admin/scans
        page.wait_for_function("() => document.getElementById('scan-status').textContent !== ''", timeout=10_000)
        page.click("form.inline button[type=submit]")  # log out: the header's form
        page.wait_for_url("**/login")
        assert not violations(page, seen), violations(page, seen)
        writes = {(method, url.split("?")[0].replace(site.url, "")): status for method, url, status in seen["writes"]}
        assert writes[("POST", "/login")] == 302 and writes[("POST", "/logout")] == 302
        assert writes[("POST", "/api/admin/scans")] == 202
        assert writes.get(("PUT", f"/api/media-files/{ids['direct']}/position"), 200) == 200
        assert all(status != 400 for status in writes.values()), writes  # no CSRF refusal anywhere
    finally:
        context.close()


def test_the_invite_page_joins_a_guest_under_the_csp(site, browser):
    context = browser.new_context()
    page = context.new_page()
    seen = watch(page)
    try:
        page.goto(f"{site.url}/p/{site.new_party()}")
        page.fill("#join-name", "Kim")
        page.click("#join-form [type=submit]")  # csrfFetch POST /api/parties/<code>/join
        page.wait_for_function("() => window.partySync && window.partySync.stats().joined", timeout=15_000)
        assert [s for m, u, s in seen["writes"] if u.endswith("/join")] == [200]
        assert not violations(page, seen), violations(page, seen)
    finally:
        context.close()


def test_the_headers_reach_the_browser(site, browser):
    context = browser.new_context()
    try:
        response = context.new_page().goto(site.url + "/login")
        headers = response.headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-frame-options"] == "DENY" and headers["referrer-policy"] == "same-origin"
    finally:
        context.close()
