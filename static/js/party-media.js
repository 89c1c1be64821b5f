// Watch party: loads the party's current title into the page's <video>, like player.js does for one title.
// `GET /api/parties/<code>/playback?media_file_id=N` answers like /api/media-files/<id>/playback (docs/API.md):
// - kind "file" (direct play): the file in <video src>, text subtitles as <track> elements;
// - kind "hls": hls.js with quality, audio-track and subtitle menus (local choices of each member);
// - 409 while nothing is playable yet: the progress is shown and the URL asked again every 3 s.
// Stream tokens are short-lived: at 80 % of a token's life the same URL is fetched again and hls.js's
// xhrSetup rewrites every later request to carry the fresh token; a direct-play file that fails
// (an expired token on a Range request) is reattached with a fresh URL.
// A music track's answer carries `track {title, artists, album, cover_url}`: onTrack(track) lets the page
// show the audio layout (cover, track) instead of the picture; onTrack(null) for a video.
// The page calls media.load(mediaFileId, startMs) when the room's title changes; onAttached(id) says
// the video now holds that title (the sync engine then puts it on the room's timeline); media.retryNow()
// cuts short the wait of a failed load (back online, socket reconnected).
// The menus, tracks, token rewrite and renewal timer are player-core.js's, shared with player.js.
import {
  chooseAudio, chooseSubtitles, errorKind, followHls, listUnconvertible, option, reportPlaybackError, scheduleRenewal,
  showFileTracks, tokenOf, tokenRewriter,
} from "./player-core.js";

export class PartyMedia {
  constructor(video, { playbackUrl, party, quality, audio, subtitles, say, onAttached, onTrack }) {
    this.video = video;
    this.playbackUrl = playbackUrl;
    this.party = party;  // the invite code: a guest's error reports name it (reportPlaybackError)
    this.menus = { quality, audio, subtitles };
    this.say = say || (() => {});
    this.onAttached = onAttached || (() => {});
    this.onTrack = onTrack || (() => {});  // the playback answer's `track` (a music track), or null
    this.generation = 0;
    this.hls = null;
    this.token = null;
    this.wanted = null;
    this.kind = null;
    this.renewTimer = null;
    this.retryTimer = null;
    this.retryNow = () => {};  // cut a pending retry's wait short (the page calls it when back online)
    this.lastReattach = 0;
    quality.addEventListener("change", () => { if (this.hls) this.hls.currentLevel = Number(quality.value); });
    audio.addEventListener("change", () => { if (this.hls) chooseAudio(this.hls, Number(audio.value)); });
    subtitles.addEventListener("change", () => chooseSubtitles(this.video, this.hls, Number(subtitles.value)));
    video.addEventListener("error", () => this.onVideoError());
  }

  async fetchPlayback() {
    const url = this.playbackUrl + "?media_file_id=" + encodeURIComponent(this.wanted);  // not whatever plays by then
    const response = await fetch(url, { credentials: "same-origin", cache: "no-store" });
    const body = await response.json().catch(() => ({}));
    return { ok: response.ok, status: response.status, body };
  }

  // Load media file `id` (the room's title), starting near `startMs` (a function giving the room's position).
  load(id, startMs) {
    this.generation += 1;
    this.wanted = id;
    this.startMs = startMs || (() => 0);
    this.teardown();
    if (id === null || id === undefined) { this.say("Nothing to play yet: add a title to the queue."); return; }
    this.say("Loading…");
    this.attempt(this.generation, 0);
  }

  async attempt(generation, tries) {
    let result;
    try {
      result = await this.fetchPlayback();
    } catch (e) {
      result = { ok: false, status: 0, body: { message: e.message } };
    }
    if (generation !== this.generation) return;
    const body = result.body || {};
    const again = (ms) => {
      this.retryNow = () => { clearTimeout(this.retryTimer); this.retryNow = () => {}; this.attempt(generation, tries + 1); };
      this.retryTimer = setTimeout(() => this.retryNow(), ms);
    };
    if (result.ok && body.media_file_id !== undefined && body.media_file_id !== this.wanted) {
      again(1000);  // the party moved on while we asked (or our state is older): ask again
      return;
    }
    if (!result.ok) {
      if (result.status === 409 && body.status !== "failed" && body.status !== "unreadable") {
        const t = body.transcode || {};
        this.say("Preparing this title for your browser: " + (t.status || body.status || "queued") + ", "
                 + Math.round(t.progress || 0) + " %");
        again(3000);
      } else if (result.status === 0 || result.status >= 500) {
        this.say("Could not load the title (" + (body.message || "HTTP " + result.status) + "); retrying…");
        again(Math.min(3000, 1000 * (tries + 1)));  // and at once when the network or the socket is back
      } else {
        this.say(body.message || "This title cannot be played (HTTP " + result.status + ").");
      }
      return;
    }
    this.attach(body, generation);
  }

