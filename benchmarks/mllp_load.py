"""MLLP listener under load: ADT messages per second over loopback, 8 concurrent senders.

Usage::

    python benchmarks/mllp_load.py [--data DIR] [--senders 8] [--seconds 5] [--runs 3]
                                   [--handler parse read coordinator] [--profile]

The listener (:class:`carecoord.hl7v2.MLLPServer`) runs in this process; the senders run
in a separate process (``multiprocessing``, spawn), ``--senders`` concurrent connections,
each sending one message and waiting for its ACK before the next (as MLLP senders do).
The message mix is the shared ADT samples (``ADT*.hl7`` in ``--data``, default
``../shared/data/hl7v2-fhir-converter``), segments ended by CR as on the wire, each sent
with a fresh MSH-10 so that none is a duplicate. Handlers:

* ``parse``: the listener frames, parses (``parse_message``) and acknowledges; the handler
  does nothing (the transport's own cost);
* ``read``: the handler reads each message into records with ``carecoord.hl7v2.read``
  and drops them (target: at least 2,000 messages/s);
* ``coordinator``: a batch handler reads each message and ingests the batch into a
  ``Coordinator`` over a ``SQLiteStore`` (``synchronous=FULL``) in one unit of work,
  committed before any of the batch's ACKs is sent (target: at least 200 messages/s).

Each run lasts ``--seconds``; the best of ``--runs`` is reported with the load average
before and after, and with the CPU time the listener process spent per message (all its
threads; ``time.process_time``) and the senders' process too. On a shared machine the
wall-clock rate depends on how much CPU the other processes leave; ``1 / listener CPU per
message`` is the rate one idle core would sustain (the listener is one event loop: one
core), the figure to compare across runs. Every ACK must be AA and the handler must have
been given each message exactly once, else the script fails. ``--profile`` prints a
cProfile of the listener process for the last run of each handler.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import datetime as dt
import multiprocessing as mp
import os
import platform
import pstats
import re
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from carecoord import hl7v2

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "hl7v2-fhir-converter"


def clock() -> dt.datetime:
    """The wall clock, for ACK timestamps and ingest's as_of."""
    return dt.datetime.now(dt.UTC)


def load_messages(folder: Path) -> list[bytes]:
    """The ADT samples, segments ended by CR, byte-order marks dropped."""
    messages = []
    for path in sorted(folder.glob("ADT*.hl7")):
        data = path.read_bytes().removeprefix(b"\xef\xbb\xbf")
        data = re.sub(rb"\r\n|\n|\r", b"\r", data).strip(b"\r") + b"\r"
        messages.append(data)
    if not messages:
        raise SystemExit(f"no ADT*.hl7 messages in {folder}")
    return messages


def with_control_id(message: bytes, control_id: str) -> bytes:
    """The message with MSH-10 replaced (the samples reuse control ids)."""
    sep = message[3:4]
    end = message.find(b"\r")
    fields = message[:end].split(sep)
    while len(fields) < 10:
        fields.append(b"")
    fields[9] = control_id.encode()
    return sep.join(fields) + message[end:]


# -- the senders' process -----------------------------------------------------------------


