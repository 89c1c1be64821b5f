// Watch-party page (templates/party.html): wires the Socket.IO connection, the sync engine
// (party-sync.js), the title loader (party-media.js), the queue (party-queue.js) and the chat
// (party-chat.js) to the page.
// - Socket: io("/party", {transports: ["websocket"]}) (`?transport=polling`: long-polling); on every connect (reconnects too) `join {code, token}`
//   with an ack {ok, member_id, role} or {ok: false, message}; then the engine's clock burst.
// - The video has no native controls: every action is a party command sent through the engine
//   (#btn-playpause, #seek, #btn-back10, #btn-fwd10, keyboard, media keys); mute, quality, audio and
//   subtitles are local choices.
// - #members lists everyone (status, drift, "you"); the host gets #control-mode and role buttons.
// - #notice (role=alert) shows rejections, server errors and system messages for 8 s.
// Test hooks: window.partySync (the engine: stats(), targetMs()), window.partyPage {socket, engine, media, queue, me(), role()}.
// `io` is the vendored socket.io client (static/socket.io/, a classic script loaded before this module).
import { PartyChat } from "./party-chat.js";
import { PartyMedia } from "./party-media.js";
import { PartyQueue } from "./party-queue.js";
import { PartySync } from "./party-sync.js";

const $ = (id) => document.getElementById(id);
const root = $("party");
const code = root.dataset.code;
const joinToken = root.dataset.joinToken || "";
const api = "/api/parties/" + encodeURIComponent(code);
const video = $("video");
const noticeBox = $("notice");
const playPause = $("btn-playpause");
const seekBar = $("seek");
const timeText = $("time");
const muteButton = $("btn-mute");
const unmuteHint = $("unmute-hint");
const membersList = $("members");
const controlMode = $("control-mode");
const NOTICE_MS = 8000;
let me = null;
let myRole = "guest";
let last = null;          // the last state received
let dragging = false;

function notice(text) {
  if (!text) return;
  // The same text twice (a failed join answers with an `error` event and its ack) shows once, for longer.
  let line = Array.from(noticeBox.children).find((p) => p.textContent === text);
  if (!line) {
    line = document.createElement("p");
    line.textContent = text;
    noticeBox.appendChild(line);
    while (noticeBox.children.length > 4) noticeBox.firstElementChild.remove();
  }
  clearTimeout(line.timer);
  line.timer = setTimeout(() => line.remove(), NOTICE_MS);
}
function say(text) { $("status").textContent = text; }
function conn(text) { $("conn").textContent = text; }

function role() { return myRole; }
function canControl() { return (last && last.control_mode === "everyone") || myRole === "host" || myRole === "cohost"; }
function memberName(id) {
  const m = last && (last.members || []).find((x) => x.id === id);
  return m ? m.name : "someone";
}

// ?transport=polling: HTTP long-polling only, for networks or proxies that block WebSockets.
// Reconnects back off from 0.5 s to at most 2 s, so a restarted server has everyone back quickly.
const transports = new URLSearchParams(location.search).get("transport") === "polling" ? ["polling"] : ["websocket"];
const socket = io("/party", { transports, reconnectionDelay: 500, reconnectionDelayMax: 2000 });
const engine = new PartySync(video, socket, {
  onState, onNotice: notice, canControl,
  onRejected: (r) => notice(r.reason || r.message || "The server refused that."),
  onMuted: () => { unmuteHint.hidden = false; say("Muted by the browser's autoplay policy: press Unmute."); },
  onDriftReport: (r) => {
    const s = engine.stats();
    $("sync-status").textContent = s.state === "playing" && s.drift_ms !== null
      ? "Drift " + r.drift_ms + " ms, round trip " + r.rtt_ms + " ms" + (s.rate !== 1 ? ", rate " + s.rate : "")
      : (r.rtt_ms ? "Round trip " + r.rtt_ms + " ms" : "");
  },
});
const media = new PartyMedia(video, {
  playbackUrl: api + "/playback", party: code, quality: $("quality"), audio: $("audio"), subtitles: $("subtitles"), say,
  onAttached: (id) => engine.setSource(id),
  onTrack: showTrack,
});

// A music track: its cover, title, artists and album in place of the (empty) picture; the element keeps
// playing the sound, hidden (a listening party: issue 14).
function showTrack(track) {
  $("stage").classList.toggle("audio-mode", Boolean(track));
  $("now-track").hidden = !track;
  $("btn-fullscreen").hidden = Boolean(track);
  if (!track) return;
  $("now-track-title").textContent = track.title;
  $("now-track-artists").textContent = (track.artists || []).join(", ");
  $("now-track-album").textContent = track.album || "";
  const cover = $("now-cover");
  cover.hidden = !track.cover_url;
  if (track.cover_url) { cover.src = track.cover_url; cover.alt = "Cover of " + (track.album || track.title); }
}
const ctx = { socket, role, canControl, meId: () => me, memberName, notice, titlesUrl: api + "/titles" };
const queue = new PartyQueue(ctx);
new PartyChat(ctx);
window.partySync = engine;
window.partyPage = { socket, engine, media, queue, me: () => me, role };

