// "Start a watch party" on the player page: POST /api/parties {media_file_id}, then open the party
// page (its invite link and QR code are there). docs/PARTY.md.
import { csrfFetch } from "./csrf.js";

function init() {
  const button = document.getElementById("start-party");
  const error = document.getElementById("start-party-error");
  if (!button) return;
  button.addEventListener("click", async () => {
    button.disabled = true;
    const response = await csrfFetch("/api/parties", {
      method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ media_file_id: Number(button.dataset.mediaId) }),
    });
    const body = await response.json().catch(() => ({}));
    if (response.ok) {
      location.href = body.invite_url;
    } else {
      error.textContent = body.message || "Could not start a party";
      button.disabled = false;
    }
  });
}

init();
