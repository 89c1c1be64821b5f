// Text subtitles of a directly played file as <track> elements, shared by player.js and party-media.js.
// addTextTracks(video, subtitles) adds one <track> per convertible subtitle that has a URL (from the
// playback API's `subtitles`), showing the first one when it is the default; returns those subtitles.
// reportPlaybackError({media_file_id, kind, message[, party]}) tells the server a player failed
// (POST /api/playback-errors, counted by kind in /metrics); best effort, nothing waits for it.
// errorKind(hlsData, mediaError) maps an hls.js fatal error or a <video>'s MediaError to its kind.
"use strict";

function reportPlaybackError(report) {
  csrfFetch("/api/playback-errors", {
    method: "POST", credentials: "same-origin", keepalive: true,
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ ...report, message: String(report.message || "").slice(0, 500) }),
  }).catch(() => {});
}

function errorKind(hlsData, mediaError) {
  if (hlsData) return { networkError: "network", mediaError: "media" }[hlsData.type] || "other";
  // MediaError codes: 2 network, 3 decode, 4 source not supported; 1 (aborted) and the rest: other
  return { 2: "network", 3: "decode", 4: "media" }[mediaError && mediaError.code] || "other";
}

function addTextTracks(video, subtitles) {
  const usable = (subtitles || []).filter((t) => t.convertible && t.url);
  usable.forEach((t, i) => {
    const track = document.createElement("track");
    track.kind = "subtitles";
    track.label = t.name;
    if (t.language) track.srclang = t.language;
    track.src = t.url;
    video.appendChild(track);
    track.track.mode = i === 0 && t.default ? "showing" : "hidden";
  });
  return usable;
}
