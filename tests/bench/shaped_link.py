"""A slow link in front of the server, for the slow-link benchmark: a TCP relay whose two directions are
each one link of a given rate, shared by every connection (round robin, a packet at a time), with a
one-way delay. Chromium's own emulation gives the page and its service worker a link each; this one is
shared, as a real one is. No TCP slow start or loss: a real link of the same rate is slower still.
"""

import asyncio
import collections
import contextlib
import threading
import time

from tests.browser.live_server import free_port

PACKET = 1460


class _Direction:
    """Packets wait their turn, take len/rate seconds each on the link, and arrive `delay` later."""

    def __init__(self, rate: float, delay: float) -> None:
        self.rate, self.delay = rate, delay
        self.queues: dict[asyncio.StreamWriter, collections.deque[bytes | None]] = {}
        self.waiting = asyncio.Event()
        self.sent = 0

    def send(self, to: asyncio.StreamWriter, data: bytes | None) -> None:
        """`data` for `to`, in packets; None closes `to` once what came before has arrived."""
        queue = self.queues.setdefault(to, collections.deque())
        if data is None:
            queue.append(None)
        else:
            queue.extend(data[start : start + PACKET] for start in range(0, len(data), PACKET))
        self.waiting.set()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        clock = time.monotonic()
        while True:
            ready = [to for to, queue in self.queues.items() if queue]
            if not ready:
                self.waiting.clear()
                await self.waiting.wait()
                continue
            for to in ready:  # one packet per connection per turn
                packet = self.queues[to].popleft()
                if packet is None:
                    del self.queues[to]
                    loop.call_later(self.delay, to.close)
                    continue
                clock = max(clock, time.monotonic()) + len(packet) / self.rate
                await asyncio.sleep(clock - time.monotonic())
                self.sent += len(packet)
                loop.call_later(self.delay, _write, to, packet)


def _write(to: asyncio.StreamWriter, packet: bytes) -> None:
    if not to.is_closing():
        to.write(packet)


async def _pump(reader: asyncio.StreamReader, to: asyncio.StreamWriter, direction: _Direction) -> None:
    with contextlib.suppress(ConnectionError):
        while data := await reader.read(65536):
            direction.send(to, data)
    direction.send(to, None)


class ShapedLink:
    """`with ShapedLink(target_port=..., rate=..., latency=...) as link:` relays 127.0.0.1:`link.port` to
    the target; `rate` in bytes/s each way, `latency` the round trip in seconds."""

    def __init__(self, *, target_port: int, rate: float, latency: float) -> None:
        self.target_port, self.rate, self.latency = target_port, rate, latency
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> "ShapedLink":
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._serve(), self.loop).result(timeout=10)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._close(), self.loop).result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)

    @property
    def bytes_down(self) -> int:
        return self.down.sent

    async def _serve(self) -> None:
        self.down = _Direction(self.rate, self.latency / 2)
        self.up = _Direction(self.rate, self.latency / 2)
        self.tasks = [asyncio.ensure_future(self.down.run()), asyncio.ensure_future(self.up.run())]  # kept: running
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)

    async def _close(self) -> None:
        self.server.close()
        others = asyncio.all_tasks() - {asyncio.current_task()}
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)

    async def _relay(self, browser_reader: asyncio.StreamReader, browser_writer: asyncio.StreamWriter) -> None:
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        await asyncio.gather(
            _pump(browser_reader, server_writer, self.up), _pump(server_reader, browser_writer, self.down)
        )
