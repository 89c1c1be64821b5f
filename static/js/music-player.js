// The music player's sound (the DOM side of the queue in music-queue.js): two <audio> elements, one
// playing the current track and the other holding the next one, loaded in advance, so that an album
// plays on with no audible gap (docs/PLAYBACK.md, "The music player").
//
// A track plays as `GET /api/media-files/<media_file_id>/playback` says: `kind: "file"` (direct play:
// the file's URL in <audio src>, preload="auto") or `kind: "hls"` (the master playlist through the
// vendored hls.js, or the browser's own HLS); a 409 while the transcode is queued or running is said in
// the status line and asked again every RETRY_MS; a file that cannot play is said and skipped. HLS
// stream tokens are renewed as player-core.js does; a direct file's Range requests are honoured with an
// expired token for the logged-in browser that started them.
//
// The gap. The next track's element is loaded (`canplay`) while the current one plays; when the
// current one has the lead (ms) of wall time left, the next one's play() is called, the lead being the
// measured time from a play() of a loaded element to its first advancing currentTime (learned at
// every hand-over, for direct files and HLS apart; LEAD_START_MS before the first). In the last FINE_WINDOW_MS of a track this is checked every few ms. The old element
// plays to its end, is emptied and loads the track after. Without a loaded next track, `ended` starts it.
// With a session (`controls`, music-session.js) the session says what plays and where; this module
// keeps the sound, the preloading and the gapless hand-over.
// Events (an EventTarget): "track" (the current entry changed), "state" (played or paused), "time",
// "status" ({text}). Test hook: `transitions`, one {latency_ms, lead_ms, early} per track change.
import { errorKind, reportPlaybackError, scheduleRenewal, tokenOf, tokenRewriter } from "./player-core.js";
import { seekableTime } from "./sync-rules.js";

// The first guesses of a loaded element's start latency (ms), by the playback answer's `kind`: an MSE
// (hls.js) element measured 23-35 ms in headless Chromium, a file 5-25 ms.
export const LEAD_START_MS = { file: 15, hls: 30 };
export const LEAD_MAX_MS = 150;
export const FINE_WINDOW_MS = 500;  // from this much time left (ms), check every few ms
export const RETRY_MS = 2000;       // a transcode that is not ready yet: ask again after (ms)
export const SKIP_AFTER_MS = 1500;  // a track that cannot play: the next one after (ms)
const VOLUME_KEY = "mediaserver.music.volume";

async function fetchPlayback(mediaFileId) {
  const response = await fetch("/api/media-files/" + mediaFileId + "/playback", { credentials: "same-origin" });
  if (response.status === 401) location.href = "/login?next=" + encodeURIComponent(location.pathname);
  const body = await response.json().catch(() => ({}));
  return { ok: response.ok, status: response.status, body };
}

// Resolves once `el` can play (HAVE_FUTURE_DATA), or fails (an `error` event).
function canPlay(el) {
  if (el.readyState >= 3) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok) => () => { el.removeEventListener("canplay", yes); el.removeEventListener("error", no); resolve(ok); };
    const yes = done(true), no = done(false);
    el.addEventListener("canplay", yes);
    el.addEventListener("error", no);
  });
}

const trackName = (entry) => "“" + entry.track.title + "”";

// Seek `el` to `seconds`, kept inside what it can seek to (sync-rules.js: seekableTime).
const seekElement = (el, seconds) => { el.currentTime = seekableTime(seconds, el.duration); };

export class MusicPlayer extends EventTarget {
  constructor(elements, queue) {
    super();
    this.queue = queue;
    this.slots = elements.map((el) => ({ el, entry: null, kind: null, hls: null, token: null, ready: false, loaded: null,
                                        generation: 0, renewal: null, retiring: false }));
    this.activeIndex = 0;
    this.leads = { ...LEAD_START_MS };  // learned per kind
    this.transitions = [];
    this.watchTimer = null;
    this.retryTimer = null;
    this.controls = null;  // the playback session (music-session.js): what the controls ask
    this.wanted = null;    // the latest playEntry call: an older one that resolves late is dropped
    const saved = Number(localStorage.getItem(VOLUME_KEY));
    this.setVolume(localStorage.getItem(VOLUME_KEY) !== null && isFinite(saved) ? saved : 1);
    this.slots.forEach((slot) => this.listen(slot));
    this.mediaSession();
  }

