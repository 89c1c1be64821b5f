// Watch-party sync rules, pure: no DOM, no socket, no clock of its own (every time is a parameter, in
// ms). party-sync.js feeds them the video's position and the clock, and carries out what they decide;
// tests/js/sync-rules.test.js checks them with `node --test`.
//
// The room's timeline (a `state` event): while playing, the position at server time t is
// position_ms + max(0, t - anchor_server_ms) * rate, clamped to the title; paused or waiting, position_ms.
//
// Drift = the video's position - the room's, judged every 200 ms while playing:
//   |drift| < DEAD_ZONE_MS (30 ms): nothing (rate 1);
//   30 ms .. SEEK_OVER_MS (2 s): playbackRate = clamp(rate - drift_s * GAIN, 0.95, 1.05) until |drift| <
//     SETTLED_MS (15 ms), then 1. GAIN = 1/s: drift decays like e^(-t / 1 s) once under 50 ms (a 100 ms
//     drift is gone in ~2.5 s), at most 50 ms per s above that (pitch-preserved 5 %, barely noticeable;
//     Jellyfin's 1.5x at 500 ms stuttered: FIELD-NOTES.md);
//   over 2 s, or a rate correction not under 15 ms within CORRECTION_LIMIT_MS (10 s): seek to the room's
//     position plus the expected seek latency (learned from earlier seeks).
// Right after a join or a reconnect (the member has just had a break anyway), for REJOIN_WINDOW_MS (8 s)
// and once the clock has its first burst of samples, one seek fixes a drift over REJOIN_SEEK_OVER_MS
// (150 ms) instead of seconds of rate correction (a 400 ms drift takes ~8 s at 5 %); one such seek per
// join, so a mislearned seek latency cannot loop (jellyfin#8785). Jellyfin seeks from 400 ms, Snapcast
// resyncs hard beyond 500 ms (FIELD-NOTES.md).
// playbackRate is never set outside [MIN_RATE, MAX_RATE]. Near the title's end, and while the video
// cannot play (stalled), nothing is corrected.

export const RULES = Object.freeze({
  DEAD_ZONE_MS: 30, SETTLED_MS: 15, SEEK_OVER_MS: 2000, CORRECTION_LIMIT_MS: 10000,
  GAIN: 1.0, MIN_RATE: 0.95, MAX_RATE: 1.05,
  ANCHOR_SLACK_MS: 2,         // a start anchored this close counts as reached (timer jitter)
  MAX_SEEK_LATENCY_MS: 2000,  // the learned seek latency never grows past this
  REJOIN_SEEK_OVER_MS: 150, REJOIN_WINDOW_MS: 8000,
  REJOIN_CLOCK_SAMPLES: 5,    // the clock's first burst (party-clock.js: 5 pings 100 ms apart)
  END_GUARD_S: 0.05,          // a seek stops this far (s) before the element's end: see seekableTime
});

// `ms` within [0, durationMs] (no upper bound when the duration is unknown: null or 0).
export function clampPosition(ms, durationMs) {
  return Math.max(0, durationMs ? Math.min(ms, durationMs) : ms);
}

// The room's position (ms) at server time `serverNowMs`; 0 before any state.
export function roomPosition(room, serverNowMs, durationMs) {
  if (!room) return 0;
  let position = room.position_ms || 0;
  if (room.state === "playing") position += Math.max(0, serverNowMs - room.anchor_server_ms) * (room.rate || 1);
  return clampPosition(position, durationMs);
}

// Whether the room plays at `serverNowMs`: playing, and its anchor reached.
export function isRunning(room, serverNowMs) {
  return Boolean(room && room.state === "playing" && serverNowMs >= room.anchor_server_ms - RULES.ANCHOR_SLACK_MS);
}

// A playbackRate as it may be set: within [MIN_RATE, MAX_RATE], to 3 decimals.
export function clampRate(rate) {
  return Math.min(RULES.MAX_RATE, Math.max(RULES.MIN_RATE, Math.round(rate * 1000) / 1000));
}

