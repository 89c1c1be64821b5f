// The music page as one device of the user's playback session (docs/SESSION.md, "The browser side"):
// the player bar is a view of the server's session, shared by every browser the user is signed in on.
//
// - Socket: io("/session", {transports: ["websocket"]}); on every connect `register {device_id, name}`
//   (device_id kept in sessionStorage: two tabs are two devices; the name from navigator.userAgent),
//   then the clock's burst (party-clock.js: the party's NTP-style offset), again every 30 s.
// - Commands (`command {action, rev, event_id, ...}`) go one at a time with the rev of the last answer;
//   one refused as `stale` is sent once more with the current rev (what the user asked for still holds);
//   `forbidden` (not registered, e.g. Redis lost its data) registers again.
// - Every `session_state`: the local queue (music-queue.js) is made the session's (its tracks asked of
//   `GET /api/library/tracks?ids=` when unknown), then the ACTIVE device (active_device_id is ours)
//   plays the current track at the projected position (sync-rules.js roomPosition: position_ms +
//   (serverNow - anchor_server_ms) while playing, its start waiting for the anchor), seeking when it
//   is more than RESEEK_MS off; every other device empties its <audio> elements and shows the same
//   track and position, silent. The active device's drift is then judged every CHECK_MS and corrected
//   as a party member's (sync-rules.js correction: playbackRate within 5 %, a seek past 2 s). At a track's end the active device plays the next one by itself
//   (gapless, music-player.js) and sends nothing: the server moves on at the same moment.
// - UI changes to the queue (play an album, play next, add, move, remove, shuffle) send `set_queue`
//   with the whole new order, the current track's position kept when it stays current.
// Test hook: window.mediaserverMusic.session.
import { PartyClock, eventId } from "./party-clock.js";
import { correction, learnSeekLatency, roomPosition, seekAim, seekableTime } from "./sync-rules.js";

export const RESEEK_MS = 500;   // the active device's drift from the projection that seeks at once
export const CHECK_MS = 200;    // the active device's drift is judged this often (sync-rules.js correction)
export const START_LATENCY_MS = 80;  // a start at a position lags it this much before it is learned (ms)
export const IDS_PER_REQUEST = 500;
export const HAND_OVER_MS = 1000;  // a next track this close to the current one's end is left to the hand-over
const DEVICE_KEY = "mediaserver.music.device";

// "Chrome on Linux" from a user agent string.
export function deviceName(ua) {
  const browser = /Edg\//.test(ua) ? "Edge" : /Firefox\//.test(ua) ? "Firefox" : /Chromium\//.test(ua) ? "Chromium"
    : /Chrome\//.test(ua) ? "Chrome" : /Safari\//.test(ua) ? "Safari" : "A browser";
  const os = /Android/.test(ua) ? "Android" : /iPhone|iPad/.test(ua) ? "iOS" : /Windows/.test(ua) ? "Windows"
    : /Mac OS X/.test(ua) ? "macOS" : /CrOS/.test(ua) ? "ChromeOS" : /Linux/.test(ua) ? "Linux" : "";
  return (os ? browser + " on " + os : browser).slice(0, 40);
}

function myDeviceId() {
  let id = sessionStorage.getItem(DEVICE_KEY);
  if (!id) { id = "web-" + eventId(); sessionStorage.setItem(DEVICE_KEY, id); }
  return id;
}

const seekElement = (el, seconds) => { el.currentTime = seekableTime(seconds, el.duration); };
const sameIds = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

export class MusicSession extends EventTarget {
  constructor(player, queue) {
    super();
    this.player = player;
    this.queue = queue;
    this.deviceId = myDeviceId();
    this.name = deviceName(navigator.userAgent);
    this.state = null;
    this.rev = 0;
    this.registered = false;
    this.pending = [];
    this.sending = false;
    this.sentAny = false;     // a command went from this page (the resume offer is then gone)
    this.tracks = new Map();  // track id -> track, for the session's queue
    this.shown = 0;           // the number of the latest state: an older one that resolves late is dropped
    this.startTimer = null;
    this.seekLatency = START_LATENCY_MS;  // learned from every start at a position (sync-rules.js)
    this.fresh = false;       // a start at a position not yet measured
    this.correcting = null;
    player.controls = this;
    const transports = new URLSearchParams(location.search).get("transport") === "polling" ? ["polling"] : ["websocket"];
    const socket = this.socket = io("/session", { transports, reconnectionDelay: 500, reconnectionDelayMax: 2000 });
    this.clock = new PartyClock(socket, () => socket.connected);
    socket.on("connect", () => { this.clock.reset(); this.register(); });
    socket.on("disconnect", () => { this.registered = false; });
    socket.on("time_pong", (d) => this.clock.onPong(d));
    socket.on("session_state", (s) => this.onState(s));
    socket.on("rejected", (r) => {
      if (r.code === "forbidden") this.register();
      if (r.state) this.onState(r.state);
    });
    socket.on("error", (e) => this.player.say(e && e.message ? e.message : "The session is unavailable."));
    setInterval(() => this.clock.burst(), 30000);
    setInterval(() => { if (this.playing && !this.active) player.emit("time"); }, 250);
    setInterval(() => this.check(), CHECK_MS);
  }

