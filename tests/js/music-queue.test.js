// The music queue's rules (static/js/music-queue.js), with `node --test` (make test). Positions in s.
import assert from "node:assert/strict";
import { test } from "node:test";

import { MusicQueue, PREVIOUS_RESTART_S } from "../../static/js/music-queue.js";

const album = (name, n) => Array.from({ length: n }, (_, i) => ({ id: name + (i + 1), title: name + " " + (i + 1) }));
const ids = (q) => q.list().map((e) => e.track.id);
const currentId = (q) => (q.current() ? q.current().track.id : null);

// A seeded generator (mulberry32): the same shuffle every run.
function seeded(seed) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test("play album replaces the queue, in album order, from the chosen track", () => {
  const q = new MusicQueue();
  q.playAlbum(album("a", 3));
  q.playAlbum(album("b", 4), 2);
  assert.deepEqual(ids(q), ["b1", "b2", "b3", "b4"]);
  assert.equal(currentId(q), "b3");
  assert.equal(new MusicQueue().playAlbum([]), null);
});

test("play next inserts after the current entry, in the order given", () => {
  const q = new MusicQueue();
  q.playAlbum(album("a", 3), 1);
  q.playNext(album("b", 2));
  assert.deepEqual(ids(q), ["a1", "a2", "b1", "b2", "a3"]);
  assert.equal(currentId(q), "a2");
  assert.equal(q.next().track.id, "b1");
});

test("add to queue appends a whole album in album order; into an empty queue it becomes current", () => {
  const q = new MusicQueue();
  q.addToQueue(album("a", 2));
  assert.equal(currentId(q), "a1");
  q.addToQueue(album("b", 3));
  assert.deepEqual(ids(q), ["a1", "a2", "b1", "b2", "b3"]);
  assert.equal(currentId(q), "a1");
});

test("one track queued twice is two entries", () => {
  const q = new MusicQueue();
  const [t] = album("a", 1);
  q.addToQueue([t]);
  q.addToQueue([t]);
  const [x, y] = q.list();
  assert.notEqual(x.uid, y.uid);
  q.remove(1);
  assert.deepEqual(ids(q), ["a1"]);
  assert.equal(q.list()[0].uid, x.uid);
});

test("next walks the queue; at the end repeat off stops, repeat all wraps", () => {
  const q = new MusicQueue();
  q.playAlbum(album("a", 2));
  assert.equal(q.next().track.id, "a2");
  assert.equal(q.peekNext(), null);
  assert.equal(q.next({ ended: true }), null);
  assert.equal(currentId(q), "a2");
  q.setRepeat("all");
  assert.equal(q.peekNext().track.id, "a1");
  assert.equal(q.next({ ended: true }).track.id, "a1");
});

test("repeat one plays the track again when it ends, but Next moves on", () => {
  const q = new MusicQueue();
  q.playAlbum(album("a", 2));
  q.setRepeat("one");
  assert.equal(q.peekNext().track.id, "a1");
  assert.equal(q.next({ ended: true }).track.id, "a1");
  assert.equal(q.next().track.id, "a2");
  assert.equal(q.next().track.id, "a1");  // Next at the end wraps
});

test("repeat cycles off, all, one", () => {
  const q = new MusicQueue();
  assert.deepEqual([q.cycleRepeat(), q.cycleRepeat(), q.cycleRepeat()], ["all", "one", "off"]);
  assert.throws(() => q.setRepeat("sometimes"));
});

test("previous within the first 3 s goes back, later it restarts the track", () => {
  const q = new MusicQueue();
  q.playAlbum(album("a", 3), 2);
  assert.deepEqual(q.previous(PREVIOUS_RESTART_S + 0.5), { entry: q.current(), restart: true });
  assert.equal(currentId(q), "a3");
  const back = q.previous(1);
  assert.equal(back.restart, false);
  assert.equal(back.entry.track.id, "a2");
  assert.equal(q.previous(PREVIOUS_RESTART_S).entry.track.id, "a1");  // exactly 3 s still goes back
});

test("previous on the first entry restarts it, or wraps to the last with repeat all", () => {
  const q = new MusicQueue();
  q.playAlbum(album("a", 3));
  assert.deepEqual(q.previous(0), { entry: q.current(), restart: true });
  q.setRepeat("all");
  assert.equal(q.previous(0).entry.track.id, "a3");
  assert.equal(new MusicQueue().previous(0).entry, null);
});

