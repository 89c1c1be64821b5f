// Watch-party sync engine: keeps this member's <video> on the room's shared timeline, carrying out the
// pure rules of sync-rules.js (the room's position, drift correction) with the clock of party-clock.js.
//
//   const engine = new PartySync(video, socket, {onState, onDriftReport, onRejected, onMuted, onNotice});
//   engine.joined(ack)          after each successful `join` ack (also after a reconnect)
//   engine.left()               on `disconnect`
//   engine.setSource(id)        after the page attached media file `id` to the video (src or hls.js)
//   engine.play() / pause() / seek(ms)   the UI's commands: a fresh event_id each; one at a time, the next
//                               with the rev the last one's ack gave (party-commands.js)
//   engine.targetMs()           the room's position now (ms), e.g. hls.js's startPosition
//   engine.last                 the last state received (applied or not)
//   engine.stats()              {offset_ms, rtt_ms, drift_ms, min_rate, max_rate, seeks, state, rev, ...}
//
// The clock is party-clock.js's (serverNow() = clientNow() + offset, NTP-style); the room's position
// and the drift rules are sync-rules.js's. A `state` with a lower rev than the last applied one only
// updates members and control info; a play anchored in the future: pause at position_ms, play at the anchor.
// Presence: `report {drift_ms, rtt_ms}` every 2 s. A stall (`waiting`) while the room plays that the
// engine's own seek did not cause: `buffering`, then `ready` once it can play again (a wait within 1 s
// of the engine's own play() counts only if it lasts past that second; a seek of the engine's that still
// cannot play after 4 s counts too); after joining and after a new title, `ready` once it can play at
// the room's position. A `rejected {event_id, reason, code, state}` applies its state (a guest's
// refused pause resumes in step) and calls onRejected.
import { CommandLine } from "./party-commands.js";
import { PartyClock, eventId } from "./party-clock.js";
import {
  RULES, clampPosition, clampRate, correction, isRunning, learnSeekLatency, roomPosition, seekAim, seekThreshold,
} from "./sync-rules.js";

export class PartySync {
  constructor(video, socket, options = {}) {
    this.video = video;
    this.socket = socket;
    this.options = options;
    this.room = null;          // the last applied timeline: {state, position_ms, anchor_server_ms, rate, rev, ...}
    this.last = null;          // the last state received, applied or not (members, control_mode)
    this.rev = -1;
    this.mediaFileId = null;   // the room's title (from the last applied state)
    this.sourceId = null;      // the title attached to the video by the page
    this.clock = new PartyClock(socket, () => this.isJoined && socket.connected);
    this.commands = new CommandLine();  // play/pause/seek one at a time, each with the rev of the last answer
    this.drift = null;
    this.minRate = 1;
    this.maxRate = 1;
    this.seeks = 0;
    this.seekLatency = 200;    // ms; learned
    this.seeking = null;       // the engine's seek in progress: {startedAt, running, seeked}
    this.correctingSince = null;
    this.stalled = false;      // reported buffering, ready not yet sent
    this.needReady = false;    // joined or new title: ready not yet sent
    this.isJoined = false;
    this.hold = null;          // after a local pause command: {until} (do not resume before the answer)
    this.anchorTimer = null;
    this.playPending = false;
    this.playBlockedUntil = 0;
    this.lastReadyAt = -Infinity;
    this.playedAt = -Infinity;
    this.joinedAt = -Infinity;
    this.quickSeekUsed = true;
    this.timers = [];
    this.setRate(1);
    this.listen();
  }

  // ---- clock (party-clock.js) -------------------------------------------------------------------
  clientNow() { return this.clock.clientNow(); }
  serverNow() { return this.clock.serverNow(); }
  get offset() { return this.clock.offset; }
  set offset(value) { this.clock.offset = value; }  // tests may shift the clock
  get rtt() { return this.clock.rtt; }

  // ---- connection --------------------------------------------------------------------------------
  joined(ack) {
    this.isJoined = true;
    this.memberId = ack && ack.member_id;
    this.clock.reset();        // the server may be another process now (or restarted): measure afresh
    if (ack) this.clock.heard(ack.server_ms);
    this.needReady = true;
    this.stalled = false;
    this.joinedAt = this.clientNow();
    this.quickSeekUsed = false;  // sync-rules.js seekThreshold: one quick seek per join
    this.clock.burst();
    this.checkReady();
  }

  left() {
    this.isJoined = false;
    this.hold = null;
    this.commands.clear();
    this.rev = -1;             // after a reconnect the server is authoritative again (it may have restarted)
  }

