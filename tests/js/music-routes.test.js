// The music pages' URLs (static/js/music-routes.js), with `node --test` (make test).
import assert from "node:assert/strict";
import { test } from "node:test";

import { albumUrl, artistUrl, isMusicLink, parseRoute, playlistUrl, searchUrl } from "../../static/js/music-routes.js";

test("each music URL names its view, with its id, search and track to play", () => {
  assert.equal(parseRoute("/music").view, "albums");
  assert.equal(parseRoute("/music/").view, "albums");
  assert.equal(parseRoute("/music", "?sort=year").sort, "year");
  assert.equal(parseRoute("/music/artists").view, "artists");
  assert.deepEqual(parseRoute("/music/albums/12", "?play=5"), { view: "album", id: 12, q: "", play: 5, sort: null });
  assert.equal(parseRoute("/music/albums/12", "?play=x").play, null);
  assert.deepEqual(parseRoute("/music/artists/3"), { view: "artist", id: 3, q: "", play: null, sort: null });
  assert.equal(parseRoute("/music/search", "?q=%20bj%C3%B6rk%20").q, "björk");
  assert.equal(parseRoute("/music/playlists").view, "playlists");
  assert.deepEqual(parseRoute(playlistUrl(7)), { view: "playlist", id: 7, q: "", play: null, sort: null });
});

test("other paths are no music page", () => {
  for (const path of ["/", "/movies", "/musical", "/music/albums/", "/music/albums/x", "/music/tracks/1"]) {
    assert.equal(parseRoute(path), null, path);
  }
});

test("only same-origin music links stay in the page", () => {
  const base = "http://127.0.0.1:5000/music";
  assert.equal(isMusicLink("/music/albums/1", base), true);
  assert.equal(isMusicLink(artistUrl(2), base), true);
  assert.equal(isMusicLink(searchUrl("a b&c"), base), true);
  assert.equal(isMusicLink("/files", base), false);
  assert.equal(isMusicLink("http://evil.example/music", base), false);
  assert.equal(isMusicLink("http://[bad", base), false);
  assert.equal(parseRoute("/music/search", new URL(searchUrl("a b&c"), base).search).q, "a b&c");
  assert.equal(albumUrl(7), "/music/albums/7");
});
