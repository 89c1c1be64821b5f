// Poster grid for movies or shows: reads the JSON API with the filter form's values.
const form = document.getElementById("filters");
const grid = document.getElementById("grid");
const tab = form.dataset.tab;
const PER_PAGE = 60;
let page = 1;

function card(item) {
  const a = document.createElement("a");
  a.className = "card-poster";
  a.href = "/" + tab + "/" + item.id;
  const pic = document.createElement(item.poster_url ? "img" : "div");
  pic.className = "poster";
  if (item.poster_url) { pic.src = item.poster_url; pic.alt = ""; pic.loading = "lazy"; }
  else pic.textContent = item.title.slice(0, 1);
  const title = document.createElement("span");
  title.className = "card-title";
  title.textContent = item.title;
  const meta = document.createElement("span");
  meta.className = "muted small";
  meta.textContent = [item.year, item.tmdb_id ? null : "unmatched"].filter(Boolean).join(" · ");
  a.append(pic, title, meta);
  return a;
}

let timer = null;
async function load() {
  const params = new URLSearchParams(new FormData(form));
  [...params.keys()].forEach((k) => { if (!params.get(k)) params.delete(k); });
  params.set("page", page);
  params.set("per_page", PER_PAGE);
  const r = await fetch("/api/library/" + tab + "?" + params, { credentials: "same-origin" });
  if (r.status === 401) { location.href = "/login"; return; }
  const data = await r.json();
  if (!r.ok) { document.getElementById("empty").textContent = data.message; document.getElementById("empty").hidden = false; return; }
  grid.replaceChildren(...data.items.map(card));
  document.getElementById("empty").hidden = data.total > 0;
  const pages = Math.max(1, Math.ceil(data.total / data.per_page));
  document.getElementById("pageinfo").textContent = "page " + page + " of " + pages + " (" + data.total + ")";
  document.getElementById("prev").disabled = page <= 1;
  document.getElementById("next").disabled = page >= pages;
}

form.addEventListener("input", () => { clearTimeout(timer); page = 1; timer = setTimeout(load, 250); });
form.addEventListener("submit", (e) => { e.preventDefault(); page = 1; load(); });
document.getElementById("prev").addEventListener("click", () => { page -= 1; load(); });
document.getElementById("next").addEventListener("click", () => { page += 1; load(); });
load();
