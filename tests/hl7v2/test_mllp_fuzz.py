"""Mutated frames and messages from the shared samples never bring the listener down."""

from __future__ import annotations

import itertools
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carecoord.hl7v2 import FrameDecoder, Inbound, frame, parse_ack
from tests.fhir._shared import shared_data_dir
from tests.hl7v2._mllp import ThreadedServer, adt, served


def _samples() -> list[bytes]:
    folder = Path(shared_data_dir("hl7v2-fhir-converter"))
    return [p.read_bytes() for p in sorted(folder.glob("*.hl7"))]


@pytest.fixture(scope="module")
def samples() -> list[bytes]:
    """The shared sample messages (the test skips without the shared data)."""
    return _samples()


@pytest.fixture(scope="module")
def listener() -> Iterator[ThreadedServer]:
    """One listener for the whole test (a small size limit, to hit it too)."""
    handled: list[Inbound] = []
    server = ThreadedServer(handled.append, max_message_bytes=20_000, idle_timeout=5)
    yield server
    server.close()


_SPECIAL = st.sampled_from(
    [b"\x0b", b"\x1c", b"\x0d", b"\x1c\x0d", b"\n", b"|", b"^", b"\\", b"\x00"]
)
_MUTATION = st.one_of(
    st.tuples(st.just("insert"), st.integers(0, 10**6), _SPECIAL | st.binary(max_size=8)),
    st.tuples(st.just("delete"), st.integers(0, 10**6), st.integers(1, 200)),
    st.tuples(st.just("flip"), st.integers(0, 10**6), st.integers(1, 255)),
    st.tuples(st.just("cut"), st.integers(0, 10**6), st.just(0)),
    st.tuples(st.just("pad"), st.integers(0, 10**6), st.integers(20_000, 30_000)),
)
_counter = itertools.count()


def _mutate(data: bytes, mutation: tuple[str, int, object]) -> bytes:
    kind, where, arg = mutation
    pos = where % (len(data) + 1)
    if kind == "insert":
        assert isinstance(arg, bytes)
        return data[:pos] + arg + data[pos:]
    if kind == "delete":
        assert isinstance(arg, int)
        return data[:pos] + data[pos + arg :]
    if kind == "flip" and pos < len(data):
        assert isinstance(arg, int)
        return data[:pos] + bytes([data[pos] ^ arg]) + data[pos + 1 :]
    if kind == "cut":
        return data[:pos]
    if kind == "pad":
        assert isinstance(arg, int)
        return data[:pos] + b"x" * arg + data[pos:]
    return data


@settings(max_examples=60)
@given(
    picks=st.lists(st.integers(0, 10**6), min_size=1, max_size=3),
    mutations=st.lists(_MUTATION, max_size=4),
    chunk=st.integers(1, 4096),
    half_close=st.booleans(),
)
def test_listener_survives_mutated_streams(  # noqa: PLR0917 - fixtures and strategies
    listener: ThreadedServer,
    samples: list[bytes],
    picks: list[int],
    mutations: list[tuple[str, int, object]],
    chunk: int,
    half_close: bool,
) -> None:
    """Any mutated stream is answered with parseable ACKs and the listener keeps serving.

    Several framed samples are mutated (bytes inserted, deleted, flipped; block characters
    added; the stream cut short; a message padded over the size limit), sent in chunks,
    optionally half-closed; every frame the listener answers gets a well-formed ACK, and a
    clean message on a new connection is still accepted afterwards.
    """
    stream = b"".join(frame(samples[p % len(samples)]) for p in picks)
    for mutation in mutations:
        stream = _mutate(stream, mutation)
    with listener.connect() as sock:
        try:
            for start in range(0, len(stream), chunk):
                sock.sendall(stream[start : start + chunk])
            if half_close:
                sock.shutdown(socket.SHUT_WR)
            else:
                sock.sendall(frame(adt("fuzz-marker")))
            acks = _drain(sock, stop_at=b"fuzz-marker" if not half_close else None)
        except (ConnectionError, TimeoutError):  # the server may close a hopeless stream
            acks = []
    for ack in acks:
        assert parse_ack(ack).code.value in {"AA", "AE", "AR"}

    assert served(listener, adt(f"after-{next(_counter)}"))


def _drain(sock: socket.socket, stop_at: bytes | None) -> list[bytes]:
    """Read ACK frames until one answers ``stop_at`` (or the server closes)."""
    decoder, acks = FrameDecoder(), []
    sock.settimeout(5)
    while True:
        data = sock.recv(65536)
        if not data:
            return acks
        for event in decoder.feed(data):
            acks.append(event.payload)
            if stop_at is not None and parse_ack(event.payload).control_id == stop_at.decode():
                return acks
