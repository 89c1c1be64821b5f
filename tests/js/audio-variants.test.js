// The audio tracks of an audio-only HLS title (static/js/audio-variants.js), with `node --test`.
import assert from "node:assert/strict";
import { test } from "node:test";

import { audioVariants, startVariant } from "../../static/js/audio-variants.js";

const base = "http://x/hls/7/tok/";
const TRACKS = [{ key: "a0", name: "English", language: "en", default: false },
                { key: "a1", name: "French", language: "fr", default: true }];

test("a title with a picture has no audio variants", () => {
  assert.equal(audioVariants([{ height: 720, uri: base + "720p/index.m3u8" }], TRACKS), null);
  assert.equal(audioVariants([], TRACKS), null);
});

test("audio-only levels become the tracks, in file order, named from /playback, whatever hls.js's order", () => {
  // hls.js sorts levels by bit rate: the French variant (listed first in the master) may come second
  const levels = [{ height: 0, uri: base + "audio_0/index.m3u8" }, { height: 0, url: [base + "audio_1/index.m3u8"] }];
  const variants = audioVariants(levels, TRACKS);
  assert.deepEqual(variants.map((v) => [v.level, v.n, v.name, v.isDefault]), [[0, 0, "English", false], [1, 1, "French", true]]);
  assert.equal(startVariant(variants), 1);
  const swapped = audioVariants([levels[1], levels[0]], TRACKS);
  assert.deepEqual(swapped.map((v) => [v.level, v.name]), [[1, "English"], [0, "French"]]);
  assert.equal(startVariant(swapped), 0);
});

test("an unnamed track or a URL of another shape still gets a name, and no default means the first", () => {
  const variants = audioVariants([{ height: 0, url: base + "audio_3/index.m3u8?t=1" }, { height: 0, uri: "odd.m3u8" }]);
  assert.deepEqual(variants.map((v) => [v.n, v.name]), [[1, "Track 2"], [3, "Track 4"]]);
  assert.equal(startVariant(variants), 1);
});
