// The user's playlists in the music pages (docs/API.md, "Playlists"): the list with a "New playlist"
// form, a playlist's page (play, shuffle, play next, add to queue, move up/down, remove, rename, delete,
// start a listening party), and the "Add to playlist" and "Listening party" tools of an album's page.
// Every change goes to /api/playlists (csrfFetch) and the view is drawn again from its answer.
import { csrfFetch } from "./csrf.js";
import { el, formatDuration } from "./dom.js";
import { albumUrl, playlistUrl } from "./music-routes.js";

const MAX_PARTY_QUEUE = 200;  // the party's queue bound (party/queue.py MAX_QUEUE)

async function call(method, path, body) {
  const response = await csrfFetch(path, {
    method, headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 204) return null;
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(answer.message || "HTTP " + response.status);
  return answer;
}

function button(text, label, onClick, cls = "secondary") {
  const b = el("button", { type: "button", class: cls, "aria-label": label }, text);
  b.addEventListener("click", onClick);
  return b;
}

function status() { return el("p", { class: "muted", role: "status", "aria-live": "polite" }); }

// Start a listening party on `tracks` (the first plays, the next ones are queued) and open its page.
export async function startParty(tracks, say) {
  if (!tracks.length) return;
  try {
    const party = await call("POST", "/api/parties", {
      media_file_id: tracks[0].media_file_id,
      queue: tracks.slice(1, MAX_PARTY_QUEUE + 1).map((t) => t.media_file_id),
    });
    location.href = party.invite_url;
  } catch (e) {
    say("Could not start the party: " + e.message);
  }
}

// An album page's tools: add its tracks to a playlist (a new one or one of the user's), start a party.
export function albumTools(tracks) {
  const note = status();
  const choice = el("select", { "aria-label": "Playlist" }, el("option", { value: "" }, "New playlist…"));
  call("GET", "/api/playlists").then((list) => {
    for (const p of list.items) choice.append(el("option", { value: String(p.id) }, p.name));
  }).catch(() => {});
  const add = button("Add to playlist", "Add the album to the chosen playlist", async () => {
    try {
      const ids = tracks.map((t) => t.id);
      if (choice.value) {
        const p = await call("POST", "/api/playlists/" + choice.value + "/items", { track_ids: ids });
        note.textContent = "Added to " + p.name + ".";
      } else {
        const name = (window.prompt("Name of the new playlist") || "").trim();
        if (!name) return;
        const p = await call("POST", "/api/playlists", { name, track_ids: ids });
        choice.append(el("option", { value: String(p.id), selected: "" }, p.name));
        note.textContent = "Made " + p.name + ".";
      }
    } catch (e) {
      note.textContent = e.message;
    }
  });
  const party = button("Listening party", "Start a listening party with this album",
                       () => startParty(tracks, (t) => { note.textContent = t; }));
  return el("div", { class: "playlist-tools" }, choice, " ", add, " ", party, note);
}

// The user's playlists, most recently changed first, and a form to make one.
export async function playlists(route, actions, box, heading) {
  const list = await call("GET", "/api/playlists");
  const note = status();
  const name = el("input", { name: "name", maxlength: "200", required: "", "aria-label": "New playlist name",
                             placeholder: "New playlist" });
  const form = el("form", { class: "inline-form" }, name, " ", el("button", { type: "submit" }, "Create"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const p = await call("POST", "/api/playlists", { name: name.value });
      actions.navigate(playlistUrl(p.id));
    } catch (err) {
      note.textContent = err.message;
    }
  });
  const rows = list.items.map((p) => el("li", { "data-playlist-id": String(p.id) },
    el("a", { href: playlistUrl(p.id) }, p.name), " ",
    el("span", { class: "muted small" }, p.track_count + (p.track_count === 1 ? " track" : " tracks") + " · "
       + formatDuration(p.duration_ms))));
  box.replaceChildren(heading("Playlists"), form, note,
    rows.length ? el("ul", { class: "playlists" }, ...rows) : el("p", { class: "muted" }, "No playlists yet."));
  return { title: "Playlists" };
}

// One playlist: its entries with their tools; every change draws the view again from the answer.
export async function playlist(route, actions, box, heading) {
  const note = status();
  const path = "/api/playlists/" + route.id;
  const draw = (p) => {
    const tracks = p.items.map((item) => item.track);
    const change = (method, sub, body) => call(method, path + sub, body).then(draw).catch((e) => { note.textContent = e.message; });
    const rows = p.items.map((item, i) => {
      const t = item.track;
      const up = button("↑", "Move up: " + t.title, () => change("PATCH", "/items/" + item.id, { index: i - 1 }), "small-button secondary");
      const down = button("↓", "Move down: " + t.title, () => change("PATCH", "/items/" + item.id, { index: i + 1 }), "small-button secondary");
      up.disabled = i === 0;
      down.disabled = i === p.items.length - 1;
      return el("tr", { "data-item-id": String(item.id) },
        el("td", { class: "t-title" }, el("span", { class: "t-name" }, t.title),
           el("span", { class: "muted small" }, " ", t.artists.map((a) => a.name).join(", "), " · ",
              el("a", { href: albumUrl(t.album_id) }, t.album))),
        el("td", { class: "t-time muted" }, formatDuration(t.duration_ms)),
        el("td", { class: "actions" },
          button("▶", "Play " + t.title, () => actions.playTracks(tracks, i), "small-button"), " ", up, " ", down, " ",
          button("Remove", "Remove " + t.title, () => change("DELETE", "/items/" + item.id), "small-button secondary")));
    });
    const rename = button("Rename", "Rename the playlist", () => {
      const name = (window.prompt("New name", p.name) || "").trim();
      if (name) change("PATCH", "", { name });
    });
    const remove = button("Delete", "Delete the playlist", async () => {
      if (!window.confirm("Delete " + p.name + "? Its tracks stay in the library.")) return;
      try { await call("DELETE", path); actions.navigate("/music/playlists"); } catch (e) { note.textContent = e.message; }
    });
    const play = button("▶ Play", "Play the playlist", () => actions.playTracks(tracks, 0), "");
    const party = button("Listening party", "Start a listening party with this playlist",
                         () => startParty(tracks, (text) => { note.textContent = text; }));
    for (const b of [play, party]) b.disabled = tracks.length === 0;
    box.replaceChildren(heading(p.name),
      el("p", { class: "muted" }, p.track_count + (p.track_count === 1 ? " track" : " tracks") + " · " + formatDuration(p.duration_ms)),
      el("p", { class: "album-actions" }, play, " ",
         button("+ Queue", "Add the playlist to the queue", () => actions.addToQueue(tracks)), " ", party, " ", rename, " ", remove),
      note,
      tracks.length ? el("div", { class: "table-wrap" }, el("table", { class: "list tracks" }, el("tbody", {}, ...rows)))
        : el("p", { class: "muted" }, "This playlist is empty: add albums from their pages."));
    return { title: p.name, tracks };
  };
  return draw(await call("GET", path));
}
