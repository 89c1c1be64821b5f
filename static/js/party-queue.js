// Watch party: the queue (#queue), guests' requests (#requests) and the title picker (#title-search,
// #title-results). Server events: `queue {items, requests, mode}` and `request_update {request_id, status,
// kind, payload, member_id, reason}`. The host and cohosts edit the queue directly (queue_add, queue_remove,
// queue_move, skip, decide); a guest's "Add" sends `request {kind: "add", payload: {media_file_id}}` and
// sees its requests' outcome. Whoever may control plays an item next ("Next": `nudge {item_id}`) and sets
// the queue's mode (#queue-mode: `set_queue_mode {mode: once|circulate}`). Titles come from
// GET /api/parties/<code>/titles?q=...; the host's and cohosts' own playlists (/api/playlists) are listed
// there too, and "Add all" queues a playlist's tracks.
export class PartyQueue {
  // ctx: {socket, titlesUrl, role() -> "host"|"cohost"|"guest", canControl() -> bool, meId() -> id,
  //       memberName(id) -> name, notice(text)}
  constructor(ctx) {
    this.ctx = ctx;
    this.items = [];
    this.requests = new Map();  // request_id -> request (pending ones, and my decided ones)
    this.list = document.getElementById("queue");
    this.requestList = document.getElementById("requests");
    this.search = document.getElementById("title-search");
    this.results = document.getElementById("title-results");
    this.skipButton = document.getElementById("btn-skip");
    this.modeSelect = document.getElementById("queue-mode");
    this.mode = "once";
    this.searchTimer = null;
    this.searchSeq = 0;
    this.skipButton.addEventListener("click", () => this.send("skip", {}));
    this.modeSelect.addEventListener("change", () => this.send("set_queue_mode", { mode: this.modeSelect.value }));
    this.search.addEventListener("input", () => {
      clearTimeout(this.searchTimer);
      this.searchTimer = setTimeout(() => this.find(), 250);
    });
    this.search.addEventListener("focus", () => { if (!this.results.children.length) this.find(); });
    this.search.form.addEventListener("submit", (e) => { e.preventDefault(); clearTimeout(this.searchTimer); this.find(); });
    ctx.socket.on("queue", (data) => this.onQueue(data));
    ctx.socket.on("request_update", (r) => this.onRequestUpdate(r));
  }

  editor() { return ["host", "cohost"].includes(this.ctx.role()); }

  send(event, data) {
    if (!this.ctx.socket.connected) { this.ctx.notice("Not connected to the party: try again in a moment."); return; }
    this.ctx.socket.emit(event, data);
  }

  onQueue(data) {
    this.items = (data && data.items) || [];
    if (data && data.mode) this.mode = data.mode;
    const pending = new Set();
    for (const r of (data && data.requests) || []) {
      pending.add(r.request_id);
      this.requests.set(r.request_id, r);
    }
    for (const [id, r] of this.requests) {
      if (r.status === "pending" && !pending.has(id)) this.requests.delete(id);  // decided elsewhere
    }
    this.render();
  }

  onRequestUpdate(r) {
    if (!r || r.request_id === undefined) return;
    const mine = r.member_id === this.ctx.meId();
    if (r.status === "pending" || mine) this.requests.set(r.request_id, r);
    else this.requests.delete(r.request_id);
    if (mine && r.status !== "pending") {
      const what = this.describe(r);
      this.ctx.notice("Your request (" + what + ") was " + r.status + (r.reason ? ": " + r.reason : ""));
    }
    this.render();
  }

  // Re-renders with the current role (called on every state too: roles change).
  render() {
    this.renderQueue();
    this.renderRequests();
    this.skipButton.hidden = !this.ctx.canControl();
    this.skipButton.disabled = this.items.length === 0;
    this.modeSelect.disabled = !this.ctx.canControl();
    if (document.activeElement !== this.modeSelect) this.modeSelect.value = this.mode;
  }

