// Watch party: the order of this member's timeline commands (play, pause, seek), DOM-free.
//
//   const line = new CommandLine();
//   line.submit(command, nowMs)        -> true: send it now; false: it waits for the one in flight
//   line.answered(eventId, rev, nowMs) -> the next command to send, or null   (its ack arrived)
//   line.expire(nowMs)                 -> the next command to send, or null   (no ack in time)
//   line.revision(stateRev)            -> the rev to send a command with
//   line.clear()                       a lost connection: nothing is in flight, nothing waits
//
// The server refuses a command whose `rev` is not the party's current one (issue 5: "a command
// carrying an old rev is rejected"), and a command's new rev comes back only with its answer. So a
// command given while another is unanswered (a seek and then play, two seeks from the arrow keys)
// waits for that answer and then goes with the rev the answer gives (the ack's `rev`, the party's
// revision after the command). Of the waiting commands a later seek replaces a waiting seek, and a
// later play or pause replaces a waiting play or pause: what the user asked for last wins.
// A command is {event, data, eventId}; times are ms.
export const ANSWER_WITHIN_MS = 5000;  // then the next command goes anyway (the server answers in ~1 RTT)

const kind = (event) => (event === "seek" ? "seek" : "transport");

export class CommandLine {
  constructor(answerWithinMs = ANSWER_WITHIN_MS) {
    this.answerWithinMs = answerWithinMs;
    this.clear();
  }

  clear() {
    this.inFlight = null;      // {command, sentMs}
    this.waiting = [];
    this.ackedRev = -1;        // the rev of the last answer (reset with the connection)
  }

  submit(command, nowMs) {
    if (this.inFlight === null) {
      this.inFlight = { command, sentMs: nowMs };
      return true;
    }
    const last = this.waiting[this.waiting.length - 1];
    if (last && kind(last.event) === kind(command.event)) this.waiting[this.waiting.length - 1] = command;
    else this.waiting.push(command);
    return false;
  }

  answered(eventId, rev, nowMs) {
    if (this.inFlight === null || this.inFlight.command.eventId !== eventId) return null;
    if (typeof rev === "number") this.ackedRev = rev;
    return this.next(nowMs);
  }

  expire(nowMs) {
    if (this.inFlight === null || nowMs - this.inFlight.sentMs < this.answerWithinMs) return null;
    return this.next(nowMs);
  }

  revision(stateRev) {
    return Math.max(stateRev, this.ackedRev);
  }

  next(nowMs) {
    const command = this.waiting.shift() || null;
    this.inFlight = command === null ? null : { command, sentMs: nowMs };
    return command;
  }
}