// ---- connection --------------------------------------------------------------------------------
let rejoin = null;
function join() {
  clearTimeout(rejoin);
  conn("Joining…");
  socket.timeout(10000).emit("join", { code, token: joinToken }, (err, ack) => {
    if (err) {
      if (socket.connected) { conn("No answer from the server; trying again…"); rejoin = setTimeout(join, 2000); }
      return;
    }
    if (!ack || !ack.ok) {
      conn("Not joined");
      notice((ack && ack.message) || "Could not join the party.");
      // A passing refusal (the server's Redis is down) says when to ask again; a bad token does not.
      if (ack && ack.retry_after_s > 0 && socket.connected) rejoin = setTimeout(join, ack.retry_after_s * 1000);
      return;
    }
    me = ack.member_id;
    myRole = ack.role || myRole;
    engine.joined(ack);
    media.retryNow();  // a load that failed while the server was unreachable
    conn("Connected");
    renderAll();
  });
}
socket.on("connect", join);
window.addEventListener("online", () => media.retryNow());
socket.on("disconnect", () => { engine.left(); conn("Disconnected: reconnecting…"); });
socket.on("connect_error", () => conn("Cannot reach the server: retrying…"));
socket.on("error", (e) => notice((e && (e.message || e.reason)) || "Server error"));

// ---- state -------------------------------------------------------------------------------------
function onState(s, { applied, titleChanged }) {
  last = s;
  const mine = (s.members || []).find((m) => m.id === me);
  if (mine) myRole = mine.role;
  if (titleChanged) {
    $("now-playing").textContent = s.title || "";
    document.title = "Watch party" + (s.title ? ": " + s.title : "");
    seekBar.max = String(s.duration_ms || 0);
    media.load(s.media_file_id, () => engine.targetMs());
  }
  if (applied && s.duration_ms) seekBar.max = String(s.duration_ms);
  renderAll();
}

function renderAll() {
  renderMembers();
  renderControls();
  if (last && last.queue_mode) queue.mode = last.queue_mode;
  queue.render();
}

function renderControls() {
  const s = last || {};
  const playing = s.state === "playing";
  playPause.textContent = playing ? "Pause" : "Play";
  playPause.setAttribute("aria-pressed", String(playing));
  controlMode.disabled = myRole !== "host";
  if (s.control_mode && document.activeElement !== controlMode) controlMode.value = s.control_mode;
  $("control-hint").hidden = canControl();
  const names = (s.members || []).filter((m) => m.status === "loading" || m.status === "buffering").map((m) => m.name);
  $("room-state").textContent = !s.state ? "" : playing ? (s.anchor_server_ms > engine.serverNow() ? "Starting…" : "Playing")
    : s.state === "paused" ? "Paused"
    : "Waiting for " + (names.length ? names.join(", ") : "everyone") + "…";
  $("you-are").textContent = (root.dataset.meName || memberName(me)) + (me ? " (" + myRole + ")" : "");
}

function memberButton(text, className, memberId, newRole) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = "small-button secondary " + className;
  b.textContent = text;
  b.addEventListener("click", () => socket.emit("set_role", { member_id: memberId, role: newRole }));
  return b;
}

// One <li data-member-id> per member, rebuilt only when what it shows changes (keeps button focus).
function renderMembers() {
  const members = (last && last.members) || [];
  const isHost = myRole === "host";
  const keep = new Set();
  members.forEach((m, index) => {
    keep.add(m.id);
    let li = membersList.querySelector('li[data-member-id="' + CSS.escape(m.id) + '"]');
    const key = [m.name, m.role, m.status, m.id === me, isHost].join("|");
    if (!li) {
      li = document.createElement("li");
      li.dataset.memberId = m.id;
    }
    if (li.dataset.key !== key) {
      li.dataset.key = key;
      li.className = "member " + m.status + (m.id === me ? " you" : "");
      const name = document.createElement("span");
      name.className = "name";
      name.textContent = m.name;
      const parts = [name];
      if (m.id === me) { const you = document.createElement("span"); you.className = "you-tag"; you.textContent = "(you)"; parts.push(you); }
      const roleTag = document.createElement("span");
      roleTag.className = "role role-" + m.role;
      roleTag.textContent = m.role;
      const status = document.createElement("span");
      status.className = "status status-" + m.status;
      status.textContent = m.status;
      const drift = document.createElement("span");
      drift.className = "drift";
      parts.push(roleTag, status, drift);
      if (isHost && m.id !== me) {
        const tools = document.createElement("span");
        tools.className = "member-tools";
        if (m.role === "guest") tools.appendChild(memberButton("Make cohost", "make-cohost", m.id, "cohost"));
        if (m.role === "cohost") tools.appendChild(memberButton("Make guest", "make-guest", m.id, "guest"));
        tools.appendChild(memberButton("Make host", "make-host", m.id, "host"));
        parts.push(tools);
      }
      li.replaceChildren(...parts);
    }
    const drift = li.querySelector(".drift");
    drift.textContent = typeof m.drift_ms === "number" && m.status !== "offline" ? (m.drift_ms > 0 ? "+" : "") + m.drift_ms + " ms" : "";
    drift.title = typeof m.rtt_ms === "number" ? "round trip " + m.rtt_ms + " ms" : "";
    if (membersList.children[index] !== li) membersList.insertBefore(li, membersList.children[index] || null);
  });
  Array.from(membersList.children).forEach((li) => { if (!keep.has(li.dataset.memberId)) li.remove(); });
}

