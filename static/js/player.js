// Player page: asks the server for a signed master playlist URL and plays it with hls.js
// (Safari's native HLS as fallback). Stream tokens are short-lived: before one expires the page
// fetches a fresh one and hls.js's xhrSetup rewrites every later request to carry it.
(function () {
  "use strict";
  const video = document.getElementById("video");
  const quality = document.getElementById("quality");
  const status = document.getElementById("status");
  const playbackUrl = video.dataset.playbackUrl;
  const TOKEN_PATH = /\/hls\/(\d+)\/[^/]+\//;
  let token = null;

  function say(text) { status.textContent = text; }

  async function fetchPlayback() {
    const response = await fetch(playbackUrl, { credentials: "same-origin" });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.message || ("HTTP " + response.status));
    token = body.url.match(TOKEN_PATH)[0];
    // Renew at 80 % of the token's life (ttl_s is in s).
    setTimeout(() => fetchPlayback().catch((e) => say("Could not renew the stream: " + e.message)),
               body.ttl_s * 800);
    return body;
  }

  function start() {
    video.play().catch(() => {
      video.muted = true;  // autoplay with sound is blocked until the user interacts
      video.play().then(() => say("Muted by the browser's autoplay policy: unmute in the controls.")).catch(() => {});
    });
  }

  function fillLevels(hls) {
    // hls.js orders levels by ascending bit rate; the menu lists the tallest first.
    hls.levels.map((level, i) => [level, i]).reverse().forEach(([level, i]) => {
      const option = document.createElement("option");
      option.value = String(i);
      option.textContent = level.height + "p (" + Math.round(level.bitrate / 1000) + " kb/s)";
      quality.appendChild(option);
    });
    quality.addEventListener("change", () => { hls.currentLevel = Number(quality.value); });
    hls.on(Hls.Events.LEVEL_SWITCHED, (_e, data) => {
      const level = hls.levels[data.level];
      if (level && level.height) say((hls.autoLevelEnabled ? "Auto: " : "") + level.height + "p");
    });
  }

  async function main() {
    let body;
    try {
      body = await fetchPlayback();
    } catch (e) {
      say(e.message);
      return;
    }
    if (window.Hls && Hls.isSupported()) {
      const hls = new Hls({
        xhrSetup(xhr, url) {
          const fresh = url.replace(TOKEN_PATH, token);
          if (fresh !== url) xhr.open("GET", fresh, true);
        },
      });
      hls.on(Hls.Events.MANIFEST_PARSED, () => { fillLevels(hls); start(); });
      hls.on(Hls.Events.ERROR, (_e, data) => { if (data.fatal) say("Playback error: " + data.details); });
      hls.loadSource(body.url);
      hls.attachMedia(video);
      window.mediaserverHls = hls;
    } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
      quality.closest("label").hidden = true;
      video.src = body.url;
      start();
    } else {
      say("This browser cannot play HLS.");
    }
  }

  main();
})();
