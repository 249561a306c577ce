"""The MLLP listener: ACK codes, batching, dedupe, faults, limits, TLS, shutdown."""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Any

import pytest

from carecoord.errors import UsageError
from carecoord.hl7v2 import (
    AckCode,
    ErrorCondition,
    Inbound,
    MemoryDedupe,
    MLLPClient,
    MLLPError,
    MLLPServer,
    Outcome,
    frame,
    parse_ack,
    send_mllp,
)
from tests.hl7v2._mllp import adt, clock


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine to completion on a fresh event loop."""
    return asyncio.run(coro)


class Recorder:
    """A handler that records the control ids it is given and answers ``outcome``."""

    def __init__(self, outcome: Outcome | None = None) -> None:
        self.ids: list[str] = []
        self.outcome = outcome

    def __call__(self, inbound: Inbound) -> Outcome | None:
        """Record the message's control id; answer the configured outcome."""
        self.ids.append(inbound.message.control_id)
        return self.outcome


class TestAcknowledge:
    """Each message gets one ACK: AA when handled, AE/AR with a reason otherwise."""

    @pytest.mark.parametrize("threaded", [True, False], ids=["thread", "loop"])
    def test_handled_message_gets_aa(self, threaded: bool) -> None:
        """The handler gets the parsed message; the ACK is AA with MSA-2 = MSH-10."""
        handler = Recorder()

        async def go() -> list[object]:
            async with MLLPServer(handler, clock=clock, port=0, threaded=threaded) as server:
                return list(await send_mllp([adt(1), adt(2)], host="127.0.0.1", port=server.port))

        acks = run(go())

        assert [(a.code, a.control_id) for a in acks] == [(AckCode.AA, "1"), (AckCode.AA, "2")]
        assert handler.ids == ["1", "2"]

    def test_async_handler(self) -> None:
        """A coroutine function is awaited on the loop."""
        seen: list[bytes] = []

        async def handler(inbound: Inbound) -> None:
            await asyncio.sleep(0)
            seen.append(inbound.raw)

        async def go() -> Any:
            async with MLLPServer(handler, clock=clock, port=0) as server:
                return await send_mllp([adt(7)], host="127.0.0.1", port=server.port)

        acks = run(go())

        assert [a.code for a in acks] == [AckCode.AA]
        assert seen == [adt(7)]

    def test_handler_error_outcome_gives_ae_with_reason(self) -> None:
        """An Outcome.error from the handler is an AE carrying its reason and code."""
        handler = Recorder(Outcome.error("no such ward", ErrorCondition.TABLE_VALUE_NOT_FOUND))

        async def go() -> Any:
            async with MLLPServer(handler, clock=clock, port=0) as server:
                return await send_mllp([adt(1)], host="127.0.0.1", port=server.port)

        (ack,) = run(go())

        assert (ack.code, ack.text, ack.condition) == (AckCode.AE, "no such ward", "103")

    @pytest.mark.parametrize("threaded", [True, False], ids=["thread", "loop"])
    def test_handler_exception_gives_ar_and_the_listener_keeps_serving(
        self, threaded: bool
    ) -> None:
        """A handler that raises: AR (internal error, resend later); the next message is AA."""
        calls: list[str] = []

        def handler(inbound: Inbound) -> None:
            calls.append(inbound.message.control_id)
            if inbound.message.control_id == "boom":
                raise RuntimeError("Testperson")  # its text must not reach the ACK

        async def go() -> Any:
            async with MLLPServer(handler, clock=clock, port=0, threaded=threaded) as server:
                return await send_mllp([adt("boom"), adt(2)], host="127.0.0.1", port=server.port)

        acks = run(go())

        assert [(a.code, a.condition) for a in acks] == [(AckCode.AR, "207"), (AckCode.AA, "")]
        assert b"Testperson" not in acks[0].raw

    def test_failed_message_is_not_remembered(self) -> None:
        """A message answered AR is handled again when resent (it was not taken)."""
        attempts: list[str] = []

        def handler(inbound: Inbound) -> None:
            attempts.append(inbound.message.control_id)
            if len(attempts) == 1:
                raise OSError("disk full")

        async def go() -> Any:
            async with MLLPServer(handler, clock=clock, port=0) as server:
                return await send_mllp([adt(5), adt(5)], host="127.0.0.1", port=server.port)

        acks = run(go())

        assert [a.code for a in acks] == [AckCode.AR, AckCode.AA]
        assert attempts == ["5", "5"]

    @pytest.mark.parametrize(
        ("payload", "code", "condition"),
        [
            (b"not hl7 at all", AckCode.AR, "100"),
            (b"MSH|^~\\&|A|F|R|RF|2026||ADT^A01||P|2.5\rPID|1\r", AckCode.AR, "101"),
            (b"MSH|^~\\&|A|F|R|RF|2026||ADT^A01|9|P|2.5\rP!D|1\r", AckCode.AE, "102"),
            (b"", AckCode.AR, "100"),
        ],
        ids=["no-msh", "no-control-id", "bad-segment", "empty"],
    )
    def test_unusable_messages_get_a_nak_and_serving_goes_on(
        self, payload: bytes, code: AckCode, condition: str
    ) -> None:
        """Malformed frames are answered (never silence) and the next message is AA."""
        handler = Recorder()

        async def go() -> Any:
            async with MLLPServer(handler, clock=clock, port=0) as server:
                return await send_mllp([payload, adt(1)], host="127.0.0.1", port=server.port)

        acks = run(go())

        assert [(a.code, a.condition) for a in acks] == [(code, condition), (AckCode.AA, "")]
        assert acks[0].text
        assert handler.ids == ["1"]

    def test_truncated_frame_gets_ar_then_next_is_served(self) -> None:
        """A frame cut off by a new start block: AR for it, AA for the one after."""
        handler = Recorder()

        async def go() -> Any:
            async with (
                MLLPServer(handler, clock=clock, port=0) as server,
                MLLPClient("127.0.0.1", server.port, timeout=5) as client,
            ):
                await client.send_raw(b"\x0b" + adt(1)[:80] + frame(adt(2)))
                return [await client.read_ack(), await client.read_ack()]

        first, second = run(go())

        assert (first.code, first.control_id, "cut off" in first.text) == (AckCode.AR, "1", True)
        assert (second.code, second.control_id) == (AckCode.AA, "2")
        assert handler.ids == ["2"]

    def test_unterminated_frame_at_end_of_stream_gets_ar(self) -> None:
        """A sender that half-closes inside a frame still reads a NAK for it."""

        async def go() -> Any:
            async with MLLPServer(Recorder(), clock=clock, port=0) as server:
                reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
                writer.write(b"\x0b" + adt(3)[:60])
                writer.write_eof()
                data = await asyncio.wait_for(reader.read(), 5)
                writer.close()
                return data

        data = run(go())

        assert isinstance(data, bytes)
        ack = parse_ack(data.strip(b"\x0b\x1c\r"))
        assert (ack.code, ack.control_id) == (AckCode.AR, "3")


