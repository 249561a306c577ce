"""``carecoord listen``: an MLLP listener run from the command line, stopped by a signal."""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from carecoord import hl7v2
from carecoord.cli import main
from carecoord.services import Coordinator
from carecoord.stores import SQLiteStore
from tests.hl7v2._mllp import adt


class Listener:
    """``carecoord listen`` in a subprocess; its port read from its first stderr line."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "carecoord.cli", "listen", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stderr is not None
        line = self.proc.stderr.readline()
        found = re.search(r":(\d+) ", line)
        assert found, line
        self.port = int(found.group(1))

    def send(self, messages: list[bytes]) -> list[hl7v2.Ack]:
        """Send the messages over one connection; their ACKs."""
        return asyncio.run(hl7v2.send_mllp(messages, host="127.0.0.1", port=self.port))

    def stop(self, sig: int = signal.SIGTERM) -> tuple[int, str, str]:
        """Send ``sig``; the exit status, standard output and the rest of standard error."""
        self.proc.send_signal(sig)
        out, err = self.proc.communicate(timeout=30)
        return self.proc.returncode, out, err


@pytest.fixture
def listeners() -> Iterator[list[Listener]]:
    """Listeners started by a test, killed at its end if still running."""
    started: list[Listener] = []
    yield started
    for listener in started:
        if listener.proc.poll() is None:
            listener.proc.kill()
            listener.proc.communicate()


class TestListen:
    """The listener reads messages, acknowledges them and stops cleanly on a signal."""

    @pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
    def test_reads_counts_and_stops_on_signal(self, listeners: list[Listener], sig: int) -> None:
        """AA for messages, AR for junk, a duplicate counted; exit 0 with a summary line."""
        listener = Listener()
        listeners.append(listener)

        acks = listener.send([adt(1), adt(1), b"junk"])
        status, out, _err = listener.stop(sig)

        assert [a.code for a in acks] == ["AA", "AA", "AR"]
        assert status == 0
        assert "3 frames received (ADT^A01 1)" in out
        assert "AA 2, AE 0, AR 1, 1 duplicate" in out

    def test_db_ingests_into_the_coordinator_store(
        self, listeners: list[Listener], tmp_path: Path
    ) -> None:
        """With --db each accepted message is in the SQLite store once its ACK arrives."""
        db = tmp_path / "cc.sqlite"
        listener = Listener("--db", str(db))
        listeners.append(listener)

        acks = listener.send([adt(1), adt(2)])
        store = SQLiteStore(db)
        try:
            persons = Coordinator(store).persons()  # read while the listener still runs
        finally:
            store.close()
        status, out, _err = listener.stop()

        assert [a.code for a in acks] == ["AA", "AA"]
        assert len(persons) == 1
        assert (status, "2 records" in out) == (0, True)

    def test_unreadable_message_gets_ae(self, listeners: list[Listener]) -> None:
        """A message read into nothing because of an error is answered AE with its place."""
        listener = Listener()
        listeners.append(listener)
        no_id = adt(5).replace(b"MRN1^^^FAC^MR", b"")

        (ack,) = listener.send([no_id])
        listener.stop()

        assert (ack.code, ack.condition) == ("AE", "101")
        assert "PID-3" in ack.text


class TestListenUsage:
    """Bad arguments exit 2 with one line, before anything listens."""

    @pytest.mark.parametrize(
        ("args", "problem"),
        [
            (["--port", "70000"], "--port"),
            (["--port", "0", "--tls-cert", "c.pem"], "--tls-key"),
            (["--port", "0", "--tls-cert", "missing.pem", "--tls-key", "k.pem"], "certificate"),
            (["--port", "0", "--max-connections", "0"], "positive"),
        ],
    )
    def test_bad_arguments(
        self, args: list[str], problem: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Each is a usage error naming the problem."""
        status = main(["listen", *args])

        err = capsys.readouterr().err
        assert status == 2
        assert problem in err
        assert len(err.strip().splitlines()) == 1
