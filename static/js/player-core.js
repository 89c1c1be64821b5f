// What the player page (player.js) and the watch party's title loader (party-media.js) share: the
// track menus (quality, audio, subtitles) under the video, text subtitles of a directly played file as
// <track> elements, the hls.js `xhrSetup` that puts the current stream token into every request, the
// token's renewal timer, and the players' error reports.
//
// Stream URLs carry a short-lived token as a path component (`/hls/<id>/<token>/...`,
// `/media/<id>/<token>/...`): a page renews it at 80 % of its life (ttl_s, in s) and every later hls.js
// request is rewritten to carry the newest one.
import { audioVariants, startVariant } from "./audio-variants.js";
import { csrfFetch } from "./csrf.js";

export const TOKEN_PATH = /\/(hls|media)\/(\d+)\/[^/]+\//;
// A token is renewed at this share of its life, and never sooner than RENEW_MIN_MS.
export const RENEW_AT = 0.8;
export const RENEW_MIN_MS = 1000;

// The `/<kind>/<id>/<token>/` part of a stream URL, or null.
export function tokenOf(url) {
  const match = String(url || "").match(TOKEN_PATH);
  return match ? match[0] : null;
}

// hls.js's `xhrSetup`: every request goes out with the token currentToken() returns (when it has one).
export function tokenRewriter(currentToken) {
  return (xhr, url) => {
    const token = currentToken();
    const fresh = token ? url.replace(TOKEN_PATH, token) : url;
    if (fresh !== url) xhr.open("GET", fresh, true);
  };
}

// Call renew() at RENEW_AT of a token's life `ttlS` (s); returns the timer (for clearTimeout).
export function scheduleRenewal(ttlS, renew) {
  return setTimeout(renew, Math.max(RENEW_MIN_MS, ttlS * 1000 * RENEW_AT));
}

// POST /api/playback-errors {media_file_id, kind, message[, party]}: a player failed (counted by kind in
// /metrics). Best effort: nothing waits for it.
export function reportPlaybackError(report) {
  csrfFetch("/api/playback-errors", {
    method: "POST", credentials: "same-origin", keepalive: true,
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ ...report, message: String(report.message || "").slice(0, 500) }),
  }).catch(() => {});
}

// The kind of an hls.js fatal error (`hlsData`) or of a <video>'s MediaError.
export function errorKind(hlsData, mediaError) {
  if (hlsData) return { networkError: "network", mediaError: "media" }[hlsData.type] || "other";
  // MediaError codes: 2 network, 3 decode, 4 source not supported; 1 (aborted) and the rest: other
  return { 2: "network", 3: "decode", 4: "media" }[mediaError && mediaError.code] || "other";
}

// One <track> per convertible subtitle with a URL (the playback API's `subtitles`), the first shown
// when it is the default; returns those subtitles.
export function addTextTracks(video, subtitles) {
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

export function option(menu, value, text, selected) {
  const item = document.createElement("option");
  item.value = String(value);
  item.textContent = text;
  item.selected = Boolean(selected);
  menu.appendChild(item);
}

// "Auto", then hls.js's levels tallest first (hls.js orders them by ascending bit rate).
export function fillLevels(menu, hls) {
  menu.innerHTML = "";
  option(menu, -1, "Auto", true);
  hls.levels.map((level, i) => [level, i]).reverse().forEach(([level, i]) => {
    option(menu, i, (level.height ? level.height + "p" : "Audio") + " (" + Math.round(level.bitrate / 1000) + " kb/s)");
  });
}

// The audio menu: hls.js's audio tracks, or for an audio-only title its variants (audio-variants.js),
// named from /playback's `audio` (`tracks`).
export function fillAudio(menu, hls, tracks) {
  menu.innerHTML = "";
  const variants = audioVariants(hls.levels, tracks);
  if (variants) {
    variants.forEach((v) => option(menu, v.level, v.name + (v.language ? " [" + v.language + "]" : ""),
                                   v.level === hls.currentLevel));
    menu.closest("label").hidden = variants.length < 2;
    return;
  }
  hls.audioTracks.forEach((track, i) => option(menu, i, track.name + (track.lang ? " [" + track.lang + "]" : ""),
                                               i === hls.audioTrack));
  menu.closest("label").hidden = hls.audioTracks.length < 2;
}

export function fillSubtitles(menu, tracks, current) {
  menu.innerHTML = "";
  option(menu, -1, "Off", current === -1);
  tracks.forEach((track, i) => option(menu, i, track.name, i === current));
  menu.closest("label").hidden = tracks.length === 0;
}

// Subtitle `index` (-1: off) of hls.js, or of the video's <track>s when there is no hls.js.
export function chooseSubtitles(video, hls, index) {
  if (hls) {
    hls.subtitleTrack = index;
    hls.subtitleDisplay = index >= 0;
  } else {
    Array.from(video.textTracks).forEach((t, i) => { t.mode = i === index ? "showing" : "hidden"; });
  }
}

// The audio menu's choice `value`: an audio track of hls.js, or an audio-only title's variant (pinned).
export function chooseAudio(hls, value) {
  if (audioVariants(hls.levels)) hls.currentLevel = value;
  else hls.audioTrack = value;
}

// Keep the menus `{quality, audio, subtitles}` in step with `hls`, and say the rung it switches to.
// An audio-only title (`tracks`: /playback's `audio`) has no quality menu: its variants are its audio
// tracks, the default one pinned from the start.
export function followHls(hls, menus, say, tracks) {
  hls.on(Hls.Events.MANIFEST_PARSED, () => {
    const variants = audioVariants(hls.levels, tracks);
    if (!variants) {
      fillLevels(menus.quality, hls);
      return;
    }
    menus.quality.closest("label").hidden = true;
    hls.currentLevel = startVariant(variants);
    fillAudio(menus.audio, hls, tracks);
  });
  hls.on(Hls.Events.LEVEL_SWITCHED, (_e, data) => {
    const level = hls.levels[data.level];
    if (level && level.height) say((hls.autoLevelEnabled ? "Auto: " : "") + level.height + "p");
    else if (audioVariants(hls.levels)) fillAudio(menus.audio, hls, tracks);
  });
  hls.on(Hls.Events.AUDIO_TRACKS_UPDATED, () => fillAudio(menus.audio, hls, tracks));
  hls.on(Hls.Events.AUDIO_TRACK_SWITCHED, () => fillAudio(menus.audio, hls, tracks));
  hls.on(Hls.Events.SUBTITLE_TRACKS_UPDATED, () => fillSubtitles(menus.subtitles, hls.subtitleTracks, hls.subtitleTrack));
}

// A direct-play file: no quality or audio menu, its text subtitles as <track>s in the subtitle menu.
export function showFileTracks(video, menus, subtitles) {
  menus.quality.closest("label").hidden = true;
  menus.audio.closest("label").hidden = true;
  const usable = addTextTracks(video, subtitles);
  fillSubtitles(menus.subtitles, usable, usable.length && usable[0].default ? 0 : -1);
}

// "Not shown: ..." for the subtitles that cannot become text (bitmap ones), in #tracks-note.
export function listUnconvertible(subtitles) {
  const bitmap = (subtitles || []).filter((t) => !t.convertible);
  const note = document.getElementById("tracks-note");
  if (note && bitmap.length) {
    note.textContent = "Not shown: " + bitmap.map((t) => t.name + " (" + (t.note || "not convertible") + ")").join("; ");
  }
}
