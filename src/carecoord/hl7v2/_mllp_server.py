"""An asyncio MLLP listener: frames, parses, hands messages to a handler, acknowledges.

Each connection (an :class:`asyncio.Protocol`) decodes frames as bytes arrive and answers
each with an ACK, in the order the messages came; one dispatcher task hands the messages
waiting (from every connection) to the handler together, so that a handler that commits
to a database can commit them in one transaction, and an ACK is written only once the
handler has returned for its message. See ``docs/mllp.md`` for the acknowledgement codes.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime as dt
import inspect
import itertools
import logging
import ssl as ssl_module
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol, TypeAlias, runtime_checkable

import attrs

from carecoord.errors import MalformedMessage, UsageError
from carecoord.hl7v2._er7 import Message, parse_message
from carecoord.hl7v2._mllp_ack import (
    AckCode,
    ErrorCondition,
    Header,
    Outcome,
    build_ack,
    peek_header,
)
from carecoord.hl7v2._mllp_frame import FrameDecoder, FrameEvent, FrameFault, frame

__all__ = [
    "BatchHandler",
    "DedupeKey",
    "DedupeStore",
    "Handler",
    "Inbound",
    "MLLPServer",
    "MemoryDedupe",
    "ServerStats",
    "serve_mllp",
]

_log = logging.getLogger("carecoord.hl7v2.mllp")

DedupeKey: TypeAlias = tuple[bytes, bytes]
"""What identifies one delivery: the sending facility (MSH-4) and MSH-10, as received."""


@attrs.frozen(repr=False)
class Inbound:
    """One message received, parsed, for the handler.

    ``raw`` is the message as received between the MLLP blocks (give it to
    :func:`carecoord.hl7v2.read`); ``message`` its parse; ``connection`` numbers the
    connection it came on (from 1, per server), ``sequence`` the message on the server
    (from 1).
    """

    message: Message
    raw: bytes
    header: Header
    connection: int
    sequence: int

    def __repr__(self) -> str:  # never the content
        return f"Inbound(#{self.sequence}, connection {self.connection}, {len(self.raw)} bytes)"

    @property
    def key(self) -> DedupeKey:
        """The delivery's dedupe key: sending facility (MSH-4) and control id (MSH-10)."""
        return self.header.dedupe_key


Handler: TypeAlias = Callable[[Inbound], Outcome | Awaitable[Outcome | None] | None]
"""Takes one message; returns its :class:`Outcome` (``None`` means accepted)."""
BatchHandler: TypeAlias = Callable[
    [Sequence[Inbound]],
    Sequence[Outcome | None] | Awaitable[Sequence[Outcome | None] | None] | None,
]
"""Takes the messages waiting, together; returns one outcome per message, or ``None``
when all were accepted."""


@runtime_checkable
class DedupeStore(Protocol):
    """Remembers the deliveries already handled, so that a resent one is not handled twice.

    :meth:`seen` is asked on the event loop for each message before it is handled;
    :meth:`remember` is called with the keys of the messages a handler call accepted,
    right after it returns and before their ACKs are written (in the worker thread when
    the handler is a plain function). A store backed by a database should keep the keys
    in the same transaction as the messages (or make ``remember`` durable itself).
    """

    def seen(self, key: DedupeKey) -> bool:
        """Whether the delivery ``key`` was handled already."""
        ...

    def remember(self, keys: Sequence[DedupeKey]) -> None:
        """Record that the deliveries ``keys`` were handled."""
        ...


class MemoryDedupe:
    """A bounded in-memory dedupe window: the last ``capacity`` deliveries handled.

    Forgets the oldest keys beyond ``capacity`` and everything on restart; use a
    :class:`DedupeStore` backed by your database to keep them.
    """

    def __init__(self, capacity: int = 100_000) -> None:
        if capacity < 1:
            raise ValueError("capacity must be positive")
        self.capacity = capacity
        self._keys: OrderedDict[DedupeKey, None] = OrderedDict()

    def __len__(self) -> int:
        return len(self._keys)

    def seen(self, key: DedupeKey) -> bool:
        """Whether ``key`` is in the window."""
        return key in self._keys

    def remember(self, keys: Sequence[DedupeKey]) -> None:
        """Add ``keys``, dropping the oldest beyond the capacity."""
        for key in keys:
            self._keys[key] = None
            self._keys.move_to_end(key)
        while len(self._keys) > self.capacity:
            self._keys.popitem(last=False)


