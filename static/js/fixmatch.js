// Admin "fix match" on a movie or show page: search TMDB, pick a candidate or type an id.
import { csrfFetch } from "./csrf.js";

function init() {
  const box = document.querySelector(".fix-match");
  if (!box) return;
  const status = box.querySelector(".fix-status");
  const list = box.querySelector(".candidates");

  async function apply(tmdbId) {
    status.textContent = "Matching…";
    const r = await csrfFetch("/api/library/" + box.dataset.kind + "/" + box.dataset.id + "/match", {
      method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ tmdb_id: Number(tmdbId) }),
    });
    const body = await r.json().catch(() => ({}));
    if (!r.ok) { status.textContent = body.message || "HTTP " + r.status; return; }
    location.href = "/" + box.dataset.kind + "/" + body.id;
  }

  box.querySelector(".search-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const data = new FormData(e.target);
    const kind = box.dataset.kind === "movies" ? "movie" : "tv";
    const params = new URLSearchParams({ kind, q: data.get("q") });
    if (data.get("year")) params.set("year", data.get("year"));
    status.textContent = "Searching…";
    const r = await fetch("/api/tmdb/search?" + params, { credentials: "same-origin" });
    const body = await r.json().catch(() => ({}));
    if (!r.ok) { status.textContent = body.message || "HTTP " + r.status; return; }
    status.textContent = body.candidates.length ? "" : "No result.";
    list.replaceChildren(...body.candidates.map((c) => {
      const li = document.createElement("li");
      const b = document.createElement("button");
      b.type = "button"; b.className = "link pick"; b.dataset.tmdb = c.tmdb_id;
      b.textContent = c.title + " (" + (c.year || "?") + ")";
      const s = document.createElement("span"); s.className = "muted small"; s.textContent = " score " + c.score;
      li.append(b, s);
      return li;
    }));
  });
  box.querySelector(".id-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const id = new FormData(e.target).get("tmdb_id");
    if (/^\d+$/.test(id)) apply(id); else status.textContent = "A TMDB id is a number.";
  });
  list.addEventListener("click", (e) => { const b = e.target.closest("button.pick"); if (b) apply(b.dataset.tmdb); });
}

init();
