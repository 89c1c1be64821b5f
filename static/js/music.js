// The music pages (templates/music.html): one page, its view chosen by the URL (music-routes.js) and
// rendered from the API (music-views.js), the player bar (music-bar.js) over the queue
// (music-queue.js) and the two <audio> elements (music-player.js), all of it a view of the user's
// playback session (music-session.js: every device the user is signed in on shows and controls it).
//
// Moving between music views never loads a page: a click on a link to a music URL (same origin, no
// modifier key, no target) and the search form push the new URL (History API) and render its view;
// Back and Forward (popstate) render theirs. So the player bar and its <audio> elements live on and
// keep playing. Any other link loads its page as usual (and the music stops).
// `?play=<track id>` on an album's URL starts the album at that track (where /watch sends a track).
// Test hook: window.mediaserverMusic = {queue, player, session}.
import { MusicBar } from "./music-bar.js";
import { MusicPlayer } from "./music-player.js";
import { MusicQueue } from "./music-queue.js";
import { MusicSession } from "./music-session.js";
import { isMusicLink, parseRoute, searchUrl } from "./music-routes.js";
import { render } from "./music-views.js";

const queue = new MusicQueue();
const player = new MusicPlayer([...document.querySelectorAll("#player-bar audio.music-audio")], queue);
const session = new MusicSession(player, queue);
const bar = new MusicBar(player, queue, session);
const viewBox = document.getElementById("music-view");
const searchForm = document.getElementById("music-search");
let shown = 0;  // the number of the latest render: an older one that finishes late is dropped

const actions = {
  playTracks(tracks, start = 0, { shuffle = false } = {}) {
    session.playTracks(tracks, start, shuffle);
    bar.showShuffle();
  },
  playNext(tracks) { session.change(() => queue.playNext(tracks)); },
  addToQueue(tracks) { session.change(() => queue.addToQueue(tracks)); },
  navigate,
};

function markTab(view) {
  document.querySelectorAll(".music .tabs a").forEach((a) => {
    if (a.dataset.tab === view) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  });
}

// Render the view of the page's URL; `focus` moves the keyboard to its heading (after a navigation).
async function show(focus) {
  const route = parseRoute(location.pathname, location.search);
  if (!route) { location.reload(); return; }
  const number = ++shown;
  markTab(route.view);
  const result = await render(route, actions);
  if (number !== shown) return;
  viewBox.replaceChildren(result.node);
  document.title = result.title;
  if (focus) { const h = viewBox.querySelector("h1"); if (h) h.focus({ preventScroll: true }); window.scrollTo(0, 0); }
  if (route.view === "album" && route.play && result.tracks) {
    const start = result.tracks.findIndex((t) => t.id === route.play);
    if (start >= 0) actions.playTracks(result.tracks, start);
    history.replaceState(history.state, "", location.pathname);  // a reload shows the album, no restart
  }
}

function navigate(href, { replace = false } = {}) {
  const url = new URL(href, location.href);
  if (url.pathname + url.search === location.pathname + location.search) return;
  if (replace) history.replaceState({}, "", url);
  else history.pushState({}, "", url);
  show(true);
}

document.addEventListener("click", (event) => {
  const link = event.target.closest("a[href]");
  if (!link || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey
      || event.altKey || (link.target && link.target !== "_self") || link.hasAttribute("download")) return;
  if (!isMusicLink(link.href, location.href)) return;
  event.preventDefault();
  navigate(link.href);
});

let typing = null;
searchForm.addEventListener("submit", (event) => {
  event.preventDefault();
  clearTimeout(typing);
  const q = new FormData(searchForm).get("q").trim();
  if (q) navigate(searchUrl(q));
});
searchForm.addEventListener("input", () => {
  clearTimeout(typing);
  typing = setTimeout(() => {
    const q = new FormData(searchForm).get("q").trim();
    // typing refines the search in place: one history entry for the whole word
    if (q) navigate(searchUrl(q), { replace: location.pathname === "/music/search" });
  }, 300);
});

window.addEventListener("popstate", () => show(true));
window.mediaserverMusic = { queue, player, session };
show(false);
