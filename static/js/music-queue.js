// The music player's queue (DOM-free; tested by tests/js/music-queue.test.js with `node --test`).
//
// The queue is a list of entries `{uid, track}` in play order (`list()`), and the current one. An entry
// has its own `uid`, so one track may be queued twice. Rules (Plexamp / Spotify behaviour):
// - playAlbum(tracks, start) replaces the queue with the album in album order, `start` current;
// - playNext(tracks) inserts them right after the current entry, addToQueue(tracks) appends them,
//   both in the order given (an album keeps album order);
// - shuffle on: the current entry first, every other entry in a random order; off: the order from
//   before shuffling is back (with what was added or removed meanwhile), the current one still current;
// - repeat "off" | "all" | "one": at the end of the list "all" goes back to the first entry, "one"
//   plays the same track again when it ends (a press on Next still moves on);
// - previous(positionS): within the first PREVIOUS_RESTART_S (s) of a track, the previous entry; later,
//   the same track from its start;
// - move(from, to) reorders the play order; remove(index) drops an entry, and when it was the current
//   one, the entry after it becomes current (the player plays it).
export const REPEAT_MODES = ["off", "all", "one"];
export const PREVIOUS_RESTART_S = 3;

export class MusicQueue {
  // `random`: a function giving [0, 1), Math.random by default (the tests pass a seeded one).
  constructor({ random = Math.random } = {}) {
    this.random = random;
    this.entries = [];      // play order
    this.unshuffled = null;  // the order before shuffle was turned on, kept up to date; null when off
    this.index = -1;         // the current entry's index in `entries`, -1 for none
    this.repeat = "off";
    this.nextUid = 1;
  }

  get shuffle() { return this.unshuffled !== null; }

  list() { return this.entries.slice(); }

  current() { return this.index >= 0 ? this.entries[this.index] : null; }

  wrap(tracks) { return tracks.map((track) => ({ uid: this.nextUid++, track })); }

  // Replace the queue with `tracks` (an album, in album order) and make tracks[start] current.
  playAlbum(tracks, start = 0) {
    this.entries = this.wrap(tracks);
    this.index = this.entries.length ? Math.min(Math.max(0, start), this.entries.length - 1) : -1;
    if (this.shuffle) {
      this.unshuffled = this.entries.slice();
      this.shuffleAroundCurrent();
    }
    return this.current();
  }

  // Insert `tracks` right after the current entry (at the start when there is none), in their order.
  playNext(tracks) {
    const added = this.wrap(tracks);
    const cur = this.current();
    this.entries.splice(this.index + 1, 0, ...added);
    if (this.unshuffled) {
      const at = cur ? this.unshuffled.indexOf(cur) + 1 : 0;
      this.unshuffled.splice(at, 0, ...added);
    }
    if (this.index < 0 && added.length) this.index = 0;
    return added;
  }

  // Append `tracks` at the end, in their order.
  addToQueue(tracks) {
    const added = this.wrap(tracks);
    this.entries.push(...added);
    if (this.unshuffled) this.unshuffled.push(...added);
    if (this.index < 0 && added.length) this.index = this.entries.length - added.length;
    return added;
  }

  setShuffle(on) {
    if (on === this.shuffle) return;
    if (on) {
      this.unshuffled = this.entries.slice();
      this.shuffleAroundCurrent();
    } else {
      const cur = this.current();
      this.entries = this.unshuffled;
      this.unshuffled = null;
      this.index = cur ? this.entries.indexOf(cur) : (this.entries.length ? 0 : -1);
    }
  }

  // The current entry first, the others in a random order (Fisher-Yates).
  shuffleAroundCurrent() {
    const cur = this.current();
    const rest = this.entries.filter((e) => e !== cur);
    for (let i = rest.length - 1; i > 0; i -= 1) {
      const j = Math.floor(this.random() * (i + 1));
      [rest[i], rest[j]] = [rest[j], rest[i]];
    }
    this.entries = cur ? [cur, ...rest] : rest;
    this.index = this.entries.length ? 0 : -1;
  }

  setRepeat(mode) {
    if (!REPEAT_MODES.includes(mode)) throw new Error("repeat must be one of " + REPEAT_MODES.join(", "));
    this.repeat = mode;
  }

  // off -> all -> one -> off; returns the new mode.
  cycleRepeat() {
    this.setRepeat(REPEAT_MODES[(REPEAT_MODES.indexOf(this.repeat) + 1) % REPEAT_MODES.length]);
    return this.repeat;
  }

  // The index that follows the current one: `ended` true when the track played to its end (repeat
  // "one" then keeps it), false for a press on Next. -1: nothing follows (the end, repeat off).
  followingIndex(ended) {
    if (this.index < 0) return -1;
    if (ended && this.repeat === "one") return this.index;
    if (this.index + 1 < this.entries.length) return this.index + 1;
    return this.repeat === "off" ? -1 : 0;  // "one" with Next at the end wraps, as "all" does
  }

  // The entry that plays when the current one ends (what the player preloads), or null.
  peekNext() {
    const i = this.followingIndex(true);
    return i >= 0 ? this.entries[i] : null;
  }

  // Move on: the new current entry, or null at the end (the current one stays current: press play
  // to hear it again).
  next({ ended = false } = {}) {
    const i = this.followingIndex(ended);
    if (i < 0) return null;
    this.index = i;
    return this.current();
  }

  // Previous at `positionS` (s) into the current track: `{entry, restart}`; `restart` true means
  // "the same track from 0" (past PREVIOUS_RESTART_S, or the first entry with repeat off).
  previous(positionS = 0) {
    if (this.index < 0) return { entry: null, restart: false };
    if (positionS > PREVIOUS_RESTART_S) return { entry: this.current(), restart: true };
    if (this.index > 0) this.index -= 1;
    else if (this.repeat === "all" && this.entries.length > 1) this.index = this.entries.length - 1;
    else return { entry: this.current(), restart: true };
    return { entry: this.current(), restart: false };
  }

  // Make the entry at `index` (of list()) current; returns it (null when out of range).
  jump(index) {
    if (index < 0 || index >= this.entries.length) return null;
    this.index = index;
    return this.current();
  }

  // Move the entry at `from` to `to` (indexes of list()); the current entry stays current.
  move(from, to) {
    const n = this.entries.length;
    if (from < 0 || from >= n || to < 0 || to >= n || from === to) return false;
    const cur = this.current();
    const [entry] = this.entries.splice(from, 1);
    this.entries.splice(to, 0, entry);
    this.index = cur ? this.entries.indexOf(cur) : -1;
    return true;
  }

  // Remove the entry at `index`; returns `{removed, currentChanged}`. Removing the current entry
  // makes the one after it current (with repeat "all", the first after the last; else none).
  remove(index) {
    if (index < 0 || index >= this.entries.length) return { removed: null, currentChanged: false };
    const cur = this.current();
    const [removed] = this.entries.splice(index, 1);
    if (this.unshuffled) this.unshuffled.splice(this.unshuffled.indexOf(removed), 1);
    if (removed !== cur) {
      this.index = cur ? this.entries.indexOf(cur) : -1;
      return { removed, currentChanged: false };
    }
    if (index < this.entries.length) this.index = index;
    else this.index = this.repeat === "all" && this.entries.length ? 0 : -1;
    return { removed, currentChanged: true };
  }

  clear() {
    this.entries = [];
    this.unshuffled = this.shuffle ? [] : null;
    this.index = -1;
  }
}