@attrs.define
class ServerStats:
    """Counters of what a server did, for logs and monitoring (no message content)."""

    connections: int = 0
    """Connections accepted and served."""
    refused: int = 0
    """Connections closed at once because ``max_connections`` were open."""
    idle_closed: int = 0
    """Connections closed after ``idle_timeout`` without data."""
    received: int = 0
    """Frames received (whole or faulty)."""
    handled: int = 0
    """Messages given to the handler."""
    accepted: int = 0
    """AA sent (duplicates included)."""
    errors: int = 0
    """AE sent."""
    rejected: int = 0
    """AR sent."""
    duplicates: int = 0
    """Messages acknowledged without being handled, as already handled."""
    faults: int = 0
    """Frames that were oversize, truncated or unterminated."""
    skipped_bytes: int = 0
    """Bytes outside frames, skipped."""
    batches: int = 0
    """Handler calls."""


@attrs.define
class _Job:
    inbound: Inbound
    future: asyncio.Future[Outcome]


_DUPLICATE = Outcome(AckCode.AA, "duplicate of a message already handled")

_Answer: TypeAlias = tuple[Header | None, "Outcome | asyncio.Future[Outcome]"]
"""A frame's header and its outcome, or the future of the outcome while it is handled."""
_PAUSE_AT = 256
"""Frames waiting for their ACK on one connection before it stops reading more."""