class TestBatching:
    """Messages that arrive together are handed to a batch handler together."""

    def test_pipelined_messages_form_one_batch(self) -> None:
        """Ten messages sent at once reach a batch handler in few calls, ACKed in order."""
        batches: list[int] = []

        def handler(batch: Sequence[Inbound]) -> list[Outcome | None]:
            batches.append(len(batch))
            return [Outcome.error("odd") if int(i.message.control_id) % 2 else None for i in batch]

        async def go() -> Any:
            async with (
                MLLPServer(handler, clock=clock, port=0, batch=True) as server,
                MLLPClient("127.0.0.1", server.port) as client,
            ):
                return await client.send_many([adt(n) for n in range(10)])

        acks = run(go())

        assert [a.control_id for a in acks] == [str(n) for n in range(10)]
        assert [a.code for a in acks] == [AckCode.AA, AckCode.AE] * 5
        assert sum(batches) == 10
        assert len(batches) < 10

    def test_a_long_pipeline_is_answered_in_order(self) -> None:
        """600 messages sent at once (beyond the read pause) get 600 ACKs, in order."""
        handler = Recorder()

        async def go() -> Any:
            async with (
                MLLPServer(handler, clock=clock, port=0) as server,
                MLLPClient("127.0.0.1", server.port) as client,
            ):
                return await client.send_many([adt(n) for n in range(600)])

        acks = run(go())

        assert [a.control_id for a in acks] == [str(n) for n in range(600)]
        assert handler.ids == [str(n) for n in range(600)]

    def test_batch_handler_returning_the_wrong_count_is_answered_ar(self) -> None:
        """A batch handler must return one outcome per message; else each gets AR."""

        async def go() -> Any:
            async with MLLPServer(lambda b: [], clock=clock, port=0, batch=True) as server:
                return await send_mllp([adt(1)], host="127.0.0.1", port=server.port)

        assert [a.code for a in run(go())] == [AckCode.AR]

    def test_ack_waits_for_the_handler(self) -> None:
        """No ACK is written before the handler call for its message has returned."""
        events: list[str] = []

        async def handler(batch: Sequence[Inbound]) -> None:
            await asyncio.sleep(0.05)
            events.append("committed")

        async def go() -> None:
            async with (
                MLLPServer(handler, clock=clock, port=0, batch=True) as server,
                MLLPClient("127.0.0.1", server.port) as client,
            ):
                await client.send(adt(1))
                events.append("acked")

        run(go())

        assert events == ["committed", "acked"]


