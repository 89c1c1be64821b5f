"""The clients of bench/party.py: guests (python-socketio AsyncClients, many per process) and the host.

Guests read only the `rev` of each `state` by default (`RevJSON`), so that 500 clients on the
benchmark's own cores measure the server rather than their JSON parsing; `--parse full` decodes all.
"""
from __future__ import annotations

import asyncio
import json
import random
import re
import time

import socketio  # python-socketio: its AsyncClient runs on asyncio + aiohttp

NS = "/party"
REPORT_EVERY_S = 2.0
JOINS_IN_FLIGHT = 2          # per client process: concurrent guest joins (the party lock serialises them)
_REV = re.compile(r"\s*(-?\d+)")


class RevJSON:
    """The clients' json module: a `state` packet is decoded only as far as `rev` (or fully with
    `full`), and stamped with the time it was decoded (`_t`, time.time_ns) and its size (`_bytes`)."""

    full = False

    @staticmethod
    def dumps(*args, **kwargs):
        return json.dumps(*args, **kwargs)

    @classmethod
    def loads(cls, s, *args, **kwargs):
        if isinstance(s, str) and s.startswith('["state",'):
            if cls.full:
                packet = json.loads(s)
                packet[1]["_t"], packet[1]["_bytes"] = time.time_ns(), len(s)
                return packet
            at = s.rfind('"rev":')  # keys come sorted: rev is past the member list
            return ["state", {"rev": int(_REV.match(s, at + 6).group(1)), "_t": time.time_ns(), "_bytes": len(s)}]
        return json.loads(s, *args, **kwargs)


def _client(full: bool, compress: bool):
    RevJSON.full = full
    # compress: offer permessage-deflate as browsers do (aiohttp's default is not to)
    return socketio.AsyncClient(reconnection=False, json=RevJSON,
                                websocket_extra_options={"compress": 15} if compress else {})


async def report_loop(sio) -> None:
    """`report` every ~2 s like the web client (keeps the member online)."""
    await asyncio.sleep(random.uniform(0, REPORT_EVERY_S))
    while sio.connected:
        try:
            await sio.emit("report", {"drift_ms": 0, "rtt_ms": 5}, namespace=NS)
        except Exception:  # a closing connection
            return
        await asyncio.sleep(REPORT_EVERY_S * random.uniform(0.9, 1.1))


class Guest:
    """One guest: its own token and Socket.IO connection; `first[rev]` is when it first had that revision."""

    def __init__(self, name: str, full: bool, compress: bool) -> None:
        self.name = name
        self.sio = _client(full, compress)
        self.first: dict[int, int] = {}
        self.last_ns = 0
        self.joined = False
        self.sio.on("state", self._on_state, namespace=NS)

    async def _on_state(self, data) -> None:
        self.first.setdefault(data["rev"], data["_t"])
        self.last_ns = data["_t"]

    async def join(self, http, url: str, code: str, csrf: dict) -> None:
        for attempt in range(5):
            async with http.post(f"{url}/api/parties/{code}/join", json={"name": self.name},
                                 headers=csrf) as response:
                if response.status == 200:
                    token = (await response.json())["token"]
                    break
            await asyncio.sleep(0.2 * (attempt + 1))
        else:
            raise RuntimeError(f"{self.name}: the join API kept failing ({response.status})")
        await self.sio.connect(url, namespaces=[NS], transports=["websocket"], wait_timeout=30)
        answer = None
        for attempt in range(10):
            try:
                answer = await self.sio.call("join", {"code": code, "token": token}, namespace=NS, timeout=15)
            except socketio.exceptions.TimeoutError:  # no answer (the server may have failed the handler)
                answer = "no answer in 15 s"
                continue
            if answer and answer.get("ok"):
                self.joined = True
                asyncio.get_running_loop().create_task(report_loop(self.sio))
                return
            await asyncio.sleep(0.2 * (attempt + 1))
        raise RuntimeError(f"{self.name}: join refused: {answer}")


