"""A live server (werkzeug, threaded) over the transcoded library, and Debian's Chromium via Playwright."""
import shutil
import threading

import pytest
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

from tests.app_fixtures import app, auth_client, client, ladder_app, redis_db, runner, titles_app, user  # noqa: F401

#: The browser tests' order: the player's first (they wait for every clip's ladder, and decode them all),
#: the ones that measure party sync in milliseconds last (make test runs them beside other passes,
#: which are done or nearly by then).
ORDER = ("test_player.py", "test_security_browser.py", "test_deploy.py", "test_party.py")


def pytest_collection_modifyitems(items):
    """Mark the browser tests `e2e` and order them by ORDER (a stable sort: within a module, and before
    them every other test of the session, as collected)."""
    for item in items:
        if "e2e" in item.path.parts:
            item.add_marker("e2e")

    def key(item):
        if "e2e" not in item.path.parts:
            return (0, 0)
        return (1, ORDER.index(item.path.name) if item.path.name in ORDER else len(ORDER))

    items.sort(key=key)


#: Debian's chromium; Playwright's own browser downloads are not used.
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--autoplay-policy=no-user-gesture-required"]


@pytest.fixture(scope="session")
def live_server(ladder_app):
    server = make_server("127.0.0.1", 0, ladder_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="session")
def signed_in_state(browser, live_server):
    """The cookies of alice signed in once (Playwright's storage state), for tests that start signed in."""
    from tests.helpers import PASSWORD

    context = browser.new_context()
    page = context.new_page()
    page.goto(live_server + "/login")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live_server + "/")
    state = context.storage_state()
    context.close()
    return state


@pytest.fixture
def signed_in_page(browser, signed_in_state):
    """A page of a new browser context already signed in as alice (the sign-in itself: test_player.py)."""
    context = browser.new_context(storage_state=signed_in_state)
    page = context.new_page()
    yield page
    context.close()