  get active() { return Boolean(this.state) && this.state.active_device_id === this.deviceId; }
  get playing() { return Boolean(this.state) && this.state.state === "playing"; }
  get devices() { return this.state ? this.state.devices.filter((d) => d.online) : []; }

  register() {
    this.socket.emit("register", { device_id: this.deviceId, name: this.name }, (ack) => {
      if (!ack || !ack.ok) { this.player.say((ack && ack.message) || "Could not join the session."); return; }
      this.registered = true;
      this.rev = Math.max(this.rev, ack.rev);
      this.clock.heard(ack.server_ms);
      this.clock.burst();
      this.pump();
    });
  }

  // The session's position (ms): the active device's element while it plays the current track, else
  // the projection.
  positionMs() {
    const slot = this.player.active;
    if (this.active && slot.entry && slot.entry === this.queue.current() && slot.ready) return slot.el.currentTime * 1000;
    return this.state ? roomPosition(this.state, this.clock.serverNow(), this.state.duration_ms) : 0;
  }

  durationMs() {
    const el = this.player.element;
    if (this.state && this.state.duration_ms) return this.state.duration_ms;
    return this.player.active.entry && isFinite(el.duration) ? el.duration * 1000 : 0;
  }

  // ---- commands
  send(action, data = {}) {
    this.sentAny = true;
    return new Promise((resolve) => { this.pending.push({ action, data, resolve, retried: false }); this.pump(); });
  }

  pump() {
    if (this.sending || !this.registered || !this.pending.length) return;
    const item = this.pending[0];
    this.sending = true;
    this.socket.emit("command", { action: item.action, rev: this.rev, event_id: eventId(), ...item.data }, (ack) => {
      this.sending = false;
      if (ack && typeof ack.rev === "number") this.rev = Math.max(this.rev, ack.rev);
      if (ack && !ack.ok && ack.code === "stale" && !item.retried) item.retried = true;  // once more, at the new rev
      else { this.pending.shift(); item.resolve(ack); }
      if (ack && !ack.ok && ack.code !== "stale") this.player.say(ack.message || "Refused.");
      this.pump();
    });
  }

  toggle() {
    if (this.playing) {
      return this.send("pause", this.active ? { position_ms: Math.round(this.positionMs()) } : {});
    }
    return this.queue.current() ? this.send("play") : null;
  }

  next() { return this.send("next"); }
  previous() { return this.send("previous"); }
  seek(seconds) { if (isFinite(seconds)) this.send("seek", { position_ms: Math.max(0, Math.round(seconds * 1000)) }); }
  setDevice(deviceId) { return this.send("set_device", { device_id: deviceId }); }

  // Change the local queue with `change()`, then send it as the session's queue.
  change(change) {
    const before = this.queue.current(), position = before ? Math.round(this.positionMs()) : 0;
    change();
    const ids = this.queue.list().map((e) => e.track.id), index = Math.max(0, this.queue.index);
    this.queue.list().forEach((e) => this.tracks.set(e.track.id, e.track));
    this.player.emit("queue");
    this.player.emit("track");
    const s = this.state;
    if (s && sameIds(ids, s.queue) && (s.index === null || s.index === index)) return Promise.resolve(null);
    const keep = before && before === this.queue.current();
    return this.send("set_queue", { track_ids: ids, index, position_ms: keep ? position : 0 });
  }

  async playTracks(tracks, start, shuffle) {
    this.change(() => { if (shuffle) this.queue.setShuffle(true); this.queue.playAlbum(tracks, start); });
    if (!this.playing || !this.state || this.state.index !== this.queue.index) await this.send("play");
  }

  repeatChanged() { if (this.active) this.player.preloadNext(); }

  // ---- states
  async onState(s) {
    if (!s || typeof s.rev !== "number") return;
    if (this.state && s.rev < this.state.rev) return;
    this.clock.heard(s.server_ms);
    this.rev = Math.max(this.rev, s.rev);
    const number = ++this.shown;
    await this.mirror(s);
    if (number !== this.shown) return;
    this.state = s;
    this.apply();
    this.dispatchEvent(new CustomEvent("state", { detail: s }));
  }