  get active() { return this.slots[this.activeIndex]; }
  get idle() { return this.slots[1 - this.activeIndex]; }
  get element() { return this.active.el; }
  get playing() { return Boolean(this.active.entry) && !this.active.el.paused; }

  emit(type, detail) { this.dispatchEvent(new CustomEvent(type, { detail })); }
  say(text) { this.emit("status", { text }); }

  listen(slot) {
    const el = slot.el;
    const mine = () => slot === this.active && slot.entry !== null;
    ["playing", "pause"].forEach((t) => el.addEventListener(t, () => { if (mine()) { this.emit("state"); this.watch(); } }));
    ["timeupdate", "durationchange", "seeked", "ratechange"].forEach((t) => el.addEventListener(t, () => {
      if (mine()) { this.emit("time"); this.watch(); }
    }));
    el.addEventListener("ended", () => { if (mine()) this.onEnded(); });
    el.addEventListener("error", () => {
      if (!slot.entry || !el.error) return;
      reportPlaybackError({ media_file_id: slot.entry.track.media_file_id, kind: errorKind(null, el.error),
                            message: el.error.message });
      if (mine()) this.cannotPlay(slot.entry, el.error.message || "the browser could not play it");
    });
  }

  // Empty a slot: no source, no hls.js, no renewal; a load still in flight is forgotten.
  clear(slot) {
    slot.generation += 1;
    clearTimeout(slot.renewal);
    if (slot.hls) slot.hls.destroy();
    Object.assign(slot, { entry: null, kind: null, hls: null, token: null, ready: false, loaded: null, retiring: false });
    slot.el.pause();
    slot.el.removeAttribute("src");
    slot.el.load();
  }

  // Load `entry` into `slot`; `slot.loaded` resolves to {ok, status, body} ({stale} when superseded).
  load(slot, entry) {
    this.clear(slot);
    slot.entry = entry;
    const generation = slot.generation;
    const stale = () => slot.generation !== generation;
    slot.loaded = (async () => {
      let answer;
      try { answer = await fetchPlayback(entry.track.media_file_id); }
      catch (e) { answer = { ok: false, status: 0, body: { message: e.message } }; }
      if (stale()) return { stale: true };
      if (!answer.ok) return answer;
      this.attach(slot, answer.body, stale);
      const ok = await canPlay(slot.el);
      if (stale()) return { stale: true };
      slot.ready = ok;
      return ok ? answer : { ok: false, status: 0, body: { message: "the browser could not load it" } };
    })();
    return slot.loaded;
  }

  attach(slot, body, stale) {
    const el = slot.el;
    slot.kind = body.kind === "file" ? "file" : "hls";
    if (body.kind === "file") {
      el.src = body.url;
      el.load();
    } else if (window.Hls && Hls.isSupported()) {
      slot.token = tokenOf(body.url);
      const renew = (ttlS) => {
        slot.renewal = scheduleRenewal(ttlS, async () => {
          const again = await fetchPlayback(slot.entry.track.media_file_id).catch(() => null);
          if (stale()) return;
          if (again && again.ok && again.body.url) slot.token = tokenOf(again.body.url);
          renew(again && again.ok ? again.body.ttl_s : 5);
        });
      };
      renew(body.ttl_s);
      slot.hls = new Hls({ startPosition: 0, xhrSetup: tokenRewriter(() => slot.token) });
      slot.hls.on(Hls.Events.ERROR, (_e, data) => {
        if (!data.fatal || stale()) return;
        reportPlaybackError({ media_file_id: body.media_file_id, kind: errorKind(data), message: data.details });
        if (slot === this.active) this.cannotPlay(slot.entry, data.details);
        else this.clear(slot);
      });
      slot.hls.loadSource(body.url);
      slot.hls.attachMedia(el);
    } else {
      el.src = body.url;  // Safari's own HLS
      el.load();
    }
  }

