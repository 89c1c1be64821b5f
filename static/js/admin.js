// Settings page: start a library scan and follow its progress (polls /api/admin/scans/<id>).
import { csrfFetch } from "./csrf.js";

const box = document.getElementById("scan");
const bar = document.getElementById("scan-progress");
const status = document.getElementById("scan-status");
const list = document.getElementById("scan-messages");
const button = document.getElementById("scan-now");
const POLL_MS = 1000;

function show(run) {
  if (!run) { status.textContent = "No scan started here yet (flask scan and make run scan at start)."; return; }
  const active = run.status === "queued" || run.status === "running";
  button.disabled = active;
  bar.hidden = !active;
  bar.max = Math.max(1, run.total);
  bar.value = run.done;
  status.textContent = run.status === "running" ? "Scanning: " + run.done + " of " + (run.total || "?") + " files"
    : run.status === "queued" ? "Waiting for a worker (python worker.py)…"
    : run.status === "failed" ? "Scan failed: " + (run.error || "unknown reason")
    : "Last scan: " + run.summary;
  list.replaceChildren(...(run.messages || []).map((m) => { const li = document.createElement("li"); li.textContent = m; return li; }));
  if (active) setTimeout(() => poll(run.id), POLL_MS);
}

async function poll(id) {
  const r = await fetch("/api/admin/scans/" + id, { credentials: "same-origin" });
  if (r.ok) show(await r.json());
}

button.addEventListener("click", async () => {
  button.disabled = true;
  const r = await csrfFetch("/api/admin/scans", { method: "POST", credentials: "same-origin" });
  const body = await r.json().catch(() => ({}));
  if (!r.ok) { status.textContent = body.message || "HTTP " + r.status; button.disabled = false; return; }
  poll(body.scan_id);
});
show(JSON.parse(box.dataset.latest || "null"));
