"""A python-socketio client on the `/party` namespace (or another: `/session`) that records every event
it receives, for the protocol, multi-process, Redis-outage and deployment tests. Times are integer ms
(the machine's clock)."""
import functools
import threading
import time

import socketio

NS = "/party"
EVENTS = ("state", "time_pong", "rejected", "queue", "request_update", "chat", "react", "error")


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class Peer:
    """A python-socketio client on `namespace` (`/party` unless told) that records every server event of
    `events` as (name, data, received ms)."""

    def __init__(self, url: str, cookie: str = "", namespace: str = NS, events: tuple[str, ...] = EVENTS,
                 **client_options) -> None:
        self.events: list[tuple[str, dict, int]] = []
        self.cond = threading.Condition()
        self.ns = namespace
        self.sio = socketio.Client(**client_options)
        for name in events:
            self.sio.on(name, self._recorder(name), namespace=namespace)
        self.sio.connect(url, namespaces=[namespace], transports=["websocket"],
                         headers={"Cookie": cookie} if cookie else {})
        self.member_id = None

    def _recorder(self, name):
        def record(data=None):
            with self.cond:
                self.events.append((name, data, now_ms()))
                self.cond.notify_all()
        return record

    def join(self, code: str, token: str = "") -> dict:
        ack = self.sio.call("join", {"code": code, "token": token}, namespace=self.ns, timeout=5)
        self.member_id = ack.get("member_id")
        return ack

    def send(self, event: str, data: dict | None = None) -> int:
        """Emit and wait for the server's ack (the handler has run); returns the send time (ms)."""
        sent = now_ms()
        self.sio.call(event, data if data is not None else {}, namespace=self.ns, timeout=5)
        return sent

    def close(self) -> None:
        """Disconnect. websocket-client waits 3 s for a close frame its own read loop may have taken
        already (3 s per teardown): a short wait sends the server the same bytes."""
        ws = self.sio.eio.ws
        if ws is not None:
            ws.close = functools.partial(ws.close, timeout=0.2)
        self.sio.disconnect()

    def mark(self) -> int:
        with self.cond:
            return len(self.events)

    def wait(self, name: str, pred=lambda d: True, since: int = 0, timeout: float = 3.0):
        """The first `name` event from index `since` on that satisfies `pred`: (data, received ms)."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for ev, data, at in self.events[since:]:
                    if ev == name and pred(data):
                        return data, at
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no matching {name!r} within {timeout} s; got {self.events[since:]}")
                self.cond.wait(left)

    def none(self, name: str, pred=lambda d: True, since: int = 0, within: float = 0.5) -> None:
        """Assert no matching `name` event arrives from index `since` on within `within` s."""
        deadline = time.monotonic() + within
        with self.cond:
            while (left := deadline - time.monotonic()) > 0:
                self.cond.wait(left)
            unexpected = [d for ev, d, _ in self.events[since:] if ev == name and pred(d)]
        assert not unexpected, f"unexpected {name!r}: {unexpected}"

    def received(self, name: str, since: int = 0) -> list[dict]:
        with self.cond:
            return [d for ev, d, _ in self.events[since:] if ev == name]