  attach(body, generation) {
    this.token = tokenOf(body.url);
    this.kind = body.kind;
    this.scheduleRenewal(body.ttl_s || 60, generation);
    listUnconvertible(body.subtitles);
    this.onTrack(body.track || null);
    this.say(body.method === "direct" ? "Direct play" : body.status === "live" ? "Playing while it is prepared" : "");
    if (body.kind === "file") {
      this.playFile(body);
    } else if (window.Hls && Hls.isSupported()) {
      this.playHls(body);
    } else if (this.video.canPlayType("application/vnd.apple.mpegurl")) {
      this.menus.quality.closest("label").hidden = true;
      this.video.src = body.url;
    } else {
      this.say("This browser cannot play HLS.");
      return;
    }
    this.onAttached(body.media_file_id);
  }

  scheduleRenewal(ttlS, generation) {
    clearTimeout(this.renewTimer);
    this.renewTimer = scheduleRenewal(ttlS, async () => {
      if (generation !== this.generation) return;
      try {
        const { ok, body } = await this.fetchPlayback();
        if (generation !== this.generation) return;
        if (ok && body.media_file_id === this.wanted && body.url) {
          this.token = tokenOf(body.url) || this.token;
          this.scheduleRenewal(body.ttl_s || 60, generation);
        } else if (ok) {
          this.scheduleRenewal(5, generation);  // another title now: the room's state will reload us
        } else {
          throw new Error(body.message || "HTTP error");
        }
      } catch (e) {
        this.say("Could not renew the stream: " + e.message);
        this.scheduleRenewal(5, generation);
      }
    });
  }

  teardown() {
    clearTimeout(this.renewTimer);
    clearTimeout(this.retryTimer);
    this.retryNow = () => {};
    if (this.hls) { this.hls.destroy(); this.hls = null; window.mediaserverHls = null; }
    const v = this.video;
    v.querySelectorAll("track").forEach((t) => t.remove());
    if (v.getAttribute("src") || v.currentSrc) { v.removeAttribute("src"); v.load(); }
    for (const menu of [this.menus.audio, this.menus.subtitles]) {
      menu.innerHTML = "";
      menu.closest("label").hidden = true;
    }
    this.menus.quality.innerHTML = "";
    option(this.menus.quality, -1, "Auto", true);
    this.menus.quality.closest("label").hidden = false;
    const note = document.getElementById("tracks-note");
    if (note) note.textContent = "";
  }

  playHls(body) {
    const hls = new Hls({ startPosition: Math.max(0, this.startMs() / 1000), xhrSetup: tokenRewriter(() => this.token) });
    this.hls = hls;
    let recoveries = 0;
    followHls(hls, this.menus, this.say, body.audio);
    hls.on(Hls.Events.ERROR, (_e, data) => {
      if (!data.fatal) return;
      this.report(errorKind(data), data.details);
      recoveries += 1;
      if (recoveries > 5) { this.say("Playback error: " + data.details); return; }
      if (data.type === Hls.ErrorTypes.NETWORK_ERROR) setTimeout(() => { if (this.hls === hls) hls.startLoad(); }, 1000);
      else if (data.type === Hls.ErrorTypes.MEDIA_ERROR) hls.recoverMediaError();
      else this.say("Playback error: " + data.details);
    });
    hls.loadSource(body.url);
    hls.attachMedia(this.video);
    window.mediaserverHls = hls;
  }

  playFile(body) {
    showFileTracks(this.video, this.menus, body.subtitles);
    this.video.src = body.url;
  }

  onVideoError() {
    const error = this.video.error;
    if (!error || this.wanted === null) return;
    // A direct-play file whose token expired fails on its next Range request: reattach with a fresh URL
    // (at most every 10 s); the sync engine puts it back on the room's timeline.
    if (this.kind === "file" && Date.now() - this.lastReattach > 10000) {
      this.lastReattach = Date.now();
      this.say("Reconnecting to the stream…");
      this.load(this.wanted, this.startMs);
      return;
    }
    this.say("The browser could not play this file" + (error.message ? ": " + error.message : "") + ".");
    this.report(errorKind(null, error), error.message);
  }

  report(kind, message) {
    reportPlaybackError({ media_file_id: this.wanted, kind, message, party: this.party });
  }
}