class _Connection(asyncio.Protocol):
    """One MLLP connection: frames in, one ACK per frame out, in order, each once ready.

    Frames go to the server as they arrive; their answers wait in :attr:`_pending`, and
    :meth:`_flush` writes the ACKs at the head of the line whose outcome is known. The
    connection stops reading while too many answers wait or while the peer does not read
    its ACKs, and is closed after ``idle_timeout`` seconds with nothing received and
    nothing being handled (or with ACKs it does not read).
    """

    def __init__(self, server: MLLPServer) -> None:
        self.server = server
        self.number = 0
        self.decoder = FrameDecoder(server.max_message_bytes)
        self.transport: asyncio.Transport | None = None
        self._pending: collections.deque[_Answer] = collections.deque()
        self._loop = asyncio.get_running_loop()
        self._last = self._loop.time()
        self._timer: asyncio.TimerHandle | None = None
        self._reading_paused = False
        self._writing_paused = False
        self._eof = False
        self._closing = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        if not self.server._register(self):  # at the limit, or closing: refused
            transport.close()
            return
        self.transport = transport
        self._arm(self.server.idle_timeout)

    def data_received(self, data: bytes) -> None:
        if self.transport is None:  # refused
            return
        self._last = self._loop.time()
        skipped = self.decoder.skipped
        events = self.decoder.feed(data)
        self.server.stats.skipped_bytes += self.decoder.skipped - skipped
        self._take(events)

    def eof_received(self) -> bool:
        if self.transport is None:  # refused
            return False
        self._eof = True
        self._take(self.decoder.close())
        self._flush()
        # Keep a plain TCP transport open to write the ACKs still owed (TLS cannot
        # half-close: there the transport closes itself).
        return self.server.ssl is None

    def connection_lost(self, exc: Exception | None) -> None:  # noqa: ARG002 - always closed
        if self._timer is not None:
            self._timer.cancel()
        if self.transport is None:  # refused
            return
        self.transport = None
        self._pending.clear()  # the messages stay handled; their ACKs have nowhere to go
        self.server._closed(self)

    def pause_writing(self) -> None:
        self._writing_paused = True
        self._pause_reading()

    def resume_writing(self) -> None:
        self._writing_paused = False
        self._last = self._loop.time()
        if len(self._pending) < _PAUSE_AT:
            self._resume_reading()

    def close_when_done(self) -> None:
        """Close once every ACK owed is written (at once when none is)."""
        self._closing = True
        self._pause_reading()
        if not self._pending and self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        """Close now, dropping any ACK still owed."""
        if self.transport is not None:
            self.transport.abort()

    def _take(self, events: list[FrameEvent]) -> None:
        for event in events:
            answer = self.server._submit(event, self.number)
            self._pending.append(answer)
            if isinstance(answer[1], asyncio.Future) and not answer[1].done():
                answer[1].add_done_callback(self._ready)
        if len(self._pending) >= _PAUSE_AT:
            self._pause_reading()
        self._flush()

    def _ready(self, _future: asyncio.Future[Outcome]) -> None:
        self._flush()

    def _flush(self) -> None:
        """Write the ACKs at the head of the line whose outcomes are known."""
        acks = []
        pending = self._pending
        while pending:
            header, answer = pending[0]
            if isinstance(answer, asyncio.Future):
                if not answer.done():
                    break
                outcome = answer.result()
            else:
                outcome = answer
            pending.popleft()
            acks.append(frame(self.server._ack(header, outcome)))
        transport = self.transport
        if transport is None:
            return
        if acks:
            transport.write(b"".join(acks))
        if pending:
            return
        if self._closing or self._eof:
            transport.close()
        elif not self._writing_paused:
            self._resume_reading()

    def _pause_reading(self) -> None:
        if not self._reading_paused and self.transport is not None:
            self._reading_paused = True
            self.transport.pause_reading()

    def _resume_reading(self) -> None:
        if self._reading_paused and self.transport is not None and not self._closing:
            self._reading_paused = False
            self.transport.resume_reading()

    def _arm(self, delay: float) -> None:
        self._timer = self._loop.call_later(delay, self._check_idle)

    def _check_idle(self) -> None:
        """Close a connection idle for ``idle_timeout`` (re-arm the timer otherwise)."""
        if self.transport is None:
            return
        idle = self._loop.time() - self._last
        busy = any(isinstance(a, asyncio.Future) and not a.done() for _h, a in self._pending)
        if idle >= self.server.idle_timeout and (not busy or self._writing_paused):
            self.server.stats.idle_closed += 1
            if self._writing_paused:
                self.transport.abort()  # its peer reads nothing: the buffer will not drain
            else:
                self.transport.close()
            return
        self._arm(max(self.server.idle_timeout - idle, 0.01))