// The drift (ms) over which a check seeks: REJOIN_SEEK_OVER_MS within REJOIN_WINDOW_MS of a join
// (`sinceJoinMs`), once the clock holds REJOIN_CLOCK_SAMPLES samples and while this join's one quick
// seek is unused (`quickSeekUsed`); SEEK_OVER_MS otherwise.
export function seekThreshold({ sinceJoinMs, clockSamples, quickSeekUsed }) {
  const quick = !quickSeekUsed && sinceJoinMs >= 0 && sinceJoinMs < RULES.REJOIN_WINDOW_MS
    && clockSamples >= RULES.REJOIN_CLOCK_SAMPLES;
  return quick ? RULES.REJOIN_SEEK_OVER_MS : RULES.SEEK_OVER_MS;
}

// What to do about the drift of a playing video, once per check:
//   currentMs, targetMs: the video's and the room's positions (ms); durationMs: the title's (or null);
//   canPlay: the video has data to play (readyState >= 3); correctingSinceMs: when the current rate
//   correction began (null: none); nowMs: the client's clock; roomRate: the room's rate; seekOverMs: the
//   drift over which to seek (seekThreshold).
// Returns {drift, action, rate, correctingSinceMs}: drift in ms (null near the end); action "none"
// (leave the rate as it is), "stop" (rate back to 1, no correction), "seek" (to seekAim) or "rate" (set
// `rate`); correctingSinceMs is what the caller keeps for the next check.
export function correction({ currentMs, targetMs, durationMs, canPlay, correctingSinceMs, nowMs, roomRate = 1,
                             seekOverMs = RULES.SEEK_OVER_MS }) {
  const done = (drift, action) => ({ drift, action, rate: 1, correctingSinceMs: null });
  if (durationMs && targetMs >= durationMs - RULES.DEAD_ZONE_MS) return done(null, "stop");  // at the end
  const drift = currentMs - targetMs;
  if (!canPlay) return done(drift, "stop");  // stalled: judged again once it plays
  const size = Math.abs(drift);
  if (size > seekOverMs) return done(drift, "seek");
  let since = correctingSinceMs;
  if (since !== null && since !== undefined) {
    if (size < RULES.SETTLED_MS) return done(drift, "stop");
    if (nowMs - since > RULES.CORRECTION_LIMIT_MS) return done(drift, "seek");
  } else if (size < RULES.DEAD_ZONE_MS) {
    return { drift, action: "none", rate: null, correctingSinceMs: null };
  } else {
    since = nowMs;
  }
  return { drift, action: "rate", rate: clampRate(roomRate - (drift / 1000) * RULES.GAIN), correctingSinceMs: since };
}

// Where a seek of a playing video aims (ms): the room's position plus what the seek itself will take.
export function seekAim(targetMs, seekLatencyMs, roomRate = 1) {
  return targetMs + seekLatencyMs * roomRate;
}

// The expected seek latency (ms) after a seek that took `tookMs`: the mean of the old value and the new
// one, never above MAX_SEEK_LATENCY_MS.
export function learnSeekLatency(previousMs, tookMs) {
  return Math.min(RULES.MAX_SEEK_LATENCY_MS, 0.5 * previousMs + 0.5 * tookMs);
}

// Where an element at `seconds` can be sought to, given its `durationS` (NaN or Infinity: unknown):
// at least 0 and at most END_GUARD_S (50 ms: two MP3 frames, two AAC frames) before the end, so that
// the last moments play out and `ended` comes as usual. Chromium's demuxers fail a seek into a file's
// last frame ("PIPELINE_ERROR_READ: demuxer seek failed", seen on the 60 ms MP3s of music-tags), and a
// projected position may pass the end of a track shorter than a start's latency.
export function seekableTime(seconds, durationS) {
  const bounded = Number.isFinite(durationS) && durationS > 0 ? Math.min(seconds, durationS - RULES.END_GUARD_S) : seconds;
  return Math.max(0, bounded);
}
