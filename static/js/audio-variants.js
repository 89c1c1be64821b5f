// The audio tracks of an audio-only HLS title (DOM-free, tested by tests/js/audio-variants.test.js).
// Such a master has no EXT-X-MEDIA audio: each track is a variant of its own, `audio_<n>/index.m3u8`
// (mediaserver/transcode/playlist.py), and hls.js plays no alternate audio beside audio-only variants.
// So the audio menu lists hls.js's levels, and the one chosen is pinned (hls.currentLevel): hls.js's
// bit-rate switching would otherwise move between languages. `n` is the index into /playback's `audio`.

const FOLDER = /\/audio_(\d+)\/[^/]*$/;

function levelUri(level) {
  const url = level.uri || level.url;
  return String(Array.isArray(url) ? url[0] : url || "").split("?")[0];
}

// null unless every level is audio only (no picture height); else one entry a level, in the file's
// track order: {level: hls.js's index, n, name, language, isDefault}. `tracks`: /playback's `audio`.
export function audioVariants(levels, tracks = []) {
  if (!levels || !levels.length || levels.some((level) => level.height)) return null;
  return levels.map((level, index) => {
    const found = FOLDER.exec(levelUri(level));
    const n = found ? Number(found[1]) : index;
    const track = tracks[n] || {};
    return { level: index, n, name: track.name || "Track " + (n + 1), language: track.language || null,
             isDefault: Boolean(track.default) };
  }).sort((a, b) => a.n - b.n);
}

// The level to start with: the default track's, else the first track's.
export function startVariant(variants) {
  return (variants.find((v) => v.isDefault) || variants[0]).level;
}