class MLLPServer:
    """An MLLP listener handing each message to ``handler`` and acknowledging it.

    ``handler`` takes one :class:`Inbound` (or, with ``batch=True``, a sequence of them:
    the messages that arrived while the previous call ran, at most ``max_batch``) and
    returns an :class:`Outcome` (or one per message; ``None`` means accepted). It may be
    a plain function, run in a worker thread so that the event loop keeps reading (set
    ``threaded=False`` to call it on the loop), or a coroutine function. Handler calls
    never overlap. An exception from the handler answers its messages with AR
    (application internal error; the sender may retry); the exception is logged by type.

    Each frame gets one ACK, in order: AA once its handler call returned; AE or AR with
    the reason (MSA-3, ERR) for a frame that is not a usable message (no MSH or no MSH-10:
    AR; a message that does not parse or is larger than ``max_message_bytes``: AE; a
    frame cut off by a new start block or by the end of the stream: AR) or that the
    handler refused. A delivery already handled (same sending facility, MSH-4, and
    control id, MSH-10, in ``dedupe``) or being handled is acknowledged with the first
    delivery's outcome and not handled again.

    ``clock`` gives MSH-7 of the ACKs (the library never reads the clock itself).
    Connections beyond ``max_connections`` are closed at once; a connection that sends
    nothing (and reads no ACK) for ``idle_timeout`` seconds is closed. ``ssl`` (an
    :class:`ssl.SSLContext` with a certificate loaded) makes it listen with TLS.

    Use it as an async context manager (``async with MLLPServer(...) as server:``), or
    call :meth:`start` and :meth:`close`; :attr:`port` is the port bound (pass ``port=0``
    for any free one).
    """

    def __init__(
        self,
        handler: Handler | BatchHandler,
        *,
        clock: Callable[[], dt.datetime],
        host: str | None = "127.0.0.1",
        port: int = 2575,
        ssl: ssl_module.SSLContext | None = None,
        batch: bool = False,
        max_batch: int = 500,
        threaded: bool = True,
        max_message_bytes: int = 1 << 20,
        idle_timeout: float = 300.0,
        max_connections: int = 100,
        dedupe: DedupeStore | None = None,
        shutdown_grace: float = 10.0,
    ) -> None:
        if not callable(handler):
            raise UsageError(f"handler must be callable, not {type(handler).__name__}")
        if ssl is not None and not isinstance(ssl, ssl_module.SSLContext):
            raise UsageError(f"ssl must be an ssl.SSLContext, not {type(ssl).__name__}")
        if max_batch < 1 or max_message_bytes < 1 or max_connections < 1:
            raise ValueError("max_batch, max_message_bytes and max_connections must be positive")
        if idle_timeout <= 0:
            raise ValueError("idle_timeout must be positive")
        self.handler = handler
        self.clock = clock
        self.host, self.requested_port, self.ssl = host, port, ssl
        self.batch, self.max_batch, self.threaded = batch, max_batch, threaded
        self.max_message_bytes = max_message_bytes
        self.idle_timeout, self.max_connections = idle_timeout, max_connections
        self.dedupe: DedupeStore = MemoryDedupe() if dedupe is None else dedupe
        self.shutdown_grace = shutdown_grace
        self.stats = ServerStats()
        self._is_async = _is_coroutine_function(handler)
        self._server: asyncio.Server | None = None
        self._worker: asyncio.Task[None] | None = None
        self._queue: asyncio.Queue[_Job] | None = None
        self._inflight: dict[DedupeKey, asyncio.Future[Outcome]] = {}
        self._connections: set[_Connection] = set()
        self._all_closed = asyncio.Event()
        self._conn_ids = itertools.count(1)
        self._seq = itertools.count(1)
        self._ack_ids = itertools.count(1)
        self._closing = False

    def __repr__(self) -> str:
        state = "listening" if self._server is not None else "stopped"
        return f"MLLPServer({state}, port={self.port}, tls={self.ssl is not None})"

    @property
    def port(self) -> int:
        """The port listened on (the one bound when started with port 0)."""
        if self._server is not None and self._server.sockets:
            return int(self._server.sockets[0].getsockname()[1])
        return self.requested_port

    @property
    def active_connections(self) -> int:
        """Connections open now."""
        return len(self._connections)

    async def start(self) -> MLLPServer:
        """Start listening; returns the server."""
        if self._server is not None:
            raise UsageError("the server is already started")
        self._closing = False
        self._queue = asyncio.Queue()
        self._worker = asyncio.create_task(self._dispatch(), name="mllp-dispatch")
        loop = asyncio.get_running_loop()
        try:
            self._server = await loop.create_server(
                lambda: _Connection(self),
                self.host,
                self.requested_port,
                ssl=self.ssl,
                ssl_handshake_timeout=self.idle_timeout if self.ssl else None,
            )
        except BaseException:  # the port is taken, the host unknown...: stop the dispatcher
            await self._stop_worker()
            raise
        return self

    async def serve_forever(self) -> None:
        """Serve until cancelled (then close cleanly), starting first if needed."""
        if self._server is None:
            await self.start()
        try:
            await asyncio.Event().wait()
        finally:
            await asyncio.shield(self.close())

    async def close(self) -> None:
        """Stop listening, finish the messages being handled and their ACKs, close all.

        Connections with nothing pending are closed at once; those whose messages are
        being handled get ``shutdown_grace`` seconds to write their ACKs.
        """
        self._closing = True
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for connection in list(self._connections):
            connection.close_when_done()
        if self._connections:
            self._all_closed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._all_closed.wait(), self.shutdown_grace)
        for connection in list(self._connections):
            connection.abort()
        await self._stop_worker()
        if server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 1.0)

    async def _stop_worker(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)
            self._worker = None
        for future in self._inflight.values():  # left unhandled by a shutdown past its grace
            future.cancel()
        self._inflight.clear()

    async def __aenter__(self) -> MLLPServer:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # -- connections ------------------------------------------------------------------

    def _register(self, connection: _Connection) -> bool:
        """Count a new connection in; ``False`` (refused) at the limit or when closing.

        Called when the connection is made (after the TLS handshake, if any), so that a
        connection whose handshake fails never counts.
        """
        if self._closing or len(self._connections) >= self.max_connections:
            self.stats.refused += 1
            _log.info("MLLP connection refused: %d connections open", len(self._connections))
            return False
        connection.number = next(self._conn_ids)
        self._connections.add(connection)
        self.stats.connections += 1
        return True

    def _closed(self, connection: _Connection) -> None:
        self._connections.discard(connection)
        if not self._connections:
            self._all_closed.set()

    def _submit(self, event: FrameEvent, conn: int) -> _Answer:
        """Check one frame; its header and outcome, or the future of its outcome."""
        self.stats.received += 1
        header, result = self._triage(event, conn)
        if not isinstance(result, Inbound):
            return header, result
        key = result.key
        try:
            seen = self.dedupe.seen(key)
        except Exception as error:  # a store that fails: answered, the listener goes on
            return header, _failed(error, 1)[0]
        if seen:
            self.stats.duplicates += 1
            return header, _DUPLICATE
        inflight = self._inflight.get(key)
        if inflight is not None:
            self.stats.duplicates += 1
            return header, inflight
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        assert self._queue is not None
        self._queue.put_nowait(_Job(result, future))
        return header, future

    def _triage(self, event: FrameEvent, conn: int) -> tuple[Header | None, Outcome | Inbound]:
        """Check one frame: an outcome for a faulty one, else the parsed message."""
        header = peek_header(event.payload)
        if event.fault is not None:
            self.stats.faults += 1
            if event.fault is FrameFault.OVERSIZE:
                limit = (
                    "the message is larger than this receiver's limit"
                    f" of {self.max_message_bytes} bytes"
                )
                return header, Outcome.error(limit, ErrorCondition.VALUE_TOO_LONG)
            how = "a new start block" if event.fault is FrameFault.TRUNCATED else "end of stream"
            reason = f"the frame was cut off by {how} before its end block; resend the message"
            return header, Outcome.reject(reason, ErrorCondition.SEGMENT_SEQUENCE)
        if header is None:
            return None, Outcome.reject(
                "the message does not start with an MSH segment",
                ErrorCondition.SEGMENT_SEQUENCE,
                "MSH-1",
            )
        if not header.control_id.strip():
            return header, Outcome.reject(
                "MSH-10 (message control id) is empty",
                ErrorCondition.REQUIRED_FIELD_MISSING,
                "MSH-10",
            )
        try:
            message = parse_message(event.payload)
        except MalformedMessage as error:
            # The error names a place and what was expected there, never the input.
            return header, Outcome.error(f"not a valid HL7 v2 message: {error}")
        return header, Inbound(message, event.payload, header, conn, next(self._seq))

    def _ack(self, header: Header | None, outcome: Outcome) -> bytes:
        code = outcome.code
        if code is AckCode.AA:
            self.stats.accepted += 1
        elif code is AckCode.AE:
            self.stats.errors += 1
        else:
            self.stats.rejected += 1
        at = self.clock()
        control_id = f"{at:%Y%m%d%H%M%S}{next(self._ack_ids) % 1_000_000:06d}"
        return build_ack(header, outcome, at=at, control_id=control_id)

    # -- the handler ------------------------------------------------------------------

    async def _dispatch(self) -> None:
        assert self._queue is not None
        queue = self._queue
        while True:
            jobs = [await queue.get()]
            while len(jobs) < self.max_batch and not queue.empty():
                jobs.append(queue.get_nowait())
            outcomes = await self._handle([job.inbound for job in jobs])
            for job, outcome in zip(jobs, outcomes, strict=True):
                self._inflight.pop(job.inbound.key, None)
                if not job.future.done():
                    job.future.set_result(outcome)

    async def _handle(self, batch: list[Inbound]) -> list[Outcome]:
        """Call the handler for ``batch``; one outcome per message, dedupe keys recorded."""
        if not self._is_async:
            if self.threaded:
                return await asyncio.to_thread(self._handle_now, batch)
            return self._handle_now(batch)
        self.stats.batches += 1
        self.stats.handled += len(batch)
        try:
            outcomes = self._normalise(await self._call(batch), len(batch))
            self._remember(batch, outcomes)
        except Exception as error:  # any handler failure is answered, not fatal
            return _failed(error, len(batch))
        return outcomes

    def _handle_now(self, batch: list[Inbound]) -> list[Outcome]:
        """Call a plain-function handler for ``batch`` (on the loop or in a worker thread)."""
        self.stats.batches += 1
        self.stats.handled += len(batch)
        try:
            return self._call_sync(batch)
        except Exception as error:  # any handler failure is answered, not fatal
            return _failed(error, len(batch))

    def _call_sync(self, batch: list[Inbound]) -> list[Outcome]:
        result: object = (
            self.handler(batch)  # type: ignore[arg-type]
            if self.batch
            else [self.handler(inbound) for inbound in batch]  # type: ignore[arg-type]
        )
        outcomes = self._normalise(result, len(batch))
        self._remember(batch, outcomes)
        return outcomes

    async def _call(self, batch: list[Inbound]) -> object:
        if self.batch:
            return await self.handler(batch)  # type: ignore[arg-type, misc]
        return [await self.handler(inbound) for inbound in batch]  # type: ignore[arg-type, misc]

    def _normalise(self, result: object, size: int) -> list[Outcome]:
        if result is None:
            return [Outcome.accept()] * size
        if not isinstance(result, Sequence) or isinstance(result, str | bytes):
            raise UsageError("a batch handler returns a sequence of outcomes or None")
        if len(result) != size:
            raise UsageError("a batch handler returns one outcome per message")
        outcomes = []
        for item in result:
            if item is None:
                outcomes.append(Outcome.accept())
            elif isinstance(item, Outcome):
                outcomes.append(item)
            else:
                raise UsageError(f"a handler returns an Outcome or None, not {type(item).__name__}")
        return outcomes

    def _remember(self, batch: list[Inbound], outcomes: list[Outcome]) -> None:
        keys = [i.key for i, o in zip(batch, outcomes, strict=True) if o.code is AckCode.AA]
        if keys:
            self.dedupe.remember(keys)


