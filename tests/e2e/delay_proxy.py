"""A TCP proxy on loopback that delays every byte by a fixed time each way: a member far away on the
network, for HTTP and WebSocket alike (Chromium's own network emulation delays HTTP requests only,
which makes Socket.IO's long-polling asymmetric and its WebSocket frames not delayed at all).

    with DelayProxy(target_port, delay_s=0.1) as proxy:   # +200 ms of round trip
        page.goto(f"http://127.0.0.1:{proxy.port}/...")

Order is kept: each chunk read is written `delay_s` after it was read, in sequence.
"""
from __future__ import annotations

import asyncio
import threading


class DelayProxy:
    """Forwards 127.0.0.1:`port` to 127.0.0.1:`target_port`, each direction `delay_s` (s) late."""

    def __init__(self, target_port: int, delay_s: float) -> None:
        self.target_port, self.delay_s = target_port, delay_s
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.port = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> DelayProxy:
        self.thread.start()
        self.ready.wait(10)
        return self

    def __exit__(self, *exc) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(asyncio.start_server(self._connection, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self.ready.set()
        self.loop.run_forever()

    async def _connection(self, reader, writer) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        await asyncio.gather(self._pump(reader, up_writer), self._pump(up_reader, writer), return_exceptions=True)

    async def _pump(self, reader, writer) -> None:
        """Copy `reader` to `writer`, each chunk `delay_s` after it arrived."""
        queue: asyncio.Queue = asyncio.Queue()

        async def send() -> None:
            while True:
                due, data = await queue.get()
                wait = due - self.loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                if not data:
                    writer.close()
                    return
                writer.write(data)
                await writer.drain()

        sender = asyncio.create_task(send())
        try:
            while True:
                data = await reader.read(65536)
                await queue.put((self.loop.time() + self.delay_s, data))
                if not data:
                    break
        except OSError:
            await queue.put((self.loop.time(), b""))
        await sender