test("shuffle keeps the current track current and first, and plays every other once", () => {
  const q = new MusicQueue({ random: seeded(7) });
  q.playAlbum(album("a", 8), 3);
  q.setShuffle(true);
  assert.equal(q.shuffle, true);
  assert.equal(currentId(q), "a4");
  assert.equal(q.list()[0].track.id, "a4");
  assert.deepEqual([...ids(q)].sort(), album("a", 8).map((t) => t.id).sort());
  assert.notDeepEqual(ids(q), ["a4", "a1", "a2", "a3", "a5", "a6", "a7", "a8"]);
  const played = [currentId(q)];
  while (q.next()) played.push(currentId(q));
  assert.equal(new Set(played).size, 8);
});

test("shuffle off restores the album order with the current track still current", () => {
  const q = new MusicQueue({ random: seeded(3) });
  q.playAlbum(album("a", 6), 1);
  q.setShuffle(true);
  q.next();
  q.next();
  const playing = currentId(q);
  q.setShuffle(false);
  assert.deepEqual(ids(q), ["a1", "a2", "a3", "a4", "a5", "a6"]);
  assert.equal(currentId(q), playing);
});

test("while shuffled, added and removed entries are kept in the order restored", () => {
  const q = new MusicQueue({ random: seeded(11) });
  q.playAlbum(album("a", 4));
  q.setShuffle(true);
  q.addToQueue(album("b", 2));
  assert.deepEqual(ids(q).slice(-2), ["b1", "b2"]);
  q.playNext(album("c", 1));
  assert.equal(q.list()[q.index + 1].track.id, "c1");
  q.remove(ids(q).indexOf("a3"));
  q.setShuffle(false);
  assert.deepEqual(ids(q), ["a1", "c1", "a2", "a4", "b1", "b2"]);
});

test("play album while shuffle is on starts at the chosen track and shuffles the rest", () => {
  const q = new MusicQueue({ random: seeded(5) });
  q.setShuffle(true);
  q.playAlbum(album("a", 5), 2);
  assert.equal(currentId(q), "a3");
  assert.equal(q.index, 0);
  q.setShuffle(false);
  assert.deepEqual(ids(q), ["a1", "a2", "a3", "a4", "a5"]);
  assert.equal(q.index, 2);
});

test("move reorders the queue and the current entry stays current", () => {
  const q = new MusicQueue();
  q.playAlbum(album("a", 4), 1);
  assert.equal(q.move(3, 0), true);
  assert.deepEqual(ids(q), ["a4", "a1", "a2", "a3"]);
  assert.equal(currentId(q), "a2");
  q.move(2, 3);  // the current one itself
  assert.deepEqual(ids(q), ["a4", "a1", "a3", "a2"]);
  assert.equal(currentId(q), "a2");
  assert.equal(q.move(0, 9), false);
  assert.equal(q.move(1, 1), false);
});

test("removing an entry before or after the current one keeps the current one", () => {
  const q = new MusicQueue();
  q.playAlbum(album("a", 4), 2);
  assert.deepEqual(q.remove(0).currentChanged, false);
  assert.equal(currentId(q), "a3");
  q.remove(2);
  assert.deepEqual(ids(q), ["a2", "a3"]);
  assert.equal(currentId(q), "a3");
  assert.equal(q.remove(5).removed, null);
});

test("removing the current entry makes the next one current; the last one ends the queue (or wraps)", () => {
  const q = new MusicQueue();
  q.playAlbum(album("a", 3), 1);
  const { removed, currentChanged } = q.remove(1);
  assert.equal(removed.track.id, "a2");
  assert.equal(currentChanged, true);
  assert.equal(currentId(q), "a3");
  q.remove(1);
  assert.equal(q.current(), null);
  q.playAlbum(album("b", 2), 1);
  q.setRepeat("all");
  q.remove(1);
  assert.equal(currentId(q), "b1");
});

test("jump makes any entry current; clear empties the queue", () => {
  const q = new MusicQueue();
  q.playAlbum(album("a", 3));
  assert.equal(q.jump(2).track.id, "a3");
  assert.equal(q.jump(3), null);
  q.clear();
  assert.deepEqual(q.list(), []);
  assert.equal(q.current(), null);
  assert.equal(q.next(), null);
});