class TestDedupe:
    """A delivery seen before (sending facility + MSH-10) is acknowledged, not handled."""

    def test_same_facility_and_control_id_is_handled_once(self) -> None:
        """Resending a message gets AA again; the handler saw it once."""
        handler = Recorder()

        async def go() -> Any:
            async with MLLPServer(handler, clock=clock, port=0) as server:
                first = await send_mllp([adt(1)], host="127.0.0.1", port=server.port)
                again = await send_mllp([adt(1)], host="127.0.0.1", port=server.port)
                return first + again, server.stats.duplicates

        acks, duplicates = run(go())

        assert [a.code for a in acks] == [AckCode.AA, AckCode.AA]
        assert "duplicate" in acks[1].text
        assert (handler.ids, duplicates) == (["1"], 1)

    def test_other_facility_same_control_id_is_handled(self) -> None:
        """Control ids are unique per sender only: another facility's is a new message."""
        handler = Recorder()

        async def go() -> Any:
            async with MLLPServer(handler, clock=clock, port=0) as server:
                return await send_mllp(
                    [adt(1, "FAC"), adt(1, "OTHER")], host="127.0.0.1", port=server.port
                )

        run(go())

        assert handler.ids == ["1", "1"]

    @pytest.mark.parametrize("slow", [False, True], ids=["after-commit", "while-in-flight"])
    def test_sender_drops_before_ack_and_resends(self, slow: bool) -> None:
        """A sender that hangs up before its ACK and resends loses nothing, duplicates nothing.

        With ``slow`` the resend arrives while the first delivery is still being handled:
        it waits for that delivery's outcome instead of handling the message again.
        """
        handled: list[str] = []

        async def handler(inbound: Inbound) -> None:
            if slow:
                await asyncio.sleep(0.2)
            handled.append(inbound.message.control_id)

        async def go() -> Any:
            async with MLLPServer(handler, clock=clock, port=0) as server:
                for n in range(5):
                    client = await MLLPClient("127.0.0.1", server.port).connect()
                    await client.send_raw(frame(adt(n)))
                    await client.close()  # hangs up without reading the ACK
                    if not slow:
                        await asyncio.sleep(0.05)
                return await send_mllp(
                    [adt(n) for n in range(5)], host="127.0.0.1", port=server.port
                )

        acks = run(go())

        assert [a.code for a in acks] == [AckCode.AA] * 5
        assert sorted(handled) == ["0", "1", "2", "3", "4"]

    def test_memory_window_is_bounded(self) -> None:
        """The in-memory window forgets the oldest keys beyond its capacity."""
        window = MemoryDedupe(capacity=2)
        window.remember([(b"F", b"1"), (b"F", b"2"), (b"F", b"3")])

        assert (window.seen((b"F", b"1")), window.seen((b"F", b"3")), len(window)) == (
            False,
            True,
            2,
        )

    def test_pluggable_store_is_used(self) -> None:
        """A DedupeStore passed in decides what was seen and is told what was handled."""

        class Store:
            def __init__(self) -> None:
                self.remembered: list[tuple[bytes, bytes]] = []

            def seen(self, key: tuple[bytes, bytes]) -> bool:
                return key[1] == b"old"

            def remember(self, keys: Sequence[tuple[bytes, bytes]]) -> None:
                self.remembered.extend(keys)

        store, handler = Store(), Recorder()

        async def go() -> Any:
            async with MLLPServer(handler, clock=clock, port=0, dedupe=store) as server:
                return await send_mllp([adt("old"), adt("new")], host="127.0.0.1", port=server.port)

        run(go())

        assert handler.ids == ["new"]
        assert store.remembered == [(b"FAC", b"new")]

    def test_failing_dedupe_store_gives_ar(self) -> None:
        """A DedupeStore whose lookup raises: AR for that message, the next one is served."""

        class Broken:
            def seen(self, key: tuple[bytes, bytes]) -> bool:
                if key[1] == b"1":
                    raise OSError("database is locked")
                return False

            def remember(self, keys: Sequence[tuple[bytes, bytes]]) -> None:
                return None

        handler = Recorder()

        async def go() -> Any:
            async with MLLPServer(handler, clock=clock, port=0, dedupe=Broken()) as server:
                return await send_mllp([adt(1), adt(2)], host="127.0.0.1", port=server.port)

        acks = run(go())

        assert [a.code for a in acks] == [AckCode.AR, AckCode.AA]
        assert handler.ids == ["2"]


