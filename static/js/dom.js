// Small DOM helpers the pages share (library.js, the music pages).

// An element `tag` with attributes `attrs` (null and undefined ones left out) and children (nodes or text).
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  Object.entries(attrs || {}).forEach(([k, v]) => { if (v !== null && v !== undefined) node.setAttribute(k, v); });
  children.forEach((c) => node.append(c));
  return node;
}

// A duration in ms as "m:ss" or "h:mm:ss"; "–" when unknown.
export function formatDuration(ms) {
  if (ms == null || !isFinite(ms)) return "–";
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  return (h ? h + ":" + String(m).padStart(2, "0") : m) + ":" + String(r).padStart(2, "0");
}
