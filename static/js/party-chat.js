// Watch party: chat (#chat-log, #chat-form, #chat-input), reactions (#reactions buttons) and the
// overlay over the video (#overlay) where incoming messages and reactions float for a few seconds.
// Sends `chat {text}` and `react {emoji}`; receives `chat {member_id, name, text, system, server_ms}`
// and `react {member_id, name, emoji}`. System messages ("X is now the host") also go to the notice.
export class PartyChat {
  // ctx: {socket, meId() -> id, notice(text)}
  constructor(ctx) {
    this.ctx = ctx;
    this.log = document.getElementById("chat-log");
    this.form = document.getElementById("chat-form");
    this.input = document.getElementById("chat-input");
    this.overlay = document.getElementById("overlay");
    this.form.addEventListener("submit", (e) => {
      e.preventDefault();
      const text = this.input.value.trim();
      if (!text) return;
      if (!ctx.socket.connected) { ctx.notice("Not connected to the party: try again in a moment."); return; }
      ctx.socket.emit("chat", { text });
      this.input.value = "";
    });
    document.querySelectorAll("#reactions button[data-emoji]").forEach((b) => {
      b.addEventListener("click", () => {
        if (!ctx.socket.connected) { ctx.notice("Not connected to the party: try again in a moment."); return; }
        ctx.socket.emit("react", { emoji: b.dataset.emoji });
      });
    });
    ctx.socket.on("chat", (m) => this.onChat(m));
    ctx.socket.on("react", (m) => this.onReact(m));
  }

  onChat(m) {
    if (!m || typeof m.text !== "string") return;
    const li = document.createElement("li");
    li.className = m.system ? "system" : (m.member_id === this.ctx.meId() ? "mine" : "");
    if (m.server_ms) {
      const time = document.createElement("time");
      const at = new Date(m.server_ms);
      time.dateTime = at.toISOString();
      time.textContent = at.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
      li.append(time, " ");
    }
    if (!m.system) {
      const who = document.createElement("strong");
      who.textContent = (m.name || "?") + ": ";
      li.appendChild(who);
    }
    li.appendChild(document.createTextNode(m.text));
    const atBottom = this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 40;
    this.log.appendChild(li);
    while (this.log.children.length > PartyChat.KEEP) this.log.firstElementChild.remove();
    if (atBottom) this.log.scrollTop = this.log.scrollHeight;
    if (m.system) this.ctx.notice(m.text);
    this.float(m.system ? m.text : (m.name || "?") + ": " + m.text, m.system ? "float system" : "float");
  }

  onReact(m) {
    if (!m || typeof m.emoji !== "string") return;
    const el = this.float(m.emoji, "float reaction");
    el.title = m.name || "";
    el.style.left = (10 + Math.random() * 75).toFixed(1) + "%";
    const who = document.createElement("small");
    who.textContent = m.name || "";
    el.appendChild(who);
  }

  float(text, className) {
    const el = document.createElement("div");
    el.className = className;
    el.textContent = text;
    this.overlay.appendChild(el);
    while (this.overlay.children.length > 6) this.overlay.firstElementChild.remove();
    setTimeout(() => el.remove(), PartyChat.FLOAT_MS);
    return el;
  }
}

PartyChat.KEEP = 200;
PartyChat.FLOAT_MS = 5000;