class TestLimits:
    """Message size, idle connections and concurrent connections are bounded."""

    def test_oversize_message_gets_ae_and_serving_goes_on(self) -> None:
        """A message over max_message_bytes is answered AE (value too long), not handled."""
        handler = Recorder()
        big = adt(1) + b"NTE|1||" + b"x" * 5000 + b"\r"

        async def go() -> Any:
            async with MLLPServer(handler, clock=clock, port=0, max_message_bytes=2000) as server:
                return await send_mllp([big, adt(2)], host="127.0.0.1", port=server.port)

        acks = run(go())

        assert [(a.code, a.condition, a.control_id) for a in acks] == [
            (AckCode.AE, "104", "1"),
            (AckCode.AA, "", "2"),
        ]
        assert handler.ids == ["2"]

    def test_idle_connection_is_closed(self) -> None:
        """A connection silent for idle_timeout is closed by the server."""

        async def go() -> Any:
            async with MLLPServer(Recorder(), clock=clock, port=0, idle_timeout=0.2) as server:
                reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
                data = await asyncio.wait_for(reader.read(), 5)
                writer.close()
                return data, server.stats.idle_closed

        assert run(go()) == (b"", 1)

    def test_connections_over_the_limit_are_closed(self) -> None:
        """With max_connections open, a new connection is closed; one freed is reusable."""

        async def go() -> Any:
            async with MLLPServer(Recorder(), clock=clock, port=0, max_connections=1) as server:
                first = await MLLPClient("127.0.0.1", server.port, timeout=5).connect()
                assert (await first.send(adt(1))).accepted
                second = await MLLPClient("127.0.0.1", server.port, timeout=5).connect()
                with pytest.raises(MLLPError):  # closed, or reset, by the server
                    await second.send(adt(2))
                await second.close()
                await first.close()
                await asyncio.sleep(0.1)
                third = await send_mllp([adt(3)], host="127.0.0.1", port=server.port)
                return server.stats.refused, [a.code for a in third]

        assert run(go()) == (1, [AckCode.AA])

    def test_bad_arguments(self) -> None:
        """A handler that is not callable or an ssl that is not a context is a UsageError."""
        with pytest.raises(UsageError, match="callable"):
            MLLPServer(42, clock=clock)
        with pytest.raises(UsageError, match="SSLContext"):
            MLLPServer(Recorder(), clock=clock, ssl=True)
        with pytest.raises(ValueError, match="positive"):
            MLLPServer(Recorder(), clock=clock, max_connections=0)