async def _worker_main(conn, url: str, code: str, full: bool, compress: bool) -> None:
    import aiohttp

    loop = asyncio.get_running_loop()
    guests: list[Guest] = []
    # unsafe=True: keep cookies (the session's, for CSRF) from an IP address such as 127.0.0.1
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.get(f"{url}/api/auth/csrf") as response:  # POSTs carry the session's CSRF token
            csrf = {"X-CSRFToken": (await response.json())["csrf_token"]} if response.status == 200 else {}
        while True:
            op, arg = await loop.run_in_executor(None, conn.recv)
            if op == "add":
                new = [Guest(name, full, compress) for name in arg]
                slots = asyncio.Semaphore(JOINS_IN_FLIGHT)

                async def one(guest: Guest) -> str | None:
                    async with slots:
                        try:
                            await guest.join(http, url, code, csrf)
                            return None
                        except Exception as exc:  # reported, not fatal; the guest is dropped
                            await guest.sio.disconnect()
                            return f"{guest.name}: {exc!r}"

                errors = [e for e in await asyncio.gather(*(one(g) for g in new)) if e]
                guests.extend(g for g in new if g.joined)
                conn.send((len(guests), errors))
            elif op == "last":
                conn.send(max((g.last_ns for g in guests), default=0))
            elif op == "cpu":
                conn.send(time.process_time())
            elif op == "collect":  # arg: the revisions of interest -> [{rev: ns}] per guest
                conn.send([{rev: g.first.get(rev) for rev in arg} for g in guests])
            elif op == "dropped":  # guests whose connection closed since they joined
                conn.send(sum(not g.sio.connected for g in guests))
            elif op == "stop":
                await asyncio.gather(*(g.sio.disconnect() for g in guests), return_exceptions=True)
                conn.send(None)
                return


def guest_worker(conn, url: str, code: str, full: bool, compress: bool) -> None:
    """A client process: runs guests on one asyncio loop, driven by (op, arg) messages on `conn`."""
    asyncio.run(_worker_main(conn, url, code, full, compress))


class Host:
    """The host's connection (session cookie): tracks the revision, measures time_ping round trips."""

    def __init__(self, full: bool, compress: bool) -> None:
        self.sio = _client(full, compress)
        self.rev: int | None = None
        self.bytes = 0
        self.rejected: list[dict] = []
        self._rev_changed = asyncio.Event()
        self._pong: asyncio.Future | None = None
        self.sio.on("state", self._on_state, namespace=NS)
        self.sio.on("rejected", self._on_rejected, namespace=NS)
        self.sio.on("time_pong", self._on_pong, namespace=NS)

    async def _on_state(self, data) -> None:
        self.bytes = data["_bytes"]
        if self.rev is None or data["rev"] > self.rev:
            self.rev = data["rev"]
            self._rev_changed.set()

    async def _on_rejected(self, data) -> None:
        self.rejected.append(data)
        self._rev_changed.set()

    async def _on_pong(self, data) -> None:
        if self._pong is not None and not self._pong.done():
            self._pong.set_result(time.perf_counter_ns() / 1e6 - data["client_ms"])

    async def wait_rev(self, rev: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self.rev is None or self.rev < rev:
            self._rev_changed.clear()
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            try:
                await asyncio.wait_for(self._rev_changed.wait(), left)
            except asyncio.TimeoutError:
                return False
        return True

    async def ping(self, count: int) -> list[float]:
        """`count` time_ping round trips in turn (ms)."""
        rtts = []
        for _ in range(count):
            self._pong = asyncio.get_running_loop().create_future()
            await self.sio.emit("time_ping", {"client_ms": time.perf_counter_ns() / 1e6}, namespace=NS)
            rtts.append(await asyncio.wait_for(self._pong, 10))
            await asyncio.sleep(0.02)
        return rtts
