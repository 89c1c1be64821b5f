// CSRF: `csrfFetch(url, init)` is fetch() that sends the page's CSRF token (base.html's
// <meta name="csrf-token">) as X-CSRFToken on a same-origin POST, PUT, PATCH or DELETE; the server
// refuses those without it (400, README "Security"). Every state-changing fetch of static/js uses it.
const meta = document.querySelector('meta[name="csrf-token"]');
const token = meta ? meta.content : "";

function sameOrigin(url) {
  try { return new URL(url, location.href).origin === location.origin; } catch (e) { return false; }
}

export function csrfFetch(url, init) {
  const options = Object.assign({ credentials: "same-origin" }, init);
  const method = (options.method || "GET").toUpperCase();
  if (!["GET", "HEAD", "OPTIONS"].includes(method) && sameOrigin(url)) {
    const headers = new Headers(options.headers || {});
    headers.set("X-CSRFToken", token);
    options.headers = headers;
  }
  return fetch(url, options);
}
