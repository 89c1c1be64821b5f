// Watch-party invite page (templates/party_join.html): a visitor picks a display name and POSTs
// {"name"} to /api/parties/<code>/join. On 200 the response sets the member cookie and the reload shows
// the party page; on an error the JSON's message appears in #join-error.
import { csrfFetch } from "./csrf.js";

const form = document.getElementById("join-form");
const input = document.getElementById("join-name");
const error = document.getElementById("join-error");
const submit = form.querySelector("button[type=submit]");

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const name = input.value.trim();
  error.textContent = "";
  if (!name) { error.textContent = "Enter a name."; input.focus(); return; }
  submit.disabled = true;
  try {
    const response = await csrfFetch(form.dataset.joinUrl, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ name }),
    });
    if (response.ok) { location.reload(); return; }
    const body = await response.json().catch(() => ({}));
    error.textContent = body.message || "Could not join (HTTP " + response.status + ").";
  } catch (e) {
    error.textContent = "Could not reach the server: " + e.message;
  }
  submit.disabled = false;
});