  listen() {
    const v = this.video;
    this.socket.on("time_pong", (d) => this.clock.onPong(d));
    this.socket.on("state", (s) => this.onStateMessage(s));
    this.socket.on("rejected", (r) => this.onRejectedMessage(r));
    v.addEventListener("loadedmetadata", () => this.sync());
    v.addEventListener("canplay", () => { this.finishSeek(); this.checkReady(); });
    v.addEventListener("seeked", () => { if (this.seeking) this.seeking.seeked = true; this.finishSeek(); this.checkReady(); });
    v.addEventListener("playing", () => { this.finishSeek(); this.checkReady(); });
    v.addEventListener("waiting", () => this.onWaiting(false));
    this.timers.push(setInterval(() => this.tick(), PartySync.TICK_MS));
    this.timers.push(setInterval(() => this.report(), PartySync.REPORT_MS));
    this.timers.push(setInterval(() => { if (this.isJoined) this.clock.burst(); }, PartySync.CLOCK_EVERY_MS));
  }

  destroy() {
    this.timers.forEach(clearInterval);
    clearTimeout(this.anchorTimer);
  }

  emit(event, data) {
    if (this.isJoined && this.socket.connected) this.socket.emit(event, data);
  }

  report() {
    const r = { drift_ms: this.drift === null ? 0 : Math.round(this.drift), rtt_ms: this.rtt === null ? 0 : Math.round(this.rtt) };
    this.emit("report", r);
    if (this.options.onDriftReport) this.options.onDriftReport(r);
  }

  // ---- states ------------------------------------------------------------------------------------
  onStateMessage(s) {
    if (!s || typeof s !== "object") return;
    this.last = s;
    this.clock.heard(s.server_ms);
    const applied = this.room === null || typeof s.rev !== "number" || s.rev >= this.rev;
    let titleChanged = false;
    if (applied) {
      titleChanged = s.media_file_id !== this.mediaFileId;
      if (typeof s.rev === "number" && s.rev > this.rev) this.hold = null;
      this.room = s;
      if (typeof s.rev === "number") this.rev = s.rev;
      if (titleChanged) {
        this.mediaFileId = s.media_file_id;
        this.needReady = true;
        this.stalled = false;
        this.seeking = null;
        this.correctingSince = null;
      }
      this.sync();
    }
    this.rearmReady(s);
    if (this.options.onState) this.options.onState(s, { applied, titleChanged });
  }

  // The server's word on my status wins: still `loading` or `buffering` there (a reconnect, the same file
  // queued again, a lost message) while I think I am ready: send `ready` again once I can play.
  rearmReady(s) {
    const mine = this.memberId && (s.members || []).find((m) => m.id === this.memberId);
    if (!mine || (mine.status !== "loading" && mine.status !== "buffering")) return;
    if (this.needReady || this.stalled || this.clientNow() - this.lastReadyAt < PartySync.READY_AGAIN_MS) return;
    this.needReady = true;
    this.checkReady();
  }

  onRejectedMessage(r) {
    this.hold = null;
    if (r && r.state) this.onStateMessage(r.state);
    if (this.options.onRejected) this.options.onRejected(r || {});
  }

  hasSource() {
    return this.sourceId !== null && this.sourceId === this.mediaFileId && this.video.readyState >= 1;
  }

  setSource(mediaFileId) {
    this.sourceId = mediaFileId;
    this.seeking = null;
    this.correctingSince = null;
    this.setRate(1);
    this.sync();
  }

  durationMs() {
    const d = this.room && this.room.duration_ms;
    if (typeof d === "number" && d > 0) return d;
    return isFinite(this.video.duration) && this.video.duration > 0 ? this.video.duration * 1000 : null;
  }

  targetMs() { return roomPosition(this.room, this.serverNow(), this.durationMs()); }
  running() { return isRunning(this.room, this.serverNow()); }
  currentMs() { return this.video.currentTime * 1000; }

  holding() {
    if (this.hold && this.clientNow() > this.hold.until) this.hold = null;
    return this.hold !== null;
  }

  // Puts the video where the room is now (called on every applied state and when media is ready).
  sync() {
    clearTimeout(this.anchorTimer);
    const r = this.room;
    if (!r || !this.hasSource()) return;
    const v = this.video;
    if (r.state === "playing" && !this.running()) {
      // A start anchored in the future: wait at position_ms, play exactly at the anchor.
      this.stopCorrection();
      this.pauseVideo();
      this.park();
      this.anchorTimer = setTimeout(() => this.sync(), Math.max(0, r.anchor_server_ms - this.serverNow()));
    } else if (r.state === "playing") {
      if (!this.seeking && Math.abs(this.currentMs() - this.targetMs()) > RULES.SEEK_OVER_MS) this.seekRunning();
      if (v.paused && !v.ended && !this.holding()) this.playVideo();
    } else {
      this.stopCorrection();
      this.pauseVideo();
      this.park();
    }
    this.checkReady();
  }

