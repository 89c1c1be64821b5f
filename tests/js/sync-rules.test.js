// The watch party's sync rules (static/js/sync-rules.js), with `node --test` (make test). Times in ms.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  RULES, clampPosition, clampRate, correction, isRunning, learnSeekLatency, roomPosition, seekAim, seekThreshold,
  seekableTime,
} from "../../static/js/sync-rules.js";

const T0 = 1_700_000_000_000;
const playing = { state: "playing", position_ms: 10_000, anchor_server_ms: T0, rate: 1 };

// A check of a playing video `drift` ms off a room at 60 s of a 600 s title, now at `now`.
function check(drift, extra = {}) {
  return correction({ currentMs: 60_000 + drift, targetMs: 60_000, durationMs: 600_000, canPlay: true,
                      correctingSinceMs: null, nowMs: T0, roomRate: 1, ...extra });
}

test("the room's position advances from its anchor at its rate, holds before it, and stays inside the title", () => {
  assert.equal(roomPosition(playing, T0 - 500, 600_000), 10_000);
  assert.equal(roomPosition(playing, T0 + 2_500, 600_000), 12_500);
  assert.equal(roomPosition({ ...playing, rate: 1.5 }, T0 + 2_000, 600_000), 13_000);
  assert.equal(roomPosition(playing, T0 + 10_000_000, 600_000), 600_000);
  assert.equal(roomPosition({ ...playing, state: "paused" }, T0 + 5_000, 600_000), 10_000);
  assert.equal(roomPosition({ ...playing, state: "waiting" }, T0 + 5_000, null), 10_000);
  assert.equal(roomPosition(null, T0, 600_000), 0);
});

test("a start anchored in the future is not running until its anchor, within the slack", () => {
  assert.equal(isRunning(playing, T0 - RULES.ANCHOR_SLACK_MS - 1), false);
  assert.equal(isRunning(playing, T0 - RULES.ANCHOR_SLACK_MS), true);
  assert.equal(isRunning({ ...playing, state: "paused" }, T0 + 1_000), false);
  assert.equal(isRunning(null, T0), false);
});

test("drift inside the 30 ms dead zone changes nothing", () => {
  for (const drift of [0, 29, -29]) {
    const d = check(drift);
    assert.equal(d.action, "none");
    assert.equal(d.drift, drift);
    assert.equal(d.correctingSinceMs, null);
  }
});

test("from 30 ms to 2 s the rate corrects at 1/s, a video ahead slowed and one behind sped up, within 5 %", () => {
  const ahead = check(100);
  assert.equal(ahead.action, "rate");
  assert.equal(ahead.rate, RULES.MIN_RATE);  // 1 - 0.1 s * 1/s = 0.9, clamped to 0.95
  assert.equal(check(40).rate, 0.96);
  assert.equal(ahead.correctingSinceMs, T0);
  assert.equal(check(-40).rate, 1.04);
  assert.equal(check(-31).rate, 1.031);
  for (const drift of [31, 200, 1_000, 1_999, -31, -1_999]) {
    const d = check(drift);
    assert.equal(d.action, "rate");
    assert.ok(d.rate >= RULES.MIN_RATE && d.rate <= RULES.MAX_RATE, `${drift} ms -> rate ${d.rate}`);
    assert.ok(drift > 0 ? d.rate < 1 : d.rate > 1);
  }
});

test("a correction under way keeps going below 30 ms and stops once under 15 ms", () => {
  const since = T0 - 1_000;
  const going = check(20, { correctingSinceMs: since });
  assert.deepEqual([going.action, going.correctingSinceMs], ["rate", since]);
  const settled = check(14, { correctingSinceMs: since });
  assert.deepEqual([settled.action, settled.rate, settled.correctingSinceMs], ["stop", 1, null]);
});

test("over 2 s, or a correction not settled within 10 s, is a seek", () => {
  assert.equal(check(2_001).action, "seek");
  assert.equal(check(-2_001).action, "seek");
  assert.equal(check(2_000).action, "rate");
  assert.equal(check(500, { correctingSinceMs: T0 - RULES.CORRECTION_LIMIT_MS }).action, "rate");
  assert.equal(check(500, { correctingSinceMs: T0 - RULES.CORRECTION_LIMIT_MS - 1 }).action, "seek");
});

test("nothing is corrected at the title's end or while the video cannot play", () => {
  const end = correction({ currentMs: 599_000, targetMs: 599_980, durationMs: 600_000, canPlay: true,
                           correctingSinceMs: T0 - 100, nowMs: T0, roomRate: 1 });
  assert.deepEqual([end.action, end.drift], ["stop", null]);
  const stalled = check(900, { canPlay: false, correctingSinceMs: T0 - 100 });
  assert.deepEqual([stalled.action, stalled.drift, stalled.correctingSinceMs], ["stop", 900, null]);
});

test("rates are clamped to [0.95, 1.05] and rounded to 3 decimals", () => {
  assert.equal(clampRate(0.5), RULES.MIN_RATE);
  assert.equal(clampRate(2), RULES.MAX_RATE);
  assert.equal(clampRate(1.01234), 1.012);
});

test("a seek aims past the room's position by the expected latency, which is learned and capped", () => {
  assert.equal(seekAim(30_000, 200, 1), 30_200);
  assert.equal(seekAim(30_000, 200, 1.5), 30_300);
  assert.equal(learnSeekLatency(200, 600), 400);
  assert.equal(learnSeekLatency(1_800, 10_000), RULES.MAX_SEEK_LATENCY_MS);
  assert.equal(clampPosition(-5, 600_000), 0);
  assert.equal(clampPosition(700_000, 600_000), 600_000);
  assert.equal(clampPosition(700_000, null), 700_000);
});

test("within 8 s of a join, once the clock has its first burst, one seek fixes a drift over 150 ms", () => {
  const quick = seekThreshold({ sinceJoinMs: 1_000, clockSamples: 5, quickSeekUsed: false });
  assert.equal(quick, RULES.REJOIN_SEEK_OVER_MS);
  assert.equal(check(-367, { seekOverMs: quick }).action, "seek");
  assert.equal(check(-140, { seekOverMs: quick }).action, "rate");
  // the same drift later, before the clock is measured, or after this join's quick seek: a rate correction
  for (const later of [
    { sinceJoinMs: RULES.REJOIN_WINDOW_MS, clockSamples: 8, quickSeekUsed: false },
    { sinceJoinMs: 1_000, clockSamples: 4, quickSeekUsed: false },
    { sinceJoinMs: 1_000, clockSamples: 8, quickSeekUsed: true },
    { sinceJoinMs: Infinity, clockSamples: 8, quickSeekUsed: true },
  ]) {
    const threshold = seekThreshold(later);
    assert.equal(threshold, RULES.SEEK_OVER_MS);
    assert.equal(check(-367, { seekOverMs: threshold }).action, "rate");
  }
});

test("a seek stays 50 ms before the element's end (Chromium fails one into the last frame), and at or after 0", () => {
  assert.equal(seekableTime(0.2, 0.06161), 0.06161 - RULES.END_GUARD_S);  // a 60 ms MP3, a start projected past its end
  assert.equal(seekableTime(12.5, 240), 12.5);
  assert.equal(seekableTime(-0.3, 240), 0);
  assert.equal(seekableTime(0.2, 0.03), 0);  // shorter than the guard: from its start
  assert.equal(seekableTime(42, NaN), 42);  // no metadata yet
  assert.equal(seekableTime(42, Infinity), 42);  // a live playlist
});
