// The music pages' URLs (DOM-free; tests/js/music-routes.test.js). One page serves them all
// (templates/music.html); music.js renders the view of the URL and moves between them with the History
// API, so the player bar is never reloaded. The server answers the same URLs (web/music_pages.py).

const ROUTES = [
  [/^\/music\/?$/, "albums"],
  [/^\/music\/artists\/?$/, "artists"],
  [/^\/music\/albums\/(\d+)\/?$/, "album"],
  [/^\/music\/artists\/(\d+)\/?$/, "artist"],
  [/^\/music\/search\/?$/, "search"],
  [/^\/music\/playlists\/?$/, "playlists"],
  [/^\/music\/playlists\/(\d+)\/?$/, "playlist"],
];

// `{view, id, q, play, sort}` for a path and query string, or null when it is no music page.
// `id`: the album's or artist's id; `q`: the search; `play`: a track id to start (album view);
// `sort`: the albums' order.
export function parseRoute(pathname, search = "") {
  const params = new URLSearchParams(search);
  for (const [pattern, view] of ROUTES) {
    const match = String(pathname).match(pattern);
    if (!match) continue;
    const play = Number(params.get("play"));
    return {
      view, id: match[1] ? Number(match[1]) : null, q: (params.get("q") || "").trim(),
      play: Number.isInteger(play) && play > 0 ? play : null, sort: params.get("sort") || null,
    };
  }
  return null;
}

// Whether a click on a link to `href` stays in the music pages (rendered here, without a page load):
// same origin, a music path. `base` is the page's own URL.
export function isMusicLink(href, base) {
  let url;
  try { url = new URL(href, base); } catch { return false; }
  return url.origin === new URL(base).origin && parseRoute(url.pathname, url.search) !== null;
}

export const searchUrl = (q) => "/music/search?q=" + encodeURIComponent(q);
export const albumUrl = (id) => "/music/albums/" + id;
export const artistUrl = (id) => "/music/artists/" + id;
export const playlistUrl = (id) => "/music/playlists/" + id;