  // Play the queue's current entry `entry`: from its start, or (the session, music-session.js) from
  // `at()` ms, after `wait()` ms, and only loaded (paused) when `play` is false.
  async playEntry(entry, { at = null, play = true, wait = null } = {}) {
    clearTimeout(this.retryTimer);
    const old = this.active, wanted = this.wanted = {};
    let slot;
    if (this.idle.entry === entry && !this.idle.retiring) {
      this.activeIndex = 1 - this.activeIndex;
      slot = this.active;
      this.clear(old);
    } else if (old.entry === entry && old.loaded) {
      if (old.ready && !at) old.el.currentTime = 0;  // repeat one without a second copy loaded
      slot = old;
    } else {
      slot = old;
      this.load(slot, entry);
    }
    this.emit("track");
    const answer = await slot.loaded;
    if (answer.stale || slot.entry !== entry || slot !== this.active || wanted !== this.wanted) return;
    if (!answer.ok) { this.notReady(entry, answer); return; }
    this.say(answer.body.method === "direct" ? "" : (answer.body.status === "live" ? "Playing while it is prepared" : ""));
    if (at) {
      const ms = at();
      if (Math.abs(slot.el.currentTime * 1000 - ms) > 40) seekElement(slot.el, ms / 1000);
    }
    if (!play) slot.el.pause();
    else if (wait && wait() > 0) setTimeout(() => { if (wanted === this.wanted && slot === this.active) this.start(slot, false); }, wait());
    else this.start(slot, false);
    this.emit("state");
    this.preloadNext();
  }

  // play() on `slot`, and measure how long until its currentTime advances (ms): that is the lead.
  start(slot, early) {
    const el = slot.el, from = el.currentTime, loaded = el.readyState >= 3, t0 = performance.now();
    el.play().catch((e) => {
      if (e.name === "NotAllowedError") this.say("Press play to start: the browser blocked playing by itself.");
      this.emit("state");
    });
    const generation = slot.generation;
    const poll = () => {
      if (slot.generation !== generation || el.paused) return;
      if (el.currentTime === from) { setTimeout(poll, 0); return; }
      const latency = performance.now() - t0;
      // learned from hand-overs only: a first start also opens the audio output, which a hand-over,
      // with the old track still sounding, never waits for
      const kind = slot.kind;
      if (loaded && early) this.leads[kind] = Math.min(LEAD_MAX_MS, 0.5 * this.leads[kind] + 0.5 * latency);
      this.transitions.push({ latency_ms: latency, lead_ms: this.leads[kind], early, kind });
    };
    poll();
  }

  notReady(entry, answer) {
    const body = answer.body || {};
    if (answer.status === 409 && ["queued", "running"].includes(body.status)) {
      const t = body.transcode || {};
      this.say("Preparing " + trackName(entry) + " for your browser: " + Math.round(t.progress || 0) + " %");
      this.retryTimer = setTimeout(() => { if (this.queue.current() === entry) this.reload(entry); }, RETRY_MS);
    } else {
      this.cannotPlay(entry, body.message || "HTTP " + answer.status);
    }
  }

  reload(entry) {
    if (this.controls && this.controls.retry) { this.controls.retry(); return; }
    if (this.active.entry === entry) this.clear(this.active);
    this.playEntry(entry);
  }

  cannotPlay(entry, message) {
    this.say("Cannot play " + trackName(entry) + ": " + message + ". Skipping it.");
    this.clear(this.active);
    this.retryTimer = setTimeout(() => {
      if (this.queue.current() !== entry) return;
      if (this.controls) { this.controls.next(); return; }  // the session moves on
      const next = this.queue.next();
      if (next && next !== entry) this.playEntry(next);
    }, SKIP_AFTER_MS);
  }

  // Load the entry after the current one into the idle element (unless it holds it already).
  preloadNext() {
    const next = this.following(), idle = this.idle;
    if (idle.retiring || idle.entry === next) return;
    if (!next) { if (idle.entry) this.clear(idle); return; }
    this.load(idle, next).then((answer) => {
      if (answer.stale) return;
      if (answer.ok) { this.watch(); return; }
      this.clear(idle);  // not ready yet (a transcode): tried again when it is current
    });
  }

