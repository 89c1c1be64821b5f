"""Playlists in the music pages, in Chromium (issue 14): an album added to a new playlist from its page,
the playlist listed, reordered, an entry removed, played in the bar, renamed, a listening party started
from it (its page shows the first track), queued again into that party from its page, and deleted."""
from __future__ import annotations

from tests.e2e.test_music import album_id, music, music_server  # noqa: F401 (fixtures)


def rows(page):
    return page.eval_on_selector_all("table.tracks tr .t-name", "cells => cells.map(c => c.textContent)")


def test_a_playlist_is_made_from_an_album_edited_played_and_shared_as_a_party(music):  # noqa: F811
    page, base, _app = music
    answers = iter(["Evening", "Late evening"])
    page.on("dialog", lambda d: d.accept(next(answers)) if d.type == "prompt" else d.accept())
    page.goto(f"{base}/music/albums/{album_id(page, base, 'Queue Album')}")
    page.wait_for_selector("table.tracks")
    page.get_by_role("button", name="Add the album to the chosen playlist").click()
    page.wait_for_selector("text=Made Evening.")
    page.click(".music .tabs a[data-tab=playlists]")  # within the music pages: no page load
    page.wait_for_selector("ul.playlists li")
    assert "3 tracks" in page.text_content("ul.playlists li")
    page.click("ul.playlists a")
    page.wait_for_function("() => document.querySelectorAll('table.tracks tr').length === 3")
    assert rows(page) == ["Alpha", "Beta", "Gamma"]
    page.get_by_role("button", name="Move down: Alpha").click()
    page.wait_for_function("() => document.querySelector('table.tracks .t-name').textContent === 'Beta'")
    page.get_by_role("button", name="Remove Gamma").click()
    page.wait_for_function("() => document.querySelectorAll('table.tracks tr').length === 2")
    assert rows(page) == ["Beta", "Alpha"]
    page.get_by_role("button", name="Play the playlist").click()
    page.wait_for_function("() => document.getElementById('pb-title').textContent === 'Beta'")
    page.get_by_role("button", name="Rename the playlist").click()
    page.wait_for_selector("h1:text-is('Late evening')")
    # the same playlist over the API, as the page left it
    listed = page.context.request.get(f"{base}/api/playlists").json()["items"]
    assert [(p["name"], p["track_count"]) for p in listed] == [("Late evening", 2)]
    page.get_by_role("button", name="Start a listening party with this playlist").click()
    page.wait_for_url("**/p/*")
    page.wait_for_function("() => document.getElementById('now-track-title').textContent === 'Beta'", timeout=20_000)
    party_api = page.url.replace("/p/", "/api/parties/")
    assert [i["title"] for i in page.context.request.get(party_api).json()["queue"]["items"]] == ["Queue Band – Alpha"]
    page.fill("#title-search", "late")  # the host's playlists are offered with the titles
    page.get_by_role("button", name="Add the playlist Late evening to the queue").click()
    page.wait_for_function("() => document.querySelectorAll('#queue li[data-item-id]').length === 3")
    assert [i["title"] for i in page.context.request.get(party_api).json()["queue"]["items"]] == \
        ["Queue Band – Alpha", "Queue Band – Beta", "Queue Band – Alpha"]
    page.goto(f"{base}/music/playlists/{listed[0]['id']}")
    page.get_by_role("button", name="Delete the playlist").click()
    page.wait_for_selector("text=No playlists yet.")