  // A video paused while playing resumes from where its pipeline really stopped (Chrome: up to ~100 ms
  // past the currentTime read while paused): after such a pause, always seek to the room's position;
  // otherwise when more than 30 ms away. At most twice per rev (a browser may not land exactly there).
  pauseVideo() {
    if (this.video.paused) return;
    this.video.pause();
    this.unsettled = true;
  }

  park() {
    if (this.parkRev !== this.rev) { this.parkRev = this.rev; this.parkSeeks = 0; }
    const away = Math.abs(this.currentMs() - this.room.position_ms) > RULES.DEAD_ZONE_MS;
    if (this.parkSeeks >= 2 || !(away || this.unsettled)) return;
    this.parkSeeks += 1;
    this.seekTo(this.room.position_ms, false);
  }

  // ---- seeking and rate --------------------------------------------------------------------------
  setRate(rate) {
    const r = clampRate(rate);
    this.minRate = Math.min(this.minRate, r);
    this.maxRate = Math.max(this.maxRate, r);
    if (this.video.playbackRate !== r) this.video.playbackRate = r;
  }

  stopCorrection() { this.correctingSince = null; this.setRate(1); }

  seekTo(ms, running) {
    const to = clampPosition(ms, this.durationMs());
    this.stopCorrection();
    this.seeking = { startedAt: this.clientNow(), running, seeked: false };
    this.unsettled = false;
    this.seeks += 1;
    this.drift = null;
    this.video.currentTime = to / 1000;
  }

  seekRunning() {  // aim where the room will be when the seek is over
    this.seekTo(seekAim(this.targetMs(), this.seekLatency, (this.room && this.room.rate) || 1), true);
  }

  // The engine's seek is over once `seeked` fired and, while the room plays, the video plays again.
  finishSeek() {
    const s = this.seeking;
    if (!s || !s.seeked || this.video.seeking) return;
    if (this.running()) {
      if (this.video.paused || this.video.readyState < 3) return;
      if (s.running) this.seekLatency = learnSeekLatency(this.seekLatency, this.clientNow() - s.startedAt);
    }
    this.seeking = null;
  }

  playVideo() {
    const v = this.video;
    if (this.playPending || this.clientNow() < this.playBlockedUntil) return;
    this.playPending = true;
    this.unsettled = false;
    this.playedAt = this.clientNow();
    const attempt = v.play();
    if (!attempt || !attempt.then) { this.playPending = false; return; }
    attempt.then(() => { this.playPending = false; }).catch((error) => {
      this.playPending = false;
      if (error && error.name === "NotAllowedError" && !v.muted) {
        v.muted = true;  // autoplay with sound is blocked until the user interacts with the page
        if (this.options.onMuted) this.options.onMuted();
        this.playVideo();
      } else if (error && error.name === "NotAllowedError") {
        this.playBlockedUntil = this.clientNow() + 2000;
      }
    });
  }

  // ---- the 200 ms loop ---------------------------------------------------------------------------
  tick() {
    const v = this.video;
    this.send(this.commands.expire(this.clientNow()));
    if (!this.room || !this.hasSource()) { this.drift = null; return; }
    const s = this.seeking;
    if (s && this.running() && !this.stalled && !this.needReady && v.readyState < 3
        && this.clientNow() - s.startedAt > PartySync.SEEK_STALL_MS) {
      this.stall();  // our own seek has turned into a real stall
    }
    this.finishSeek();
    this.checkReady();
    if (!this.running()) {
      this.drift = null;
      if (this.room.state !== "playing" && !v.paused) this.pauseVideo();
      else if (v.paused && !this.seeking && !v.seeking) this.park();
      return;
    }
    if (this.seeking || v.ended) { this.drift = null; return; }
    if (v.paused) {
      this.drift = null;
      if (!this.holding()) this.playVideo();
      return;
    }
    const decision = correction({
      currentMs: this.currentMs(), targetMs: this.targetMs(), durationMs: this.durationMs(), canPlay: v.readyState >= 3,
      correctingSinceMs: this.correctingSince, nowMs: this.clientNow(), roomRate: this.room.rate || 1,
      seekOverMs: seekThreshold({
        sinceJoinMs: this.clientNow() - this.joinedAt, clockSamples: this.clock.samples.length,
        quickSeekUsed: this.quickSeekUsed,
      }),
    });
    this.drift = decision.drift;
    if (decision.action === "stop") this.stopCorrection();
    else if (decision.action === "seek") { this.quickSeekUsed = true; this.seekRunning(); }
    else if (decision.action === "rate") {
      this.correctingSince = decision.correctingSinceMs;
      this.setRate(decision.rate);
    }
  }