  // Make the local queue the session's: the same entries kept where the track ids agree.
  async mirror(s) {
    const queue = this.queue;
    const ids = queue.list().map((e) => e.track.id);
    if (!sameIds(ids, s.queue)) {
      await this.fetchTracks(s.queue.filter((id) => !this.tracks.has(id)));
      const spare = queue.list();
      queue.entries = s.queue.map((id) => {
        const i = spare.findIndex((e) => e.track.id === id);
        if (i >= 0) return spare.splice(i, 1)[0];
        const track = this.tracks.get(id) || { id, title: "Track " + id, artists: [], media_file_id: null };
        return queue.wrap([track])[0];
      });
      if (queue.shuffle) queue.unshuffled = queue.entries.slice();
      queue.index = s.index === null ? -1 : s.index;
      this.player.emit("queue");
    } else {
      queue.index = s.index === null ? -1 : s.index;
    }
  }

  async fetchTracks(ids) {
    for (let i = 0; i < ids.length; i += IDS_PER_REQUEST) {
      const part = ids.slice(i, i + IDS_PER_REQUEST);
      const response = await fetch("/api/library/tracks?per_page=" + IDS_PER_REQUEST + "&ids=" + part.join(","),
                                   { credentials: "same-origin" }).catch(() => null);
      if (!response || !response.ok) continue;
      (await response.json()).items.forEach((t) => this.tracks.set(t.id, t));
    }
  }

  // Carry out the state: the active device sounds, the others are silent.
  apply() {
    const s = this.state, player = this.player, entry = this.queue.current();
    clearTimeout(this.startTimer);
    if (!entry || s.state === "stopped" || !this.active) {
      if (player.active.entry || player.idle.entry) player.stop();
      else { player.emit("track"); player.emit("state"); }
      return;
    }
    const slot = player.active, el = slot.el;
    const target = () => roomPosition(s, this.clock.serverNow(), s.duration_ms);
    const wait = () => (s.state === "playing" ? Math.min(2000, Math.max(0, s.anchor_server_ms - this.clock.serverNow())) : 0);
    if (slot.entry === entry && slot.ready) {
      if (s.state === "paused") {
        el.pause();
        if (Math.abs(el.currentTime * 1000 - s.position_ms) > 50) seekElement(el, s.position_ms / 1000);
      } else if (el.paused) {
        seekElement(el, seekAim(target(), this.seekLatency) / 1000);
        this.startTimer = setTimeout(() => player.start(slot, false), wait());
      } else if (Math.abs(el.currentTime * 1000 - target()) > RESEEK_MS) {
        seekElement(el, target() / 1000);
      }
      player.emit("state");
      player.preloadNext();
      return;
    }
    const old = slot.el, leftMs = (old.duration - old.currentTime) * 1000;
    if (s.state === "playing" && player.idle.entry === entry && player.idle.ready && slot.entry && !old.paused
        && leftMs < HAND_OVER_MS) {
      player.emit("track");  // the server's end came first: the gapless hand-over plays it (music-player.js)
      return;
    }
    this.fresh = s.state === "playing";
    player.playEntry(entry, { at: () => (s.state === "playing" ? seekAim(target(), this.seekLatency) : target()),
                              play: s.state === "playing", wait });
  }

  // The active device against the projection, as a party member's video (sync-rules.js): a small
  // drift by playbackRate, a large one by a seek; a start at a position teaches its latency.
  check() {
    const s = this.state, slot = this.player.active, el = slot.el;
    if (!this.active || !s || s.state !== "playing" || !slot.ready || el.paused || slot.entry !== this.queue.current()
        || this.clock.serverNow() < s.anchor_server_ms) {
      if (this.correcting !== null) el.playbackRate = 1;
      this.correcting = null;
      return;
    }
    const target = roomPosition(s, this.clock.serverNow(), s.duration_ms);
    if (this.fresh && el.currentTime > 0) {
      this.fresh = false;
      this.seekLatency = Math.max(0, learnSeekLatency(this.seekLatency, this.seekLatency + target - el.currentTime * 1000));
    }
    const r = correction({ currentMs: el.currentTime * 1000, targetMs: target, durationMs: s.duration_ms,
                           canPlay: el.readyState >= 3, correctingSinceMs: this.correcting, nowMs: performance.now() });
    this.correcting = r.correctingSinceMs;
    if (r.action === "rate") el.playbackRate = r.rate;
    else if (r.action === "stop") el.playbackRate = 1;
    else if (r.action === "seek") { el.playbackRate = 1; seekElement(el, seekAim(target, this.seekLatency) / 1000); }
  }

  // A track that was not ready (a transcode) is asked for again: play what the session says.
  retry() { this.player.clear(this.player.active); this.apply(); }
}
