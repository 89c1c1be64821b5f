// Player page (an ES module). Asks /api/media-files/<id>/playback how to play the file:
// - "file" (direct play): the file itself in <video src>, text subtitles as <track> elements;
// - "hls" (remux or transcode): hls.js with quality, audio-track and subtitle menus. A ladder still
//   being encoded is an EVENT playlist that grows; hls.js plays it from the start (startPosition).
// While nothing is playable yet (409) the page shows the transcode's progress and asks again.
// Stream tokens are short-lived: before one expires the page fetches a fresh one and hls.js's
// xhrSetup rewrites every later request to carry it (a direct-play file's Range requests are also
// honoured with an expired token for the logged-in browser that started them).
// The resume point is stored on the server every 10 s and on pause; keyboard: space/k play-pause,
// f fullscreen, m mute, c subtitles on/off, left/right 10 s, up/down volume.
// Test hook: window.mediaserverHls (the hls.js instance).
import { csrfFetch } from "./csrf.js";
import {
  chooseAudio, chooseSubtitles, errorKind, followHls, listUnconvertible, reportPlaybackError, scheduleRenewal, showFileTracks,
  tokenOf, tokenRewriter,
} from "./player-core.js";

const video = document.getElementById("video");
const menus = { quality: document.getElementById("quality"), audio: document.getElementById("audio"),
                subtitles: document.getElementById("subtitles") };
const status = document.getElementById("status");
const resumeBox = document.getElementById("resume");
const playbackUrl = video.dataset.playbackUrl;
const positionUrl = video.dataset.positionUrl;
const SAVE_EVERY_MS = 10000;
let token = null;
let hls = null;
let info = null;

function say(text) { status.textContent = text; }

async function fetchPlayback() {
  const response = await fetch(playbackUrl, { credentials: "same-origin" });
  const body = await response.json().catch(() => ({}));
  return { ok: response.ok, status: response.status, body };
}

function renewIn(ttlS) {
  scheduleRenewal(ttlS, async () => {
    try {
      const { ok, body } = await fetchPlayback();
      if (!ok || !body.url) throw new Error(body.message || "no URL");
      token = tokenOf(body.url);
      renewIn(body.ttl_s);
    } catch (e) {
      say("Could not renew the stream: " + e.message);
      renewIn(5);
    }
  });
}

function start() {
  video.play().catch(() => {
    video.muted = true;  // autoplay with sound is blocked until the user interacts
    video.play().then(() => say("Muted by the browser's autoplay policy: unmute in the controls.")).catch(() => {});
  });
}

function playHls(body) {
  hls = new Hls({
    startPosition: body.resume_ms ? body.resume_ms / 1000 : 0,  // from the start, even while it grows
    xhrSetup: tokenRewriter(() => token),
  });
  followHls(hls, menus, say, body.audio);
  hls.on(Hls.Events.MANIFEST_PARSED, start);
  hls.on(Hls.Events.ERROR, (_e, data) => {
    if (!data.fatal) return;
    say("Playback error: " + data.details);
    reportPlaybackError({ media_file_id: info.media_file_id, kind: errorKind(data), message: data.details });
  });
  hls.loadSource(body.url);
  hls.attachMedia(video);
  window.mediaserverHls = hls;
}

function playFile(body) {
  showFileTracks(video, menus, body.subtitles);
  video.src = body.url;
  if (body.resume_ms) video.currentTime = body.resume_ms / 1000;
  start();
}

function offerResume(body) {
  if (!body.resume_ms || !resumeBox) return;
  const at = Math.floor(body.resume_ms / 1000);
  resumeBox.hidden = false;
  resumeBox.querySelector("span").textContent = "Resumed at " + Math.floor(at / 60) + ":" + String(at % 60).padStart(2, "0") + ".";
  resumeBox.querySelector("button").addEventListener("click", () => { video.currentTime = 0; resumeBox.hidden = true; });
}

