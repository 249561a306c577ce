"""A small asyncio MLLP client: send messages, read their ACKs (for tests and benchmarks)."""

from __future__ import annotations

import asyncio
import contextlib
import ssl as ssl_module
from collections.abc import Iterable

from carecoord.errors import UsageError
from carecoord.hl7v2._mllp_ack import Ack, MLLPError, parse_ack
from carecoord.hl7v2._mllp_frame import FrameDecoder, frame

__all__ = ["MLLPClient", "send_mllp"]


class MLLPClient:
    """One MLLP connection to a receiver: :meth:`send` a message, get its :class:`Ack`.

    Use it as an async context manager (``async with MLLPClient(host, port) as client:``)
    or call :meth:`connect` and :meth:`close`. ``timeout`` bounds connecting and each wait
    for an ACK; ``ssl`` (an :class:`ssl.SSLContext`) connects with TLS. Messages are
    bytes, or text sent as UTF-8; they are sent as given (HL7 ends segments with CR).
    Raises :class:`MLLPError` when the receiver closes the connection, times out or
    answers with something that is not an ACK.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        ssl: ssl_module.SSLContext | None = None,
        server_hostname: str | None = None,
        timeout: float = 30.0,
        max_ack_bytes: int = 1 << 20,
    ) -> None:
        if ssl is not None and not isinstance(ssl, ssl_module.SSLContext):
            raise UsageError(f"ssl must be an ssl.SSLContext, not {type(ssl).__name__}")
        self.host, self.port, self.ssl = host, port, ssl
        self.server_hostname = server_hostname
        self.timeout = timeout
        self._decoder = FrameDecoder(max_ack_bytes)
        self._acks: list[Ack] = []
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    def __repr__(self) -> str:
        state = "connected" if self._writer is not None else "closed"
        return f"MLLPClient({state}, port={self.port}, tls={self.ssl is not None})"

    async def connect(self) -> MLLPClient:
        """Open the connection; returns the client."""
        try:
            async with asyncio.timeout(self.timeout):
                self._reader, self._writer = await asyncio.open_connection(
                    self.host,
                    self.port,
                    ssl=self.ssl,
                    server_hostname=self.server_hostname if self.ssl else None,
                )
        except (OSError, TimeoutError, ssl_module.SSLError) as error:
            raise MLLPError(f"cannot connect to the receiver: {type(error).__name__}") from None
        return self

    async def close(self) -> None:
        """Close the connection (waiting briefly for the close to complete)."""
        writer, self._writer, self._reader = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(Exception):
                async with asyncio.timeout(1.0):
                    await writer.wait_closed()

    async def __aenter__(self) -> MLLPClient:
        return await self.connect()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def send(self, message: bytes | str) -> Ack:
        """Send one message and wait for its ACK."""
        return (await self.send_many([message]))[0]

    async def send_many(self, messages: Iterable[bytes | str]) -> list[Ack]:
        """Send messages without waiting in between, then read one ACK per message."""
        payload = [frame(_as_bytes(m)) for m in messages]
        await self.send_raw(b"".join(payload))
        return [await self.read_ack() for _ in payload]

    async def send_raw(self, data: bytes) -> None:
        """Write ``data`` as it is (framing included): for tests of faulty senders."""
        if self._writer is None:
            raise MLLPError("the client is not connected")
        try:
            self._writer.write(data)
            async with asyncio.timeout(self.timeout):
                await self._writer.drain()
        except (OSError, TimeoutError, ssl_module.SSLError) as error:
            raise MLLPError(f"cannot send to the receiver: {type(error).__name__}") from None

    async def read_ack(self) -> Ack:
        """Wait for the next ACK on the connection."""
        if self._reader is None:
            raise MLLPError("the client is not connected")
        try:
            async with asyncio.timeout(self.timeout):
                while not self._acks:
                    data = await self._reader.read(1 << 16)
                    events = self._decoder.feed(data) if data else self._decoder.close()
                    for event in events:
                        if event.fault is not None:
                            raise MLLPError(f"the receiver sent a faulty frame ({event.fault})")
                        self._acks.append(parse_ack(event.payload))
                    if not data and not self._acks:
                        raise MLLPError("the receiver closed the connection before its ACK")
        except TimeoutError:
            raise MLLPError(f"no ACK within {self.timeout:g} s") from None
        except (OSError, ssl_module.SSLError) as error:
            raise MLLPError(f"cannot read from the receiver: {type(error).__name__}") from None
        return self._acks.pop(0)


def _as_bytes(message: bytes | str) -> bytes:
    if isinstance(message, str):
        return message.encode("utf-8")
    if isinstance(message, bytes | bytearray | memoryview):
        return bytes(message)
    raise UsageError(f"a message is bytes or str, not {type(message).__name__}")


async def send_mllp(
    messages: Iterable[bytes | str],
    *,
    host: str,
    port: int,
    ssl: ssl_module.SSLContext | None = None,
    server_hostname: str | None = None,
    timeout: float = 30.0,
) -> list[Ack]:
    """Send messages over one connection, one at a time, each after the previous ACK.

    Returns the ACKs in order. Raises :class:`MLLPError` on a transport problem.
    """
    async with MLLPClient(
        host, port, ssl=ssl, server_hostname=server_hostname, timeout=timeout
    ) as client:
        return [await client.send(message) for message in messages]