  button(text, onClick, label) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "small-button";
    b.textContent = text;
    if (label) b.setAttribute("aria-label", label);
    b.addEventListener("click", onClick);
    return b;
  }

  renderQueue() {
    const editor = this.editor();
    const control = this.ctx.canControl();
    const rows = this.items.map((item, index) => {
      const li = document.createElement("li");
      li.dataset.itemId = String(item.id);
      const name = document.createElement("span");
      name.className = "q-title";
      name.textContent = item.title + (item.duration_ms ? " (" + PartyQueue.clock(item.duration_ms) + ")" : "");
      li.appendChild(name);
      const tools = document.createElement("span");
      tools.className = "q-tools";
      if (control && index > 0) {
        const next = this.button("Next", () => this.send("nudge", { item_id: item.id }), "Play " + item.title + " next");
        next.classList.add("q-next");
        tools.appendChild(next);
      }
      if (editor) {
        const up = this.button("↑", () => this.send("queue_move", { item_id: item.id, index: index - 1 }), "Move up " + item.title);
        const down = this.button("↓", () => this.send("queue_move", { item_id: item.id, index: index + 1 }), "Move down " + item.title);
        up.classList.add("q-up");
        down.classList.add("q-down");
        up.disabled = index === 0;
        down.disabled = index === this.items.length - 1;
        const remove = this.button("Remove", () => this.send("queue_remove", { item_id: item.id }), "Remove " + item.title);
        remove.classList.add("q-remove");
        tools.append(up, down, remove);
      }
      if (tools.children.length) li.appendChild(tools);
      return li;
    });
    if (!rows.length) {
      const li = document.createElement("li");
      li.className = "muted empty";
      li.textContent = "The queue is empty.";
      rows.push(li);
    }
    this.list.replaceChildren(...rows);
  }

  describe(r) {
    const p = r.payload || {};
    const item = this.items.find((i) => i.id === p.item_id);
    const title = p.title || (item && item.title) || (p.media_file_id !== undefined ? "file " + p.media_file_id : "an item");
    if (r.kind === "add") return "add " + title;
    if (r.kind === "remove") return "remove " + title;
    if (r.kind === "move") return "move " + title + " to place " + ((p.index || 0) + 1);
    return r.kind;
  }

  renderRequests() {
    const editor = this.editor();
    const me = this.ctx.meId();
    const rows = [];
    for (const r of this.requests.values()) {
      const li = document.createElement("li");
      li.dataset.requestId = String(r.request_id);
      li.dataset.status = r.status;
      const who = r.member_id === me ? "You" : this.ctx.memberName(r.member_id);
      const text = document.createElement("span");
      text.textContent = who + " asked to " + this.describe(r) + ": ";
      const status = document.createElement("span");
      status.className = "req-status";
      status.textContent = r.status + (r.reason ? " (" + r.reason + ")" : "");
      li.append(text, status);
      if (editor && r.status === "pending") {
        const yes = this.button("Approve", () => this.send("decide", { request_id: r.request_id, approve: true }));
        const no = this.button("Deny", () => this.send("decide", { request_id: r.request_id, approve: false }));
        yes.classList.add("req-approve");
        no.classList.add("req-deny", "secondary");
        li.append(" ", yes, " ", no);
      }
      rows.push(li);
    }
    this.requestList.replaceChildren(...rows);
    const head = document.getElementById("requests-head");
    if (head) head.hidden = rows.length === 0;
  }

  async find() {
    const seq = ++this.searchSeq;
    const url = this.ctx.titlesUrl + "?q=" + encodeURIComponent(this.search.value.trim());
    let body;
    try {
      const response = await fetch(url, { credentials: "same-origin" });
      body = await response.json().catch(() => ({}));
      if (!response.ok) throw new Error(body.message || "HTTP " + response.status);
    } catch (e) {
      if (seq === this.searchSeq) this.results.replaceChildren(PartyQueue.note("Search failed: " + e.message));
      return;
    }
    if (seq !== this.searchSeq) return;
    const items = body.items || [];
    const rows = items.map((t) => {
      const li = document.createElement("li");
      li.dataset.mediaFileId = String(t.media_file_id);
      const name = document.createElement("span");
      name.textContent = t.title + (t.duration_ms ? " (" + PartyQueue.clock(t.duration_ms) + ")" : "");
      const add = this.button(this.editor() ? "Add" : "Ask to add", () => this.add(t), "Add " + t.title);
      add.classList.add("add-title");
      li.append(name, " ", add);
      return li;
    });
    if (this.editor()) rows.unshift(...await this.playlistRows(this.search.value.trim().toLowerCase()));
    if (seq !== this.searchSeq) return;
    this.results.replaceChildren(...(rows.length ? rows : [PartyQueue.note("No titles match.")]));
  }

  // The host's or a cohost's own playlists whose name holds `q`, each with "Add all" (a guest has none:
  // the API answers 401, and nothing is listed).
  async playlistRows(q) {
    let items = [];
    try {
      const response = await fetch("/api/playlists", { credentials: "same-origin" });
      if (response.ok) items = (await response.json()).items || [];
    } catch (e) { return []; }
    return items.filter((p) => p.track_count && (!q || p.name.toLowerCase().includes(q))).map((p) => {
      const li = document.createElement("li");
      li.dataset.playlistId = String(p.id);
      const name = document.createElement("span");
      name.textContent = "Playlist: " + p.name + " (" + p.track_count + (p.track_count === 1 ? " track)" : " tracks)");
      const add = this.button("Add all", () => this.addPlaylist(p.id), "Add the playlist " + p.name + " to the queue");
      add.classList.add("add-playlist");
      li.append(name, " ", add);
      return li;
    });
  }

  // Queue a playlist's tracks in order, as many as the queue has room for (party/queue.py MAX_QUEUE).
  async addPlaylist(id) {
    let body;
    try {
      const response = await fetch("/api/playlists/" + id, { credentials: "same-origin" });
      body = await response.json();
      if (!response.ok) throw new Error(body.message || "HTTP " + response.status);
    } catch (e) { this.ctx.notice("Could not read the playlist: " + e.message); return; }
    const room = Math.max(0, PartyQueue.MAX_QUEUE - this.items.length);
    const tracks = body.items.map((item) => item.track).slice(0, room);
    // one at a time, each after the last one's answer: the server may handle a burst of events out of order
    for (const t of tracks) {
      if (!this.ctx.socket.connected) { this.ctx.notice("Not connected to the party: try again in a moment."); return; }
      try {
        await this.ctx.socket.timeout(5000).emitWithAck("queue_add", { media_file_id: t.media_file_id });
      } catch (e) { this.ctx.notice("The party did not answer: " + e.message); return; }
    }
    this.ctx.notice("Queued " + tracks.length + " of the " + body.items.length + " tracks of " + body.name + ".");
  }

  add(title) {
    if (this.editor()) this.send("queue_add", { media_file_id: title.media_file_id });
    else this.send("request", { kind: "add", payload: { media_file_id: title.media_file_id } });
  }

  static MAX_QUEUE = 200;

  static note(text) {
    const li = document.createElement("li");
    li.className = "muted";
    li.textContent = text;
    return li;
  }

  static clock(ms) {
    const s = Math.max(0, Math.floor(ms / 1000));
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const ss = String(s % 60).padStart(2, "0");
    return h ? h + ":" + String(m).padStart(2, "0") + ":" + ss : m + ":" + ss;
  }
}