controlMode.addEventListener("change", () => socket.emit("set_control", { mode: controlMode.value }));

// ---- playback controls -------------------------------------------------------------------------
function shownMs() { return engine.hasSource() ? video.currentTime * 1000 : engine.targetMs(); }
function togglePlay() {
  if (last && last.state === "playing") engine.pause(); else engine.play();
}
function jump(deltaMs) { engine.seek(Math.max(0, shownMs() + deltaMs)); }
function fullscreen() {
  const stage = $("stage");
  if (document.fullscreenElement) document.exitFullscreen();
  else if (stage.requestFullscreen) stage.requestFullscreen().catch(() => {});
  else if (video.webkitEnterFullscreen) video.webkitEnterFullscreen();
}
function mute(on) {
  video.muted = on;
  if (!on && video.volume === 0) video.volume = 1;
}

playPause.addEventListener("click", togglePlay);
$("btn-back10").addEventListener("click", () => jump(-10000));
$("btn-fwd10").addEventListener("click", () => jump(10000));
$("btn-fullscreen").addEventListener("click", fullscreen);
muteButton.addEventListener("click", () => mute(!video.muted));
unmuteHint.addEventListener("click", () => mute(false));
video.addEventListener("volumechange", () => {
  muteButton.textContent = video.muted ? "Unmute" : "Mute";
  muteButton.setAttribute("aria-pressed", String(video.muted));
  if (!video.muted) unmuteHint.hidden = true;
});
// The bar follows the video except while it is being moved; arrow keys fire a change per press, so
// the seek waits for a short pause (one command, not one per key).
let seekTimer = null;
seekBar.addEventListener("pointerdown", () => { dragging = true; });
seekBar.addEventListener("pointerup", () => { setTimeout(() => { if (seekTimer === null) dragging = false; }, 0); });
seekBar.addEventListener("input", () => { dragging = true; showTime(Number(seekBar.value)); });
seekBar.addEventListener("change", () => {
  dragging = true;
  clearTimeout(seekTimer);
  seekTimer = setTimeout(() => { seekTimer = null; dragging = false; engine.seek(Number(seekBar.value)); }, 150);
});
seekBar.addEventListener("blur", () => { if (seekTimer === null) dragging = false; });
video.addEventListener("click", togglePlay);
video.addEventListener("dblclick", fullscreen);

function showTime(ms) {
  const duration = Number(seekBar.max) || (isFinite(video.duration) ? video.duration * 1000 : 0);
  timeText.textContent = PartyQueue.clock(ms) + " / " + PartyQueue.clock(duration);
}
setInterval(() => {
  if (dragging) return;
  const ms = shownMs();
  if (!Number(seekBar.max) && isFinite(video.duration)) seekBar.max = String(Math.round(video.duration * 1000));
  seekBar.value = String(Math.round(ms));
  showTime(ms);
  if (last && last.state === "playing") renderControls();  // "Starting…" turns into "Playing"
}, 250);

document.addEventListener("keydown", (event) => {
  if (event.target.closest("input, select, textarea, button") || event.ctrlKey || event.metaKey || event.altKey) return;
  const key = event.key;
  if (key === " " || key === "k") togglePlay();
  else if (key === "f") fullscreen();
  else if (key === "m") mute(!video.muted);
  else if (key === "ArrowLeft") jump(-10000);
  else if (key === "ArrowRight") jump(10000);
  else return;
  event.preventDefault();
});
if ("mediaSession" in navigator) {
  // Media keys and the system's player controls become party commands too.
  try {
    navigator.mediaSession.setActionHandler("play", () => engine.play());
    navigator.mediaSession.setActionHandler("pause", () => engine.pause());
    navigator.mediaSession.setActionHandler("seekbackward", () => jump(-10000));
    navigator.mediaSession.setActionHandler("seekforward", () => jump(10000));
  } catch (e) { /* an action this browser does not know */ }
}

// ---- invite ------------------------------------------------------------------------------------
$("copy-invite").addEventListener("click", async () => {
  const field = $("invite-url");
  const done = $("copy-done");
  try {
    await navigator.clipboard.writeText(field.value);
  } catch (e) {
    field.focus();
    field.select();  // no clipboard API outside https: the old way
    let copied = false;
    try { copied = document.execCommand("copy"); } catch (e2) { copied = false; }
    if (!copied) { done.textContent = "Select and copy the link."; return; }
  }
  done.textContent = "Copied.";
  setTimeout(() => { done.textContent = ""; }, 3000);
});
