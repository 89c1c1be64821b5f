// The music pages' views, rendered into #music-view from the JSON API (docs/API.md, "Music" and
// "Search"): the albums' grid (covers), the artists, an album with its track list, an artist's albums,
// the music search, the user's playlists (music-playlists.js). `render(route, actions)` returns `{node, title, tracks}` (the album's tracks, for
// `?play=`); `actions` are the queue's: playTracks(tracks, start, {shuffle}), playNext(tracks),
// addToQueue(tracks), and navigate(url) (the router's).
import { el, formatDuration } from "./dom.js";
import { albumTools, playlist, playlists } from "./music-playlists.js";
import { albumUrl, artistUrl } from "./music-routes.js";

const PER_PAGE = 60;

class NotFound extends Error {}

async function api(path) {
  const response = await fetch(path, { credentials: "same-origin" });
  if (response.status === 401) { location.href = "/login?next=" + encodeURIComponent(location.pathname); throw new Error("signed out"); }
  const body = await response.json().catch(() => ({}));
  if (response.status === 404) throw new NotFound(body.message || "not found");
  if (!response.ok) throw new Error(body.message || "HTTP " + response.status);
  return body;
}

function heading(text) { return el("h1", { tabindex: "-1" }, text); }

function cover(url, name, cls) {
  if (url) return el("img", { class: cls, src: url, alt: "", loading: "lazy" });
  return el("div", { class: cls + " no-cover", "aria-hidden": "true" }, (name || "?").slice(0, 1));
}

function albumCard(album) {
  return el("a", { class: "card-album", href: albumUrl(album.id) }, cover(album.cover_url, album.title, "cover"),
            el("span", { class: "card-title" }, album.title),
            el("span", { class: "muted small" }, [album.album_artist, album.year].filter(Boolean).join(" · ")));
}

function artistCard(artist) {
  const counts = [artist.album_count ? artist.album_count + (artist.album_count === 1 ? " album" : " albums") : null,
                  artist.track_count + (artist.track_count === 1 ? " track" : " tracks")];
  return el("a", { class: "card-album", href: artistUrl(artist.id) }, cover(artist.cover_url, artist.name, "cover round"),
            el("span", { class: "card-title" }, artist.name), el("span", { class: "muted small" }, counts.filter(Boolean).join(" · ")));
}

function grid(items, card) { return el("div", { class: "grid album-grid" }, ...items.map(card)); }

function button(text, label, onClick, cls = "") {
  const b = el("button", { type: "button", class: cls, "aria-label": label }, text);
  b.addEventListener("click", onClick);
  return b;
}

function credits(artists) {
  const out = el("span", { class: "credits" });
  artists.forEach((a, i) => { if (i) out.append(", "); out.append(el("a", { href: artistUrl(a.id) }, a.name)); });
  return out;
}

// A table of tracks with Play (the list from it), Play next and Add to queue on every row.
function trackTable(tracks, actions, { showAlbum = false, albumArtistId = null, discs = 1 } = {}) {
  const body = el("tbody");
  let disc = null;
  tracks.forEach((t, i) => {
    if (discs > 1 && (t.disc_number || 1) !== disc) {
      disc = t.disc_number || 1;
      body.append(el("tr", { class: "disc" }, el("th", { colspan: "4", scope: "rowgroup" }, "Disc " + disc)));
    }
    const others = t.artists.length !== 1 || t.artists[0].id !== albumArtistId;
    const title = el("td", { class: "t-title" }, el("span", { class: "t-name" }, t.title));
    if (others || showAlbum) title.append(el("span", { class: "muted small" }, " ", others ? credits(t.artists) : "",
      showAlbum ? el("span", {}, others ? " · " : "", el("a", { href: albumUrl(t.album_id) }, t.album)) : ""));
    body.append(el("tr", { "data-track-id": t.id },
      el("td", { class: "t-num muted" }, String(t.track_number ?? "")), title,
      el("td", { class: "t-time muted" }, formatDuration(t.duration_ms)),
      el("td", { class: "actions" },
        button("▶", "Play " + t.title, () => actions.playTracks(tracks, i), "small-button"), " ",
        button("Play next", "Play next: " + t.title, () => actions.playNext([t]), "small-button secondary"), " ",
        button("+ Queue", "Add to queue: " + t.title, () => actions.addToQueue([t]), "small-button secondary"))));
  });
  return el("div", { class: "table-wrap" }, el("table", { class: "list tracks" },
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "#"), el("th", { scope: "col" }, "Title"),
                       el("th", { scope: "col" }, "Time"), el("th", { scope: "col" }, el("span", { class: "visually-hidden" }, "Actions")))),
    body));
}

// A paged list (albums or artists): the first page, then "Show more".
async function pagedGrid(container, path, card, empty) {
  const cards = el("div", { class: "grid album-grid" });
  const more = el("button", { type: "button", class: "secondary more" }, "Show more");
  const note = el("p", { class: "muted", hidden: "" }, empty);
  container.append(cards, note, more);
  let page = 0;
  const next = async () => {
    page += 1;
    const data = await api(path + (path.includes("?") ? "&" : "?") + "page=" + page + "&per_page=" + PER_PAGE);
    cards.append(...data.items.map(card));
    note.hidden = data.total > 0;
    more.hidden = page * PER_PAGE >= data.total;
  };
  more.addEventListener("click", () => next().catch((e) => { note.textContent = e.message; note.hidden = false; }));
  await next();
}