def _sender_process(port: int, senders: int, seconds: float, data: str, out: Any) -> None:
    """``senders`` threads, each a blocking connection sending one message per ACK.

    Plain sockets in threads keep the senders' own CPU cost low (the GIL is released while
    each waits for its ACK), so that the listener, not the load generator, is measured.
    """
    messages = load_messages(Path(data))
    results: list[tuple[int, int]] = [(0, 0)] * senders
    start = time.perf_counter()
    stop = start + seconds

    def one(index: int) -> None:
        sent = bad = 0
        decoder = hl7v2.FrameDecoder()
        with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            while time.perf_counter() < stop:
                msg = with_control_id(messages[sent % len(messages)], f"S{index}N{sent}")
                sock.sendall(hl7v2.frame(msg))
                events: list[hl7v2.FrameEvent] = []
                while not events:
                    chunk = sock.recv(65536)
                    if not chunk:
                        raise ConnectionError("the listener closed the connection")
                    events = decoder.feed(chunk)
                sent += 1
                bad += not hl7v2.parse_ack(events[0].payload).accepted
        results[index] = (sent, bad)

    cpu = time.process_time()
    threads = [threading.Thread(target=one, args=(i,)) for i in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu
    out.send((sum(r[0] for r in results), sum(r[1] for r in results), elapsed, cpu))


# -- handlers -------------------------------------------------------------------------------


def _noop(inbound: hl7v2.Inbound) -> None:
    """Accept the message (the listener has framed and parsed it)."""


def _read_handler() -> tuple[Callable[..., Any], bool, Callable[[], None]]:
    def handle(inbound: hl7v2.Inbound) -> hl7v2.Outcome:
        return hl7v2.read_outcome(hl7v2.read(inbound.message))

    return handle, False, lambda: None


def _coordinator_handler(folder: Path) -> tuple[Callable[..., Any], bool, Callable[[], None]]:
    from carecoord.services import Coordinator
    from carecoord.stores import SQLiteStore

    store = SQLiteStore(folder / "bench.sqlite", synchronous="FULL")
    coordinator = Coordinator(store)

    def handle(batch: Sequence[hl7v2.Inbound]) -> list[hl7v2.Outcome]:
        results = [hl7v2.read(inbound.message) for inbound in batch]
        with store.unit_of_work() as uow:  # one commit per batch, before any of its ACKs
            coordinator.ingest(
                [r for result in results for r in result.records], as_of=clock(), unit_of_work=uow
            )
            uow.commit()
        return [hl7v2.read_outcome(result) for result in results]

    return handle, True, store.close


# -- one run ----------------------------------------------------------------------------------


async def _listen_and_load(
    handler: Callable[..., Any], batch: bool, args: argparse.Namespace
) -> dict[str, Any]:
    count = 0

    def counting(arg: Any) -> Any:
        nonlocal count
        count += len(arg) if batch else 1
        return handler(arg)

    async with hl7v2.MLLPServer(
        counting, clock=clock, port=0, batch=batch, threaded=batch, max_connections=64
    ) as server:
        ctx = mp.get_context("spawn")
        receive, send = ctx.Pipe(duplex=False)
        proc = ctx.Process(
            target=_sender_process,
            args=(server.port, args.senders, args.seconds, str(args.data), send),
        )
        proc.start()
        loop = asyncio.get_running_loop()
        cpu_before = time.process_time()
        sent, bad, elapsed, sender_cpu = await loop.run_in_executor(None, receive.recv)
        listener_cpu = time.process_time() - cpu_before
        await loop.run_in_executor(None, proc.join)
        stats = server.stats
    if bad or count != sent or stats.duplicates:
        raise SystemExit(f"lost or duplicated: sent {sent}, handled {count}, not AA {bad}")
    return {
        "messages": sent,
        "seconds": elapsed,
        "rate": sent / elapsed,
        "batches": stats.batches,
        "listener_cpu_ms": 1000 * listener_cpu / max(sent, 1),
        "sender_cpu_ms": 1000 * sender_cpu / max(sent, 1),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--senders", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--handler",
        nargs="+",
        choices=("parse", "read", "coordinator"),
        default=["parse", "read", "coordinator"],
    )
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    load_messages(args.data)  # fail early without data
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"Load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    targets = {"parse": None, "read": 2000, "coordinator": 200}
    rows = []
    for name in args.handler:
        best: dict[str, Any] | None = None
        for run in range(args.runs):
            with tempfile.TemporaryDirectory() as tmp:
                if name == "parse":
                    handler, batch, done = _noop, False, (lambda: None)
                elif name == "read":
                    handler, batch, done = _read_handler()
                else:
                    handler, batch, done = _coordinator_handler(Path(tmp))
                profiler = cProfile.Profile() if args.profile and run == args.runs - 1 else None
                if profiler:
                    profiler.enable()
                try:
                    result = asyncio.run(_listen_and_load(handler, batch, args))
                finally:
                    if profiler:
                        profiler.disable()
                    done()
                if profiler:
                    print(f"\n## profile: {name}")
                    pstats.Stats(profiler).sort_stats("tottime").print_stats(18)
            print(
                f"{name} run {run + 1}: {result['rate']:.0f} msg/s ({result['messages']} in "
                f"{result['seconds']:.1f} s, {result['batches']} handler calls; CPU per message: "
                f"listener {result['listener_cpu_ms']:.3f} ms, "
                f"senders {result['sender_cpu_ms']:.3f} ms)",
                file=sys.stderr,
            )
            if best is None or result["rate"] > best["rate"]:
                best = result
        assert best is not None
        rows.append((name, best, targets[name]))
    print(f"Load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        "\n| Handler | Messages | Seconds | Messages/s (best run) | Handler calls "
        "| Listener CPU / message | Senders CPU / message | One idle core: messages/s | Target |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    failed = False
    for name, best, target in rows:
        capacity = 1000 / best["listener_cpu_ms"]
        verdict = "-"
        if target is not None:
            verdict = f"≥ {target:,}: wall {'met' if best['rate'] >= target else 'MISSED'}"
            verdict += f", CPU {'met' if capacity >= target else 'MISSED'}"
        failed |= target is not None and best["rate"] < target
        print(
            f"| {name} | {best['messages']:,} | {best['seconds']:.1f} | {best['rate']:,.0f} | "
            f"{best['batches']:,} | {best['listener_cpu_ms']:.3f} ms | "
            f"{best['sender_cpu_ms']:.3f} ms | {capacity:,.0f} | {verdict} |"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
