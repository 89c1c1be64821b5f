// The music player bar (templates/music.html): the current track (cover, title, artists, album), its
// controls (shuffle, previous, play/pause, next, repeat off/all/one, seek, volume) and the queue panel
// (play an entry, move it up or down, remove it). It shows what the player (music-player.js) and the
// queue (music-queue.js) hold, and asks them to change; every control is a labelled button or slider.
// Keyboard (outside text fields): space play/pause, shift+left/right previous/next.
import { el, formatDuration } from "./dom.js";
import { artistUrl } from "./music-routes.js";

const $ = (id) => document.getElementById(id);
const REPEAT_LABELS = { off: "Repeat: off", all: "Repeat: all", one: "Repeat: one" };

function artistLinks(artists) {
  const span = document.createDocumentFragment();
  (artists || []).forEach((a, i) => {
    if (i) span.append(", ");
    span.append(el("a", { href: artistUrl(a.id) }, a.name));
  });
  return span;
}

export class MusicBar {
  constructor(player, queue) {
    this.player = player;
    this.queue = queue;
    this.bar = $("player-bar");
    this.seek = $("pb-seek");
    this.seeking = false;
    this.wire();
    player.addEventListener("track", () => { this.showTrack(); this.renderQueue(); });
    player.addEventListener("state", () => this.showState());
    player.addEventListener("time", () => this.showTime());
    player.addEventListener("queue", () => this.renderQueue());
    player.addEventListener("status", (e) => { $("pb-status").textContent = e.detail.text; });
    $("pb-volume").value = String(player.volume);
    this.showRepeat();
  }

  wire() {
    const player = this.player, queue = this.queue;
    $("pb-play").addEventListener("click", () => player.toggle());
    $("pb-next").addEventListener("click", () => player.next());
    $("pb-prev").addEventListener("click", () => player.previous());
    $("pb-shuffle").addEventListener("click", () => {
      queue.setShuffle(!queue.shuffle);
      this.showShuffle();
      player.sync();
    });
    $("pb-repeat").addEventListener("click", () => { queue.cycleRepeat(); this.showRepeat(); player.sync(); });
    $("pb-volume").addEventListener("input", (e) => player.setVolume(Number(e.target.value)));
    this.seek.addEventListener("input", () => { this.seeking = true; $("pb-time").textContent = formatDuration(this.seek.value * 1000); });
    this.seek.addEventListener("change", () => { this.seeking = false; player.seek(Number(this.seek.value)); });
    const toggle = $("pb-queue-toggle");
    toggle.addEventListener("click", () => {
      const open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", String(open));
      $("pb-queue").hidden = !open;
    });
    $("pb-queue-list").addEventListener("click", (e) => this.queueAction(e));
    document.addEventListener("keydown", (e) => {
      if (e.target.closest("input, select, textarea, button, a") || !this.queue.current()) return;
      if (e.key === " ") player.toggle();
      else if (e.shiftKey && e.key === "ArrowRight") player.next();
      else if (e.shiftKey && e.key === "ArrowLeft") player.previous();
      else return;
      e.preventDefault();
    });
  }

  showShuffle() {
    $("pb-shuffle").setAttribute("aria-pressed", String(this.queue.shuffle));
    $("pb-shuffle").classList.toggle("on", this.queue.shuffle);
  }

  showRepeat() {
    const button = $("pb-repeat"), mode = this.queue.repeat;
    button.dataset.mode = mode;
    button.setAttribute("aria-label", REPEAT_LABELS[mode]);
    button.title = REPEAT_LABELS[mode] + " (press for the next mode)";
    button.classList.toggle("on", mode !== "off");
  }

  showTrack() {
    const entry = this.queue.current();
    this.bar.hidden = !entry && this.queue.list().length === 0;
    const t = entry ? entry.track : null;
    const cover = $("pb-cover");
    cover.hidden = !(t && t.cover_url);
    if (t && t.cover_url) cover.src = t.cover_url;
    $("pb-title").textContent = t ? t.title : "Nothing playing";
    $("pb-artists").replaceChildren(artistLinks(t ? t.artists : []));
    $("pb-album").textContent = t && t.album ? "· " + t.album : "";
    this.showTime();
    this.showState();
  }

  showState() {
    const playing = this.player.playing;
    const button = $("pb-play");
    button.querySelector(".i-play").toggleAttribute("hidden", playing);
    button.querySelector(".i-pause").toggleAttribute("hidden", !playing);
    button.setAttribute("aria-label", playing ? "Pause" : "Play");
  }

  showTime() {
    const audio = this.player.element;
    const duration = isFinite(audio.duration) ? audio.duration : 0;
    const now = this.player.active.entry ? audio.currentTime : 0;
    this.seek.max = String(duration);
    if (!this.seeking) this.seek.value = String(now);
    this.seek.setAttribute("aria-valuetext", formatDuration(now * 1000) + " of " + formatDuration(duration * 1000));
    if (!this.seeking) $("pb-time").textContent = formatDuration(now * 1000);
    $("pb-duration").textContent = formatDuration(duration * 1000);
  }

  renderQueue() {
    const entries = this.queue.list(), current = this.queue.current();
    $("pb-queue-count").textContent = String(entries.length);
    $("pb-queue-empty").hidden = entries.length > 0;
    if (entries.length) this.bar.hidden = false;
    $("pb-queue-list").replaceChildren(...entries.map((entry, i) => {
      const t = entry.track, name = t.title;
      const who = (t.artists || []).map((a) => a.name).join(", ");
      return el("li", { "data-index": i, "data-track-id": t.id, "aria-current": entry === current ? "true" : null },
        el("button", { type: "button", class: "link q-play", "data-action": "play", "aria-label": "Play " + name },
           name, el("span", { class: "muted" }, who ? " · " + who : "")),
        el("span", { class: "q-tools" },
          el("button", { type: "button", class: "small-button secondary", "data-action": "up", "aria-label": "Move up: " + name,
                         disabled: i === 0 ? "" : null }, "↑"),
          el("button", { type: "button", class: "small-button secondary", "data-action": "down", "aria-label": "Move down: " + name,
                         disabled: i === entries.length - 1 ? "" : null }, "↓"),
          el("button", { type: "button", class: "small-button secondary", "data-action": "remove", "aria-label": "Remove: " + name }, "✕")));
    }));
  }

  queueAction(event) {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const i = Number(button.closest("li").dataset.index), action = button.dataset.action;
    if (action === "play") this.queue.jump(i);
    else if (action === "up") this.queue.move(i, i - 1);
    else if (action === "down") this.queue.move(i, i + 1);
    else if (action === "remove") this.queue.remove(i);
    this.player.sync();
    // keep the keyboard where it was: the same control of the entry now at that place
    const again = $("pb-queue-list").querySelector(`li[data-index="${action === "up" ? i - 1 : action === "down" ? i + 1 : i}"]`
                                                  + ` button[data-action="${action}"]`);
    if (again && !again.disabled) again.focus();
  }
}