def _certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for localhost (openssl command line, else cryptography)."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    openssl = shutil.which("openssl")
    if openssl:
        subprocess.run(
            [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
             "-keyout", str(key), "-out", str(cert)],
            check=True,
            capture_output=True,
        )  # fmt: skip
        return cert, key
    crypto = pytest.importorskip(
        "cryptography", reason="neither the openssl command nor cryptography is available"
    )
    raise pytest.skip.Exception(f"certificate generation with {crypto.__name__} not wired")


class TestTLS:
    """With an SSLContext the listener speaks TLS; plain clients get nothing."""

    def test_tls_round_trip(self, tmp_path: Path) -> None:
        """A TLS client that trusts the certificate gets its AA; the handler ran."""
        cert, key = _certificate(tmp_path)
        server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        server_ctx.load_cert_chain(cert, key)
        client_ctx = ssl.create_default_context(cafile=str(cert))
        handler = Recorder()

        async def go() -> Any:
            async with MLLPServer(
                handler, clock=clock, port=0, ssl=server_ctx, max_connections=1
            ) as server:
                with pytest.raises(MLLPError):  # plain TCP: the handshake fails
                    await send_mllp([adt(2)], host="127.0.0.1", port=server.port, timeout=2)
                acks = await send_mllp(  # the failed handshake did not take the one slot
                    [adt(1)],
                    host="127.0.0.1",
                    port=server.port,
                    ssl=client_ctx,
                    server_hostname="localhost",
                )
                return acks, server.stats.refused

        acks, refused = run(go())

        assert [a.code for a in acks] == [AckCode.AA]
        assert (handler.ids, refused) == (["1"], 0)


class TestShutdown:
    """close() lets messages being handled finish and be acknowledged."""

    def test_close_waits_for_the_message_being_handled(self) -> None:
        """A message being handled when close() is called still gets its AA."""

        async def handler(inbound: Inbound) -> None:
            await asyncio.sleep(0.2)

        async def go() -> Any:
            server = await MLLPServer(handler, clock=clock, port=0).start()
            client = await MLLPClient("127.0.0.1", server.port, timeout=5).connect()
            await client.send_raw(frame(adt(1)))
            await asyncio.sleep(0.05)
            await server.close()
            ack = await client.read_ack()
            await client.close()
            return ack.code, server.active_connections

        assert run(go()) == (AckCode.AA, 0)

    def test_port_in_use_raises_and_the_server_can_start_later(self) -> None:
        """Starting on a taken port raises OSError; nothing is left running."""

        async def go() -> Any:
            async with MLLPServer(Recorder(), clock=clock, port=0) as first:
                second = MLLPServer(Recorder(), clock=clock, port=first.port)
                with pytest.raises(OSError, match="in use"):
                    await second.start()
                names = [t.get_name() for t in asyncio.all_tasks()]
            return names.count("mllp-dispatch"), first.active_connections

        assert run(go()) == (1, 0)  # only the first server's dispatcher runs

    def test_inbound_repr_has_no_content(self) -> None:
        """An Inbound's repr counts bytes and names no field."""
        seen: list[str] = []

        async def go() -> None:
            async with MLLPServer(lambda i: seen.append(repr(i)), clock=clock, port=0) as server:
                await send_mllp([adt(1)], host="127.0.0.1", port=server.port)

        run(go())

        assert "Testperson" not in seen[0]
        assert "bytes" in seen[0]