  // The entry to play when the current one ends: the queue's next, or its current one when the session
  // has moved on already (its state came before this element's end).
  following() {
    const current = this.queue.current();
    return current && current !== this.active.entry && this.active.entry ? current : this.queue.peekNext();
  }

  // Start the next track its lead (ms) before the current one ends (see the header).
  watch() {
    clearTimeout(this.watchTimer);
    const slot = this.active, el = slot.el, idle = this.idle;
    if (!slot.entry || el.paused || !isFinite(el.duration) || idle.retiring) return;
    const next = this.following();
    if (!next || idle.entry !== next || !idle.ready) return;
    const leftMs = (el.duration - el.currentTime) * 1000 / (el.playbackRate || 1);
    if (leftMs <= this.leads[idle.kind]) { this.handOver(); return; }
    this.watchTimer = setTimeout(() => this.watch(), leftMs > FINE_WINDOW_MS ? leftMs - FINE_WINDOW_MS : 0);
  }

  handOver() {
    const old = this.active, next = this.idle;
    if (this.queue.current() === old.entry) this.queue.next({ ended: true });  // else the session moved on already
    this.activeIndex = 1 - this.activeIndex;
    this.start(next, true);  // loaded at 0: no seek, which would add its own delay
    old.retiring = true;
    const retire = () => {
      clearTimeout(timer);
      old.el.removeEventListener("ended", retire);
      if (!old.retiring) return;
      this.clear(old);
      this.preloadNext();
    };
    const timer = setTimeout(retire, Math.max(0, (old.el.duration - old.el.currentTime) * 1000) + 500);
    old.el.addEventListener("ended", retire);
    this.emit("track");
    this.emit("state");
  }

  onEnded() {
    const entry = this.queue.current() === this.active.entry ? this.queue.next({ ended: true }) : this.queue.current();
    if (entry) this.playEntry(entry);
    else { this.emit("state"); this.say("End of the queue."); }
  }

  stop() {
    this.slots.forEach((slot) => this.clear(slot));
    this.emit("track");
    this.emit("state");
  }

  toggle() {
    const el = this.active.el;
    if (!this.active.entry) { if (this.queue.current()) this.playEntry(this.queue.current()); return; }
    if (el.paused) { if (el.ended) el.currentTime = 0; el.play().catch(() => {}); } else el.pause();
  }

  next() {
    const entry = this.queue.next();
    if (entry) this.playEntry(entry);
    else this.say("End of the queue.");
  }

  previous() {
    const { entry, restart } = this.queue.previous(this.active.entry ? this.active.el.currentTime : 0);
    if (!entry) return;
    if (restart && this.active.entry === entry) this.seek(0);
    else this.playEntry(entry);
  }

  seek(seconds) {
    const el = this.active.el;
    if (this.active.entry && isFinite(seconds)) seekElement(el, seconds);
  }

  // Volume 0..1 on both elements, kept in localStorage.
  setVolume(volume) {
    this.volume = Math.max(0, Math.min(1, volume));
    this.slots.forEach((slot) => { slot.el.volume = this.volume; });
    localStorage.setItem(VOLUME_KEY, String(this.volume));
  }

  // The Media Session (lock screen, media keys): the current track's metadata and the controls.
  mediaSession() {
    if (!("mediaSession" in navigator)) return;
    const session = navigator.mediaSession;
    const c = () => this.controls || this;  // the session's controls once there is one (music-session.js)
    const handlers = { play: () => c().toggle(), pause: () => c().toggle(), previoustrack: () => c().previous(),
                       nexttrack: () => c().next(), seekto: (d) => c().seek(d.seekTime) };
    Object.entries(handlers).forEach(([action, handler]) => {
      try { session.setActionHandler(action, handler); } catch { /* an action this browser lacks */ }
    });
    this.addEventListener("track", () => {
      const entry = this.queue.current();
      if (!entry || !window.MediaMetadata) { session.metadata = null; return; }
      const t = entry.track;
      session.metadata = new MediaMetadata({ title: t.title, artist: (t.artists || []).map((a) => a.name).join(", "),
                                             album: t.album || "", artwork: t.cover_url ? [{ src: t.cover_url }] : [] });
    });
    this.addEventListener("state", () => { session.playbackState = (this.controls || this).playing ? "playing" : "paused"; });
  }
}