def _failed(error: Exception, count: int) -> list[Outcome]:
    """AR for each message of a handler call that raised (logged by exception type only)."""
    _log.warning("MLLP handler failed: %s", type(error).__name__)
    reason = "the receiver failed to process the message; it may be resent"
    return [Outcome.reject(reason)] * count


def _is_coroutine_function(handler: object) -> bool:
    if inspect.iscoroutinefunction(handler):
        return True
    call = getattr(handler, "__call__", None)  # noqa: B004 - instances with async __call__
    return inspect.iscoroutinefunction(call)


async def serve_mllp(
    handler: Handler | BatchHandler,
    *,
    clock: Callable[[], dt.datetime],
    host: str | None = "127.0.0.1",
    port: int = 2575,
    ssl: ssl_module.SSLContext | None = None,
    batch: bool = False,
    max_message_bytes: int = 1 << 20,
    idle_timeout: float = 300.0,
    max_connections: int = 100,
    dedupe: DedupeStore | None = None,
) -> None:
    """Listen on ``host``:``port`` and serve until cancelled, then close cleanly.

    A shortcut for ``await MLLPServer(handler, ...).serve_forever()``; see
    :class:`MLLPServer` for the arguments and the acknowledgement rules.
    """
    server = MLLPServer(
        handler,
        clock=clock,
        host=host,
        port=port,
        ssl=ssl,
        batch=batch,
        max_message_bytes=max_message_bytes,
        idle_timeout=idle_timeout,
        max_connections=max_connections,
        dedupe=dedupe,
    )
    await server.serve_forever()
