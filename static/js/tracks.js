// Text subtitles of a directly played file as <track> elements, shared by player.js and party-media.js.
// addTextTracks(video, subtitles) adds one <track> per convertible subtitle that has a URL (from the
// playback API's `subtitles`), showing the first one when it is the default; returns those subtitles.
"use strict";

function addTextTracks(video, subtitles) {
  const usable = (subtitles || []).filter((t) => t.convertible && t.url);
  usable.forEach((t, i) => {
    const track = document.createElement("track");
    track.kind = "subtitles";
    track.label = t.name;
    if (t.language) track.srclang = t.language;
    track.src = t.url;
    video.appendChild(track);
    track.track.mode = i === 0 && t.default ? "showing" : "hidden";
  });
  return usable;
}
