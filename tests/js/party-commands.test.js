// The order of a member's play/pause/seek commands (static/js/party-commands.js), with `node --test`.
// Times in ms.
import assert from "node:assert/strict";
import { test } from "node:test";

import { ANSWER_WITHIN_MS, CommandLine } from "../../static/js/party-commands.js";

let n = 0;
const cmd = (event, data = {}) => ({ event, data, eventId: `e${++n}` });

test("a command goes at once when none is in flight, and the next waits for its answer", () => {
  const line = new CommandLine();
  const seek = cmd("seek", { position_ms: 5000 });
  const play = cmd("play");
  assert.equal(line.submit(seek, 0), true);
  assert.equal(line.submit(play, 10), false);
  assert.equal(line.answered(seek.eventId, 4, 40), play);
  assert.equal(line.revision(3), 4, "the next goes with the answer's rev, not the older state's");
  assert.equal(line.answered(play.eventId, 5, 80), null);
  assert.equal(line.submit(cmd("pause"), 90), true, "nothing in flight again");
});

test("the rev sent is the newer of the answer's and the last state's", () => {
  const line = new CommandLine();
  assert.equal(line.revision(7), 7, "no answer yet");
  const seek = cmd("seek");
  line.submit(seek, 0);
  line.answered(seek.eventId, 8, 20);
  assert.equal(line.revision(7), 8);
  assert.equal(line.revision(9), 9, "another member's command since");
});

test("of the waiting commands the last seek and the last play or pause win, in the order given", () => {
  const line = new CommandLine();
  const first = cmd("seek", { position_ms: 1000 });
  line.submit(first, 0);
  const seeks = [cmd("seek", { position_ms: 11_000 }), cmd("seek", { position_ms: 21_000 })];
  const pause = cmd("pause"); const play = cmd("play");
  for (const c of [...seeks, pause, play]) assert.equal(line.submit(c, 5), false);
  assert.equal(line.answered(first.eventId, 1, 30), seeks[1]);
  assert.equal(line.answered(seeks[1].eventId, 2, 60), play);
  assert.equal(line.answered(play.eventId, 3, 90), null);
});

test("an answer to another command, or to none in flight, sends nothing", () => {
  const line = new CommandLine();
  assert.equal(line.answered("nobody", 3, 0), null);
  const seek = cmd("seek");
  line.submit(seek, 0);
  line.submit(cmd("play"), 1);
  assert.equal(line.answered("someone-else", 3, 2), null);
  assert.equal(line.revision(0), 0, "that answer's rev is not taken");
});

test("a refusal without a rev (no party, the server's error) still lets the next one go", () => {
  const line = new CommandLine();
  const seek = cmd("seek"); const play = cmd("play");
  line.submit(seek, 0);
  line.submit(play, 1);
  assert.equal(line.answered(seek.eventId, undefined, 20), play);
  assert.equal(line.revision(2), 2);
});

test("a command never answered lets the next go after ANSWER_WITHIN_MS", () => {
  const line = new CommandLine();
  const seek = cmd("seek"); const play = cmd("play");
  line.submit(seek, 1000);
  line.submit(play, 1001);
  assert.equal(line.expire(1000 + ANSWER_WITHIN_MS - 1), null);
  assert.equal(line.expire(1000 + ANSWER_WITHIN_MS), play);
  assert.equal(line.expire(1000 + 2 * ANSWER_WITHIN_MS), null, "the play unanswered too, and nothing waits");
  assert.equal(line.submit(cmd("pause"), 1000 + 2 * ANSWER_WITHIN_MS + 1), true);
});

test("a lost connection forgets what is in flight, what waits and the answers' rev", () => {
  const line = new CommandLine();
  const seek = cmd("seek");
  line.submit(seek, 0);
  line.answered(seek.eventId, 12, 10);
  line.submit(cmd("seek"), 20);
  line.submit(cmd("play"), 21);
  line.clear();
  assert.equal(line.revision(-1), -1);
  assert.equal(line.submit(cmd("play"), 30), true);
});
