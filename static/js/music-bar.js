// The music player bar (templates/music.html): the current track (cover, title, artists, album), its
// controls (shuffle, previous, play/pause, next, repeat off/all/one, seek, volume) and the queue panel
// (play an entry, move it up or down, remove it). It shows what the player (music-player.js) and the
// queue (music-queue.js) hold, and asks the playback session (music-session.js) to change them: the
// bar is a view of the session, the same on every device; the Devices menu lists the online devices,
// the active one marked, and moves the sound to the one chosen; "Resume where you stopped" shows a
// paused session found on load. Every control is a labelled button or slider.
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
  constructor(player, queue, session) {
    this.player = player;
    this.queue = queue;
    this.session = session;
    this.bar = $("player-bar");
    this.seek = $("pb-seek");
    this.seeking = false;
    this.wire();
    player.addEventListener("track", () => { this.showTrack(); this.renderQueue(); });
    player.addEventListener("state", () => this.showState());
    player.addEventListener("time", () => this.showTime());
    player.addEventListener("queue", () => this.renderQueue());
    player.addEventListener("status", (e) => { $("pb-status").textContent = e.detail.text; });
    session.addEventListener("state", () => { this.showTrack(); this.renderDevices(); });
    $("pb-volume").value = String(player.volume);
    this.showRepeat();
  }

  wire() {
    const player = this.player, queue = this.queue, session = this.session;
    $("pb-play").addEventListener("click", () => session.toggle());
    $("pb-resume").addEventListener("click", () => session.toggle());
    $("pb-next").addEventListener("click", () => session.next());
    $("pb-prev").addEventListener("click", () => session.previous());
    $("pb-shuffle").addEventListener("click", () => {
      session.change(() => queue.setShuffle(!queue.shuffle));
      this.showShuffle();
    });
    $("pb-repeat").addEventListener("click", () => { queue.cycleRepeat(); this.showRepeat(); session.repeatChanged(); });
    $("pb-volume").addEventListener("input", (e) => player.setVolume(Number(e.target.value)));
    this.seek.addEventListener("input", () => { this.seeking = true; $("pb-time").textContent = formatDuration(this.seek.value * 1000); });
    this.seek.addEventListener("change", () => { this.seeking = false; session.seek(Number(this.seek.value)); });
    [["pb-queue-toggle", "pb-queue"], ["pb-devices-toggle", "pb-devices"]].forEach(([toggleId, panelId]) => {
      const toggle = $(toggleId);
      toggle.addEventListener("click", () => {
        const open = toggle.getAttribute("aria-expanded") !== "true";
        toggle.setAttribute("aria-expanded", String(open));
        $(panelId).hidden = !open;
      });
    });
    $("pb-devices-list").addEventListener("click", (e) => {
      const button = e.target.closest("button[data-device]");
      if (button) session.setDevice(button.dataset.device);
    });
    $("pb-queue-list").addEventListener("click", (e) => this.queueAction(e));
    document.addEventListener("keydown", (e) => {
      if (e.target.closest("input, select, textarea, button, a") || !this.queue.current()) return;
      if (e.key === " ") session.toggle();
      else if (e.shiftKey && e.key === "ArrowRight") session.next();
      else if (e.shiftKey && e.key === "ArrowLeft") session.previous();
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
    const session = this.session, playing = session.playing;
    $("pb-resume").hidden = playing || session.sentAny || !this.queue.current();
    const button = $("pb-play");
    button.querySelector(".i-play").toggleAttribute("hidden", playing);
    button.querySelector(".i-pause").toggleAttribute("hidden", !playing);
    button.setAttribute("aria-label", playing ? "Pause" : "Play");
  }

  showTime() {
    const duration = this.session.durationMs() / 1000;
    const now = this.queue.current() ? this.session.positionMs() / 1000 : 0;
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
    this.session.change(() => {
      if (action === "play") this.queue.jump(i);
      else if (action === "up") this.queue.move(i, i - 1);
      else if (action === "down") this.queue.move(i, i + 1);
      else if (action === "remove") this.queue.remove(i);
    });
    // keep the keyboard where it was: the same control of the entry now at that place
    const again = $("pb-queue-list").querySelector(`li[data-index="${action === "up" ? i - 1 : action === "down" ? i + 1 : i}"]`
                                                  + ` button[data-action="${action}"]`);
    if (again && !again.disabled) again.focus();
  }

  // The online devices, the active one marked; a press on another moves the sound there.
  renderDevices() {
    const session = this.session, activeId = session.state ? session.state.active_device_id : null;
    const devices = session.devices;
    const active = devices.find((d) => d.id === activeId);
    $("pb-devices-toggle").textContent = "Devices" + (active && active.id !== session.deviceId ? " · on " + active.name : "");
    $("pb-devices-list").replaceChildren(...devices.map((d) => {
      const label = d.name + (d.id === session.deviceId ? " (this browser)" : "");
      return el("li", { "data-device-id": d.id, "aria-current": d.id === activeId ? "true" : null },
        el("button", { type: "button", class: "link", "data-device": d.id, "aria-pressed": String(d.id === activeId),
                       "aria-label": "Play on " + label }, label),
        d.id === activeId ? el("span", { class: "muted" }, " · the sound plays here") : "");
    }));
  }
}