  // ---- buffering and readiness -------------------------------------------------------------------
  onWaiting(late) {
    if (!this.running() || this.seeking || this.needReady || this.stalled || !this.hasSource()) return;
    const since = this.clientNow() - this.playedAt;
    if (!late && since < PartySync.PLAY_GRACE_MS) {
      // Our own play() (at an anchor, or resuming) often waits a moment for its first frames: a stall only if it lasts.
      setTimeout(() => { if (this.video.readyState < 3 && !this.video.paused) this.onWaiting(true); },
                 PartySync.PLAY_GRACE_MS - since);
      return;
    }
    this.stall();
  }

  stall() {
    this.stalled = true;
    this.emit("buffering", { position_ms: Math.round(this.currentMs()) });
  }

  // ready {position_ms} once the video can play at the room's position (after join, a new title or a stall).
  checkReady() {
    if ((!this.needReady && !this.stalled) || !this.isJoined || !this.socket.connected || !this.hasSource()) return;
    const v = this.video;
    if (v.seeking || v.readyState < 3) return;
    if (Math.abs(this.currentMs() - this.targetMs()) > RULES.SEEK_OVER_MS) return;
    this.needReady = false;
    this.stalled = false;
    this.lastReadyAt = this.clientNow();
    this.emit("ready", { position_ms: Math.round(this.currentMs()) });
  }

  // ---- commands ----------------------------------------------------------------------------------
  command(event, data) {
    if (!this.isJoined || !this.socket.connected) {
      if (this.options.onNotice) this.options.onNotice("Not connected to the party: try again in a moment.");
      return null;
    }
    const command = { event, data, eventId: eventId() };
    if (this.commands.submit(command, this.clientNow())) this.send(command);
    return command.eventId;
  }

  send(command) {  // its ack `{ok, rev}` lets the next waiting command go (party-commands.js)
    if (command === null || !this.isJoined || !this.socket.connected) return;
    const payload = Object.assign({}, command.data, { rev: this.commands.revision(this.rev), event_id: command.eventId });
    const answered = (ack) => this.send(this.commands.answered(command.eventId, ack && ack.rev, this.clientNow()));
    this.socket.emit(command.event, payload, answered);
  }

  play() { return this.command("play", {}); }

  pause() {
    const position = this.hasSource() ? this.currentMs() : this.targetMs();
    const allowed = !this.options.canControl || this.options.canControl();  // else it comes back rejected
    if (allowed && this.hasSource() && this.isJoined && this.socket.connected) {
      this.hold = { until: this.clientNow() + Math.max(2000, 3 * (this.rtt || 0)) };
      this.pauseVideo();  // at once; the room's state confirms it (or the rejection resumes it)
    }
    return this.command("pause", { position_ms: Math.max(0, Math.round(position)) });
  }

  seek(positionMs) {
    return this.command("seek", { position_ms: Math.round(clampPosition(positionMs, this.durationMs())) });
  }

  stats() {
    const round = (x) => (x === null ? null : Math.round(x * 10) / 10);
    return {
      offset_ms: round(this.offset), rtt_ms: round(this.rtt), drift_ms: round(this.drift),
      min_rate: this.minRate, max_rate: this.maxRate, seeks: this.seeks,
      state: this.room ? this.room.state : null, rev: this.rev,
      rate: this.video.playbackRate, seek_latency_ms: Math.round(this.seekLatency),
      offset_bounds_ms: this.clock.bounds && this.clock.bounds.map(round), min_rtt_ms: round(this.clock.minRtt),
      media_file_id: this.mediaFileId, joined: this.isJoined, stalled: this.stalled, need_ready: this.needReady,
    };
  }
}

Object.assign(PartySync, {
  CLOCK_EVERY_MS: 30000,                                                        // clock bursts
  TICK_MS: 200, REPORT_MS: 2000,                                                // loops
  SEEK_STALL_MS: 4000, READY_AGAIN_MS: 2000, PLAY_GRACE_MS: 1000,               // stalls and readiness
});
