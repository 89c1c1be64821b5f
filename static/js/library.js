// Library list and detail page: render from the JSON API, poll while jobs run, start transcodes.
import { csrfFetch } from "./csrf.js";
import { el, formatDuration } from "./dom.js";

const table = document.querySelector("#library tbody");
// Transcode buttons only for those who may queue one (admins, and users granted it): the server says so
const canTranscode = table !== null && table.closest("table").dataset.canTranscode === "yes";
let page = 1;
const PER_PAGE = 50;
const POLL_MS = 2000;

function videoFacts(item) {
  const v = item.streams.find((s) => s.type === "video" && !s.attached_pic);
  return v ? v.codec + " " + v.width + "×" + v.height : "–";
}

function audioFacts(item) {
  const a = item.streams.filter((s) => s.type === "audio");
  return a.length ? a.map((s) => s.codec + (s.language ? " " + s.language : "")).join(", ") : "–";
}

function transcodeCell(item) {
  if (item.status === "failed") return el("span", { class: "error", title: item.error }, "unreadable");
  const t = item.transcode;
  if (t.status === "queued" || t.status === "running") {
    return el("span", {}, el("progress", { max: "100", value: String(t.progress) }), " " + t.status + " " + Math.round(t.progress) + " %");
  }
  if (t.status === "failed") return el("span", { class: "error", title: t.error || "" }, "failed");
  return t.playable ? "ready" : "–";
}

async function transcode(id) {
  const r = await csrfFetch("/api/media-files/" + id + "/transcode", { method: "POST", credentials: "same-origin" });
  const body = await r.json().catch(() => ({}));
  if (!r.ok) alert(body.message || "HTTP " + r.status);
  if (table) load(); else location.reload();
}

function actions(item) {
  const cell = el("td", { class: "actions" });
  // A music track plays in the music player, directly or transcoded on demand: no ladder needed first.
  if (item.track && item.status === "ok") {
    cell.append(el("a", { class: "button", href: "/music/albums/" + item.track.album_id + "?play=" + item.track.id }, "▶ Play"));
  } else if (item.transcode.playable) {
    cell.append(el("a", { class: "button", href: "/watch/" + item.id }, "▶ Play"));
  }
  if (canTranscode && item.status === "ok" && !["queued", "running"].includes(item.transcode.status)) {
    const again = item.transcode.playable;
    const b = el("button", { type: "button", class: "transcode" + (again ? " secondary" : ""), "data-id": item.id },
                 again ? "Transcode again" : "Transcode");
    cell.append(" ", b);
  }
  return cell;
}

let timer = null;
async function load() {
  clearTimeout(timer);
  const r = await fetch("/api/library/media-files?page=" + page + "&per_page=" + PER_PAGE, { credentials: "same-origin" });
  if (r.status === 401) { location.href = "/login"; return; }
  const data = await r.json();
  table.replaceChildren(...data.items.map((item) => el("tr", { "data-id": item.id },
    el("td", {}, el("a", { href: "/media/" + item.id, class: "title" }, item.title), el("div", { class: "muted small" }, item.path)),
    el("td", {}, formatDuration(item.duration_ms)),
    el("td", {}, videoFacts(item)),
    el("td", {}, audioFacts(item)),
    el("td", { class: "tstatus" }, transcodeCell(item)),
    actions(item))));
  document.getElementById("empty").hidden = data.total > 0;
  const pages = Math.max(1, Math.ceil(data.total / data.per_page));
  document.getElementById("pageinfo").textContent = "page " + page + " of " + pages + " (" + data.total + " files)";
  document.getElementById("prev").disabled = page <= 1;
  document.getElementById("next").disabled = page >= pages;
  if (data.items.some((i) => ["queued", "running"].includes(i.transcode.status))) timer = setTimeout(load, POLL_MS);
}

document.addEventListener("click", (e) => {
  const b = e.target.closest("button.transcode");
  if (b) { b.disabled = true; transcode(b.dataset.id); }
});
if (table) {
  document.getElementById("prev").addEventListener("click", () => { page -= 1; load(); });
  document.getElementById("next").addEventListener("click", () => { page += 1; load(); });
  load();
} else {
  // Detail page: refresh while a job is running.
  const status = document.getElementById("tstatus");
  if (status && /^(queued|running)/.test(status.textContent.trim())) setTimeout(() => location.reload(), POLL_MS);
}
