// Watch party: this browser's estimate of the server's clock, for the sync engine (party-sync.js).
//
//   const clock = new PartyClock(socket, canSend);   canSend() -> true once joined and connected
//   clock.clientNow()   performance.timeOrigin + performance.now() (ms)
//   clock.serverNow()   clientNow() + offset
//   clock.burst()       5 `time_ping {client_ms}` 100 ms apart, then 3 more 1 s apart (on join, every 30 s)
//   clock.onPong(d)     a `time_pong {client_ms, server_ms}`
//   clock.heard(ms)     any other message's server_ms (a state, the join ack)
//   clock.reset()       forget every sample (a new connection: maybe another server process)
//   eventId()           (exported beside the class) a fresh UUID for a command's event_id
//
// Each pong is a sample: rtt = now - client_ms, offset = server_ms - (client_ms + now) / 2. Of the last
// 8 samples the one with the smallest RTT gives the offset (NTP-style: the fastest round trip leaves the
// least room for asymmetric delays); `rtt` is the samples' median (what a message typically takes).
// Causality bounds the offset too (1 ms slack for rounding): a message stamped S by the server and
// received at client time C proves offset >= S - C; a ping sent at c and stamped s on arrival proves
// offset <= s - c. When the messages of the last minute prove the NTP estimate impossible (one
// direction much slower than the other, e.g. a long-poll response held back while requests go out at
// once), the middle of the interval they allow replaces it. Until the first pong, the tightest
// "sent before received" bound stands in.
export class PartyClock {
  constructor(socket, canSend) {
    this.socket = socket;
    this.canSend = canSend || (() => socket.connected);
    this.offset = null;        // ms to add to clientNow() for serverNow()
    this.roughOffset = null;   // before the first pong
    this.rtt = null;           // median RTT of the samples (ms)
    this.minRtt = null;
    this.bounds = null;        // [lowest, highest] offset the messages allow, or null
    this.reset();
  }

  clientNow() { return performance.timeOrigin + performance.now(); }

  serverNow() {
    const offset = this.offset !== null ? this.offset : (this.roughOffset || 0);
    return this.clientNow() + offset;
  }

  reset() {
    this.samples = [];         // {rtt, offset}
    this.limits = [];          // {at, lo, hi}
  }

  // A ping sent while the connection is busy (a long-poll cycle, the burst's own traffic) comes back
  // slow, one sent into a quiet moment fast: the tail gives the estimate a few quiet moments.
  burst() {
    const ping = () => { if (this.canSend()) this.socket.emit("time_ping", { client_ms: Math.round(this.clientNow()) }); };
    const last = (PartyClock.BURST - 1) * PartyClock.SPACING_MS;
    for (let i = 0; i < PartyClock.BURST; i++) setTimeout(ping, i * PartyClock.SPACING_MS);
    for (let i = 1; i <= PartyClock.TAIL; i++) setTimeout(ping, last + i * PartyClock.TAIL_SPACING_MS);
  }

  onPong(data) {
    const now = this.clientNow();
    if (!data || typeof data.client_ms !== "number" || typeof data.server_ms !== "number") return;
    const rtt = now - data.client_ms;
    if (!(rtt >= 0 && rtt < 30000)) return;
    this.samples.push({ rtt, offset: data.server_ms - (data.client_ms + now) / 2 });
    if (this.samples.length > PartyClock.KEEP) this.samples.shift();
    this.limit(data.server_ms - now, data.server_ms - data.client_ms);
  }

  heard(serverMs) {
    if (typeof serverMs === "number") this.limit(serverMs - this.clientNow(), Infinity);
  }

  limit(lo, hi) {
    const now = this.clientNow();
    this.limits.push({ at: now, lo: lo - 1, hi: hi + 1 });
    this.limits = this.limits.filter((b) => now - b.at <= PartyClock.WINDOW_MS).slice(-64);
    const low = Math.max(...this.limits.map((b) => b.lo));
    const high = Math.min(...this.limits.map((b) => b.hi));
    this.bounds = low <= high ? [low, high] : null;  // inconsistent (a server clock step): NTP alone
    if (this.samples.length) {
      const best = this.samples.reduce((a, b) => (b.rtt < a.rtt ? b : a));
      const rtts = this.samples.map((x) => x.rtt).sort((a, b) => a - b);
      const mid = rtts.length >> 1;
      this.rtt = rtts.length % 2 ? rtts[mid] : (rtts[mid - 1] + rtts[mid]) / 2;
      this.minRtt = best.rtt;
      const possible = !this.bounds || (best.offset >= low && best.offset <= high);
      this.offset = possible ? best.offset : (low + high) / 2;
    } else if (this.bounds && isFinite(low)) {
      this.roughOffset = low;
    }
  }
}

Object.assign(PartyClock, { BURST: 5, SPACING_MS: 100, TAIL: 3, TAIL_SPACING_MS: 1000, KEEP: 8, WINDOW_MS: 60000 });

// A fresh id for a party command (`event_id`: the server drops a repeated one), a UUID v4:
// crypto.randomUUID needs a secure context (https), so over plain http it is made from getRandomValues.
export function eventId() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
}
