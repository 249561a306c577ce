"""``carecoord listen``: an MLLP listener that reads HL7 v2 messages (into a store with --db)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import signal
import ssl
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from carecoord import hl7v2
from carecoord.cli import common
from carecoord.services import Coordinator
from carecoord.stores import SQLiteStore


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the ``listen`` arguments to ``parser``."""
    parser.add_argument("--port", type=int, required=True, help="TCP port (0: any free port)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--db", metavar="FILE", help="ingest into this SQLite coordinator store")
    limit = "connections open at once (default 100)"
    parser.add_argument("--max-connections", type=int, default=100, metavar="N", help=limit)
    idle = "close a connection silent this long (default 300)"
    parser.add_argument("--idle-timeout", type=float, default=300.0, metavar="SECONDS", help=idle)
    size = "answer larger messages AE (default 1 MiB)"
    parser.add_argument("--max-message-bytes", type=int, default=1 << 20, metavar="N", help=size)
    parser.add_argument("--tls-cert", metavar="PEM", help="certificate chain: listen with TLS")
    parser.add_argument("--tls-key", metavar="PEM", help="private key of --tls-cert")


def _clock() -> dt.datetime:
    """The wall clock (UTC): ACK timestamps and the as-of of each ingest."""
    return dt.datetime.now(dt.UTC)


class Tally:
    """What the listener read: messages by type, records and issues (counts only)."""

    def __init__(self) -> None:
        self.types: Counter[str] = Counter()
        self.records = 0
        self.issues = 0

    def read(self, inbound: hl7v2.Inbound) -> tuple[Any, hl7v2.Outcome]:
        """Read one message into records; its outcome (AE when nothing usable came out)."""
        msg = inbound.message
        self.types[f"{msg.message_type}^{msg.trigger_event}"] += 1
        result = hl7v2.read(inbound.raw)
        self.records += len(result.records)
        self.issues += len(result.issues)
        return result, hl7v2.read_outcome(result)

    def line(self, stats: hl7v2.ServerStats) -> str:
        """One summary line."""
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(self.types.items())) or "none"
        return (
            f"{common.plural(stats.received, 'frame')} received ({kinds}); "
            f"{common.plural(self.records, 'record')}, {common.plural(self.issues, 'issue')}; "
            f"AA {stats.accepted}, AE {stats.errors}, AR {stats.rejected}, "
            f"{common.plural(stats.duplicates, 'duplicate')}, "
            f"{common.plural(stats.refused, 'connection')} refused"
        )


def _tls(args: argparse.Namespace) -> ssl.SSLContext | None:
    if not args.tls_cert and not args.tls_key:
        return None
    if not (args.tls_cert and args.tls_key):
        raise common.UsageError("--tls-cert and --tls-key go together")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(args.tls_cert, args.tls_key)
    except (OSError, ssl.SSLError) as error:
        raise common.UsageError(
            f"cannot load the TLS certificate: {type(error).__name__}"
        ) from None
    return context


def _handler(
    args: argparse.Namespace, tally: Tally
) -> tuple[Callable[..., Any], Callable[[], None]]:
    """The handler (a batch handler with --db) and what closes its store."""
    if not args.db:

        def read_only(inbound: hl7v2.Inbound) -> hl7v2.Outcome:
            return tally.read(inbound)[1]

        return read_only, lambda: None
    store = SQLiteStore(Path(args.db), synchronous="FULL")
    coordinator = Coordinator(store)

    def ingest(batch: Sequence[hl7v2.Inbound]) -> list[hl7v2.Outcome]:
        read = [tally.read(inbound) for inbound in batch]
        records = [r for result, outcome in read if outcome.code == "AA" for r in result.records]
        with store.unit_of_work() as uow:  # one commit per batch, before any ACK
            coordinator.ingest(records, as_of=_clock(), unit_of_work=uow)
            uow.commit()
        return [outcome for _result, outcome in read]

    return ingest, store.close


async def _serve(server: hl7v2.MLLPServer, err: TextIO) -> None:
    await server.start()
    err.write(f"{common.PROG}: listening on {server.host}:{server.port} (Ctrl-C stops)\n")
    err.flush()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
        await server.close()


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run ``carecoord listen`` until SIGINT or SIGTERM; print a summary; the exit status."""
    if not 0 <= args.port <= 65535:
        raise common.UsageError("--port must be between 0 and 65535")
    context = _tls(args)
    tally = Tally()
    handler, close_store = _handler(args, tally)
    try:
        server = hl7v2.MLLPServer(
            handler,
            clock=_clock,
            host=args.host,
            port=args.port,
            ssl=context,
            batch=bool(args.db),
            threaded=bool(args.db),  # reading is CPU work: on the loop; a commit waits on disk
            max_message_bytes=args.max_message_bytes,
            idle_timeout=args.idle_timeout,
            max_connections=args.max_connections,
        )
    except ValueError as error:
        close_store()
        raise common.UsageError(str(error)) from None
    try:
        asyncio.run(_serve(server, err))
    except OSError as error:
        raise common.UsageError(f"cannot listen on port {args.port}: {error.strerror}") from None
    finally:
        close_store()
    out.write(tally.line(server.stats) + "\n")
    return common.EXIT_OK
