// Player page. Asks /api/media-files/<id>/playback how to play the file:
// - "file" (direct play): the file itself in <video src>, text subtitles as <track> elements;
// - "hls" (remux or transcode): hls.js with quality, audio-track and subtitle menus. A ladder still
//   being encoded is an EVENT playlist that grows; hls.js plays it from the start (startPosition).
// While nothing is playable yet (409) the page shows the transcode's progress and asks again.
// Stream tokens are short-lived: before one expires the page fetches a fresh one and hls.js's
// xhrSetup rewrites every later request to carry it (a direct-play file's Range requests are also
// honoured with an expired token for the logged-in browser that started them).
// The resume point is stored on the server every 10 s and on pause; keyboard: space/k play-pause,
// f fullscreen, m mute, c subtitles on/off, left/right 10 s, up/down volume.
(function () {
  "use strict";
  const video = document.getElementById("video");
  const quality = document.getElementById("quality");
  const audioMenu = document.getElementById("audio");
  const subsMenu = document.getElementById("subtitles");
  const status = document.getElementById("status");
  const resumeBox = document.getElementById("resume");
  const playbackUrl = video.dataset.playbackUrl;
  const positionUrl = video.dataset.positionUrl;
  const TOKEN_PATH = /\/(hls|media)\/(\d+)\/[^/]+\//;
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

  function scheduleRenewal(ttlS) {
    // Renew at 80 % of the token's life (ttl_s is in s).
    setTimeout(async () => {
      try {
        const { ok, body } = await fetchPlayback();
        if (!ok || !body.url) throw new Error(body.message || "no URL");
        token = body.url.match(TOKEN_PATH)[0];
        scheduleRenewal(body.ttl_s);
      } catch (e) {
        say("Could not renew the stream: " + e.message);
        scheduleRenewal(5);
      }
    }, Math.max(1000, ttlS * 800));
  }

  function start() {
    video.play().catch(() => {
      video.muted = true;  // autoplay with sound is blocked until the user interacts
      video.play().then(() => say("Muted by the browser's autoplay policy: unmute in the controls.")).catch(() => {});
    });
  }

  function option(menu, value, text, selected) {
    const item = document.createElement("option");
    item.value = String(value);
    item.textContent = text;
    item.selected = Boolean(selected);
    menu.appendChild(item);
  }

  function fillLevels() {
    // hls.js orders levels by ascending bit rate; the menu lists the tallest first.
    hls.levels.map((level, i) => [level, i]).reverse().forEach(([level, i]) => {
      option(quality, i, (level.height ? level.height + "p" : "Audio") + " (" + Math.round(level.bitrate / 1000) + " kb/s)");
    });
    quality.addEventListener("change", () => { hls.currentLevel = Number(quality.value); });
    hls.on(Hls.Events.LEVEL_SWITCHED, (_e, data) => {
      const level = hls.levels[data.level];
      if (level && level.height) say((hls.autoLevelEnabled ? "Auto: " : "") + level.height + "p");
    });
  }

  function fillAudio() {
    audioMenu.innerHTML = "";
    hls.audioTracks.forEach((track, i) => option(audioMenu, i, track.name + (track.lang ? " [" + track.lang + "]" : ""),
                                                 i === hls.audioTrack));
    audioMenu.closest("label").hidden = hls.audioTracks.length < 2;
  }

  function fillSubtitles(tracks, current) {
    subsMenu.innerHTML = "";
    option(subsMenu, -1, "Off", current === -1);
    tracks.forEach((track, i) => option(subsMenu, i, track.name, i === current));
    subsMenu.closest("label").hidden = tracks.length === 0;
  }

  function listUnconvertible() {
    const bitmap = (info.subtitles || []).filter((t) => !t.convertible);
    const note = document.getElementById("tracks-note");
    if (note && bitmap.length) {
      note.textContent = "Not shown: " + bitmap.map((t) => t.name + " (" + (t.note || "not convertible") + ")").join("; ");
    }
  }

  function playHls(body) {
    hls = new Hls({
      startPosition: body.resume_ms ? body.resume_ms / 1000 : 0,  // from the start, even while it grows
      xhrSetup(xhr, url) {
        const fresh = url.replace(TOKEN_PATH, token);
        if (fresh !== url) xhr.open("GET", fresh, true);
      },
    });
    hls.on(Hls.Events.MANIFEST_PARSED, () => { fillLevels(); start(); });
    hls.on(Hls.Events.AUDIO_TRACKS_UPDATED, fillAudio);
    hls.on(Hls.Events.AUDIO_TRACK_SWITCHED, fillAudio);
    hls.on(Hls.Events.SUBTITLE_TRACKS_UPDATED, () => fillSubtitles(hls.subtitleTracks, hls.subtitleTrack));
    hls.on(Hls.Events.ERROR, (_e, data) => {
      if (!data.fatal) return;
      say("Playback error: " + data.details);
      reportPlaybackError({ media_file_id: info.media_file_id, kind: errorKind(data), message: data.details });  // tracks.js
    });
    audioMenu.addEventListener("change", () => { hls.audioTrack = Number(audioMenu.value); });
    subsMenu.addEventListener("change", () => {
      hls.subtitleTrack = Number(subsMenu.value);
      hls.subtitleDisplay = Number(subsMenu.value) >= 0;
    });
    hls.loadSource(body.url);
    hls.attachMedia(video);
    window.mediaserverHls = hls;
  }

  function playFile(body) {
    quality.closest("label").hidden = true;
    audioMenu.closest("label").hidden = true;
    const usable = addTextTracks(video, body.subtitles);  // tracks.js
    fillSubtitles(usable, usable.length && usable[0].default ? 0 : -1);
    subsMenu.addEventListener("change", () => {
      Array.from(video.textTracks).forEach((t, i) => { t.mode = i === Number(subsMenu.value) ? "showing" : "hidden"; });
    });
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
      else if (key === "c" && subsMenu.options.length > 1) {
        subsMenu.value = subsMenu.value === "-1" ? "0" : "-1";
        subsMenu.dispatchEvent(new Event("change"));
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
    token = body.url.match(TOKEN_PATH)[0];
    scheduleRenewal(body.ttl_s);
    listUnconvertible();
    offerResume(body);
    say(body.method === "direct" ? "Direct play" : (body.status === "live" ? "Playing while it is prepared" : ""));
    if (body.kind === "file") {
      playFile(body);
    } else if (window.Hls && Hls.isSupported()) {
      playHls(body);
    } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
      quality.closest("label").hidden = true;
      video.src = body.url;
      start();
    } else {
      say("This browser cannot play HLS.");
    }
  }

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
})();
