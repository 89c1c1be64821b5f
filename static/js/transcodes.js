// Admin queue view: rows from the /api/transcodes/events stream (Server-Sent Events, once a second);
// Cancel and Retry buttons call /api/admin/transcodes/<id>/cancel|retry.
import { csrfFetch } from "./csrf.js";

const body = document.querySelector("#queue tbody");

function cell(row, text) {
  const td = document.createElement("td");
  td.textContent = text;
  row.appendChild(td);
  return td;
}

async function act(id, what) {
  const response = await csrfFetch("/api/admin/transcodes/" + id + "/" + what, { method: "POST", credentials: "same-origin" });
  if (!response.ok) {
    const err = await response.json().catch(() => ({}));
    alert(err.message || ("HTTP " + response.status));
  }
}

function render(jobs) {
  body.innerHTML = "";
  if (!jobs.length) {
    cell(body.insertRow(), "No transcode job yet.").colSpan = 7;
    return;
  }
  jobs.forEach((job) => {
    const row = body.insertRow();
    row.dataset.status = job.status;
    cell(row, "#" + job.id);
    cell(row, job.path);
    cell(row, job.status + (job.status === "running" && job.playable ? " (playable)" : ""));
    const bar = document.createElement("progress");
    bar.max = 100;
    bar.value = job.progress;
    cell(row, "").appendChild(bar);
    cell(row, String(job.attempts));
    cell(row, job.error || "");
    const actions = cell(row, "");
    const label = job.status === "queued" || job.status === "running" ? "Cancel"
      : job.status === "failed" || job.status === "cancelled" ? "Retry" : null;
    if (label) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = label;
      button.addEventListener("click", () => act(job.id, label.toLowerCase()));
      actions.appendChild(button);
    }
  });
}

const source = new EventSource("/api/transcodes/events");
source.onmessage = (event) => render(JSON.parse(event.data).jobs || []);