function savePosition(ended) {
  if (!positionUrl || !isFinite(video.currentTime) || video.currentTime < 1) return;
  // the last 10 s, or the last 5 % of a short clip, count as watched to the end
  const near = video.duration && video.duration - video.currentTime < Math.min(10, 0.05 * video.duration);
  csrfFetch(positionUrl, {
    method: ended || near ? "DELETE" : "PUT", credentials: "same-origin", keepalive: true,
    headers: { "Content-Type": "application/json" },
    body: ended || near ? null : JSON.stringify({ position_ms: Math.round(video.currentTime * 1000) }),
  }).catch(() => {});
}

function shortcuts() {
  document.addEventListener("keydown", (event) => {
    if (event.target.closest("input, select, textarea, button")) return;
    const key = event.key;
    if (key === " " || key === "k") { video.paused ? video.play() : video.pause(); }
    else if (key === "f") { document.fullscreenElement ? document.exitFullscreen() : video.requestFullscreen(); }
    else if (key === "m") { video.muted = !video.muted; }
    else if (key === "ArrowLeft") { video.currentTime = Math.max(0, video.currentTime - 10); }
    else if (key === "ArrowRight") { video.currentTime += 10; }
    else if (key === "ArrowUp") { video.volume = Math.min(1, video.volume + 0.1); }
    else if (key === "ArrowDown") { video.volume = Math.max(0, video.volume - 0.1); }
    else if (key === "c" && menus.subtitles.options.length > 1) {
      menus.subtitles.value = menus.subtitles.value === "-1" ? "0" : "-1";
      menus.subtitles.dispatchEvent(new Event("change"));
    } else { return; }
    event.preventDefault();
  });
}

function waitForLadder(body) {
  // Live progress of the transcode (Server-Sent Events), then ask again once it is playable.
  const t = body.transcode || {};
  if (body.status === "failed" || body.status === "unreadable") {
    say(body.message || "This file cannot be played.");
    return;
  }
  say("Preparing this title for your browser: " + Math.round(t.progress || 0) + " %");
  const source = new EventSource("/api/transcodes/events?media_file_id=" + body.media_file_id);
  source.onmessage = (event) => {
    const job = (JSON.parse(event.data).jobs || [])[0];
    if (!job) return;
    if (job.playable || job.status === "failed" || job.status === "succeeded") {
      source.close();
      main();
    } else {
      say("Preparing this title for your browser: " + job.status + ", " + Math.round(job.progress) + " %");
    }
  };
  source.onerror = () => { source.close(); setTimeout(main, 2000); };
}

async function main() {
  let result;
  try {
    result = await fetchPlayback();
  } catch (e) {
    say(e.message);
    return;
  }
  const body = result.body;
  info = body;
  if (!result.ok) {
    if (result.status === 409) waitForLadder(body);
    else say(body.message || ("HTTP " + result.status));
    return;
  }
  token = tokenOf(body.url);
  renewIn(body.ttl_s);
  listUnconvertible(body.subtitles);
  offerResume(body);
  say(body.method === "direct" ? "Direct play" : (body.status === "live" ? "Playing while it is prepared" : ""));
  if (body.kind === "file") {
    playFile(body);
  } else if (window.Hls && Hls.isSupported()) {
    playHls(body);
  } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
    menus.quality.closest("label").hidden = true;
    video.src = body.url;
    start();
  } else {
    say("This browser cannot play HLS.");
  }
}

menus.quality.addEventListener("change", () => { if (hls) hls.currentLevel = Number(menus.quality.value); });
menus.audio.addEventListener("change", () => { if (hls) chooseAudio(hls, Number(menus.audio.value)); });
menus.subtitles.addEventListener("change", () => chooseSubtitles(video, hls, Number(menus.subtitles.value)));
video.addEventListener("error", () => {
  const error = video.error;
  say("The browser could not play this file" + (error && error.message ? ": " + error.message : "") + ".");
  if (info) reportPlaybackError({ media_file_id: info.media_file_id, kind: errorKind(null, error), message: error && error.message });
});
video.addEventListener("pause", () => savePosition(false));
video.addEventListener("ended", () => savePosition(true));
setInterval(() => { if (!video.paused) savePosition(false); }, SAVE_EVERY_MS);
shortcuts();
main();