const SORTS = [["title", "Title"], ["artist", "Artist"], ["year", "Year"], ["added", "Recently added"]];

async function albums(route, actions, box) {
  const sort = SORTS.some(([k]) => k === route.sort) ? route.sort : "title";
  const select = el("select", { "aria-label": "Sort albums" }, ...SORTS.map(([k, text]) =>
    el("option", { value: k, selected: k === sort ? "" : null }, text)));
  select.addEventListener("change", () => actions.navigate("/music" + (select.value === "title" ? "" : "?sort=" + select.value)));
  box.replaceChildren(el("div", { class: "view-head" }, heading("Albums"), el("label", { class: "inline-label" }, "Sort ", select)));
  const order = sort === "added" || sort === "year" ? "&order=desc" : "";
  await pagedGrid(box, "/api/library/albums?sort=" + sort + order, albumCard, "No albums yet: scan a music folder.");
  return { title: "Albums" };
}

async function artists(route, actions, box) {
  box.replaceChildren(heading("Artists"));
  await pagedGrid(box, "/api/library/artists?sort=name", artistCard, "No artists yet.");
  return { title: "Artists" };
}

async function album(route, actions, box) {
  const a = await api("/api/library/albums/" + route.id);
  const tracks = a.tracks;
  const facts = [a.year, a.track_count + (a.track_count === 1 ? " track" : " tracks"), formatDuration(a.duration_ms)];
  box.replaceChildren(
    el("div", { class: "album-head" }, cover(a.cover_url, a.title, "cover big"),
      el("div", {}, heading(a.title),
        el("p", {}, el("a", { href: artistUrl(a.album_artist_id) }, a.album_artist)),
        el("p", { class: "muted" }, facts.filter(Boolean).join(" · ")),
        el("p", { class: "album-actions" },
          button("▶ Play", "Play album", () => actions.playTracks(tracks, 0)), " ",
          button("Shuffle", "Shuffle album", () => actions.playTracks(tracks, Math.floor(Math.random() * tracks.length),
                                                                      { shuffle: true }), "secondary"), " ",
          button("Play next", "Play album next", () => actions.playNext(tracks), "secondary"), " ",
          button("+ Queue", "Add album to queue", () => actions.addToQueue(tracks), "secondary")),
        albumTools(tracks))),
    trackTable(tracks, actions, { albumArtistId: a.album_artist_id, discs: a.disc_count }));
  return { title: a.title, tracks };
}

async function artist(route, actions, box) {
  const a = await api("/api/library/artists/" + route.id);
  const parts = [el("div", { class: "album-head" }, cover(a.cover_url, a.name, "cover round"),
                    el("div", {}, heading(a.name), el("p", { class: "muted" }, a.track_count + " tracks")))];
  if (a.albums.length) parts.push(el("h2", {}, "Albums"), grid(a.albums, albumCard));
  if (a.appears_on.length) parts.push(el("h2", {}, "Appears on"), grid(a.appears_on, albumCard));
  box.replaceChildren(...parts);
  return { title: a.name };
}

async function search(route, actions, box) {
  const input = document.querySelector("#music-search input[name=q]");
  if (input && document.activeElement !== input) input.value = route.q;
  if (!/[\p{L}\p{N}]/u.test(route.q)) {
    box.replaceChildren(heading("Search music"), el("p", { class: "muted" }, "Type a part of a name: an artist, an album, a track."));
    return { title: "Search music" };
  }
  const found = await api("/api/search?q=" + encodeURIComponent(route.q) + "&limit=30");
  const parts = [heading("Results for “" + route.q + "”")];
  if (found.artists.length) parts.push(el("h2", {}, "Artists"), grid(found.artists, artistCard));
  if (found.albums.length) parts.push(el("h2", {}, "Albums"), grid(found.albums, albumCard));
  if (found.tracks.length) parts.push(el("h2", {}, "Tracks"), trackTable(found.tracks, actions, { showAlbum: true }));
  if (parts.length === 1) parts.push(el("p", { class: "muted" }, "No artist, album or track matches."));
  box.replaceChildren(...parts);
  return { title: "Search: " + route.q };
}

const VIEWS = {
  albums, artists, album, artist, search,
  playlists: (route, actions, box) => playlists(route, actions, box, heading),
  playlist: (route, actions, box) => playlist(route, actions, box, heading),
};

// Render `route` into a new element: `{node, title, tracks}` (the caller shows `node` if the route is
// still the page's by then).
export async function render(route, actions) {
  const box = el("div", { class: "music-view-body" });
  return { node: box, ...await renderInto(route, actions, box) };
}

async function renderInto(route, actions, box) {
  try {
    return await VIEWS[route.view](route, actions, box);
  } catch (e) {
    const text = e instanceof NotFound ? "Not found: " + e.message + "." : "Could not load this page: " + e.message;
    box.replaceChildren(heading(e instanceof NotFound ? "Not found" : "Error"), el("p", { class: "error" }, text));
    return { title: "Music" };
  }
}
