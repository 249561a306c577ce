"""Run a child Python process and kill it with SIGKILL at a moment it announces.

The child is a script (a string) that prints a marker line on stdout, flushes, and then
waits; the parent reads lines until it sees the marker, kills the child with ``SIGKILL``
(no clean-up, no ``finally``, no ``atexit``: as a power cut looks to the process) and
waits for it. The child runs with the worktree's ``src`` first on ``sys.path`` so it
imports the carecoord under test.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

__all__ = ["MARKER", "kill_at_marker", "run_child"]

MARKER = "CARECOORD-CRASH-POINT"
"""The line a child prints when it is where the test wants it killed."""

SRC = str(Path(__file__).resolve().parents[2] / "src")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = SRC + os.pathsep + env.get("PYTHONPATH", "")
    return env


def kill_at_marker(script: str, *, after: float = 0.0, timeout: float = 60.0) -> list[str]:
    """Run ``script``, SIGKILL it once it prints :data:`MARKER`; return its earlier lines.

    With ``after``, the child runs on for that many seconds past the marker first (a
    moment that falls anywhere in its work).

    Fails (``AssertionError``) if the child exits, or is silent for ``timeout`` seconds,
    before printing the marker; its stderr is shown then.
    """
    child = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    assert child.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([child.stdout], [], [], max(0.0, left))
            if not ready:
                raise AssertionError("the child did not reach its crash point in time")
            line = child.stdout.readline()
            if not line:
                _, err = child.communicate()
                raise AssertionError(f"the child exited before its crash point:\n{err}")
            if line.strip() == MARKER:
                break
            lines.append(line.rstrip("\n"))
        if after:
            time.sleep(after)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=timeout)
        assert child.returncode == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        for stream in (child.stdin, child.stdout, child.stderr):
            if stream is not None:
                stream.close()
    return lines


def run_child(script: str) -> subprocess.Popen[str]:
    """Start ``script`` in a child process (stdout and stderr piped); the caller waits."""
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )
