"""What the MLLP tests share: synthetic messages, a fixed clock, a server in a thread."""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

from carecoord.hl7v2 import FrameDecoder, MLLPServer, parse_ack
from carecoord.hl7v2 import frame as mllp_frame

AT = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


def clock() -> dt.datetime:
    """A fixed clock for ACK timestamps."""
    return AT


def adt(control: str | int, facility: str = "FAC", trigger: str = "A01") -> bytes:
    """A small synthetic ADT message (a made-up patient) with control id ``control``."""
    return (
        f"MSH|^~\\&|APP|{facility}|RCV|RFAC|20260101120000||ADT^{trigger}^ADT_A01|{control}|P|2.5\r"
        "EVN|A01|20260101120000\r"
        "PID|1||MRN1^^^FAC^MR||Testperson^Alex||19800101|U\r"
        "PV1|1|I|WARD^1^A\r"
    ).encode()


class ThreadedServer:
    """An MLLPServer running on its own event loop in a thread, for blocking-socket tests."""

    def __init__(self, handler: Callable[..., Any], **options: Any) -> None:
        self._loop = asyncio.new_event_loop()
        self.server = MLLPServer(handler, clock=clock, port=0, **options)
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start(), self._loop).result(10)

    @property
    def port(self) -> int:
        """The port the server listens on."""
        return self.server.port

    def close(self) -> None:
        """Close the server and stop its loop."""
        asyncio.run_coroutine_threadsafe(self.server.close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def connect(self) -> socket.socket:
        """A blocking socket connected to the server (5 s timeout)."""
        return socket.create_connection(("127.0.0.1", self.port), timeout=5)


def read_acks(sock: socket.socket, count: int) -> list[bytes]:
    """Read ``count`` ACK frames (raising if the connection closes first)."""
    decoder = FrameDecoder()
    acks: list[bytes] = []
    while len(acks) < count:
        data = sock.recv(65536)
        if not data:
            raise ConnectionError("closed before all ACKs arrived")
        acks.extend(e.payload for e in decoder.feed(data))
    return acks


def served(threaded: ThreadedServer, message: bytes) -> bool:
    """Whether a fresh connection gets an AA for ``message`` (the listener still serves)."""
    with threaded.connect() as sock:
        sock.sendall(mllp_frame(message))
        return parse_ack(read_acks(sock, 1)[0]).accepted


def each_message(messages: list[bytes]) -> Iterator[bytes]:
    """The messages, framed one by one."""
    for m in messages:
        yield mllp_frame(m)
