"""The command line behaves under hostile input and interruption: one line, a clear status.

Ctrl-C exits 130 with one line; input over a limit, running out of memory, an empty path
or a link loop exit 2 with one line; never a traceback, never the ``--fail-on`` status 1.
"""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from carecoord import fhir
from carecoord.cli import EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, main
from carecoord.demo_data import DEMO_AS_OF, demo_files

DEMO_DIR = Path(str(demo_files()[0])).parent
AS_OF = ["--as-of", DEMO_AS_OF.isoformat()]
PATIENT = {"resourceType": "Patient", "id": "p1", "birthDate": "1960-01-01"}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, list[str]]:
    """Run the command line in-process: exit status, stdout, stderr lines."""
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err.splitlines()


class TestLimits:
    """Input over a limit is a usage error with one line, and --limit moves the bound."""

    def test_gzip_bomb_exits_2_with_one_line(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A file decompressing past the bound exits 2, naming the bound, not the file."""
        bomb = tmp_path / "Jane_Doe_MRN1.json.gz"
        bomb.write_bytes(gzip.compress(b"{" + b" " * (4 << 20) + b"}"))

        status, out, err = run(
            capsys, "gaps", str(tmp_path), *AS_OF, "--limit", "max_file_bytes=1M"
        )

        assert (status, out) == (EXIT_USAGE, "")
        assert len(err) == 1
        assert err[0].startswith("carecoord: error: input over a limit: <file 1>: decompresses")
        assert "max_file_bytes" in err[0]
        assert "Jane" not in err[0]

    def test_fail_on_does_not_hide_a_limit(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A breach exits 2 even with --fail-on, whose status is 1."""
        (tmp_path / "deep.json").write_text("[" * 100 + "]" * 100, encoding="utf-8")

        status, _, err = run(capsys, "gaps", str(tmp_path), *AS_OF, "--fail-on", "any")

        assert status == EXIT_USAGE
        assert "max_depth" in err[0]

    def test_limit_can_be_raised(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """--limit max_depth=200 reads what the default bound refuses."""
        deep = json.dumps({**PATIENT, "x": "@"}).replace('"@"', "[" * 80 + "]" * 80)
        (tmp_path / "p.json").write_text(deep, encoding="utf-8")

        refused, _, _ = run(capsys, "gaps", str(tmp_path), *AS_OF)
        status, _, _ = run(capsys, "gaps", str(tmp_path), *AS_OF, "--limit", "max_depth=200")

        assert (refused, status) == (EXIT_USAGE, EXIT_OK)

    @pytest.mark.parametrize("value", ["max_files", "nonsense=3", "max_depth=0", "max_depth=1T"])
    def test_bad_limit_is_a_usage_error(
        self, value: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A --limit that is not NAME=N for a known bound exits 2 with one line."""
        status, _, err = run(capsys, "gaps", str(DEMO_DIR), *AS_OF, "--limit", value)

        assert status == EXIT_USAGE
        assert len(err) == 1
        assert err[0].startswith("carecoord: error: --limit:")


class TestPaths:
    """PATH arguments that name nothing usable."""

    @pytest.mark.parametrize("path", ["", "   "])
    def test_empty_path_is_refused(self, path: str, capsys: pytest.CaptureFixture[str]) -> None:
        """An empty path is not the current folder: exit 2, one line."""
        status, out, err = run(capsys, "gaps", path, *AS_OF)

        assert (status, out) == (EXIT_USAGE, "")
        assert err == [
            "carecoord: error: PATH: an empty path names no file (use . for the current folder)"
        ]

    @pytest.mark.skipif(os.name != "posix", reason="links are POSIX")
    def test_link_loop_is_named_as_typed(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A looping link exits 2 naming the path the user typed."""
        loop = tmp_path / "loop.json"
        loop.symlink_to(loop)

        status, _, err = run(capsys, "gaps", str(loop), *AS_OF)

        assert status == EXIT_USAGE
        assert err == [f"carecoord: error: cannot read {loop}: too many levels of symbolic links"]

    @pytest.mark.skipif(os.name != "posix", reason="FIFOs are POSIX")
    def test_fifo_in_a_folder_does_not_block(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A FIFO named *.json is skipped (a warning by code) and the rest is read."""
        os.mkfifo(tmp_path / "pipe.json")
        (tmp_path / "p.json").write_text(json.dumps(PATIENT), encoding="utf-8")

        status, _, err = run(capsys, "gaps", str(tmp_path), *AS_OF)

        assert status == EXIT_OK
        assert any("not-a-file 1" in line for line in err)

    def test_typed_name_is_escaped(self, capsys: pytest.CaptureFixture[str]) -> None:
        """A path with control characters is shown escaped in the error line."""
        status, _, err = run(capsys, "gaps", "no\x1b[2Jsuch\rfile.json", *AS_OF)

        assert status == EXIT_USAGE
        assert err == [
            "carecoord: error: cannot read no\\x1b[2Jsuch\\x0dfile.json: no such file or directory"
        ]


class TestFailures:
    """Ctrl-C and exhausted memory inside a command: one line, never a traceback."""

    @pytest.mark.parametrize(
        ("raised", "status", "line"),
        [
            (KeyboardInterrupt, EXIT_INTERRUPTED, "carecoord: interrupted"),
            (MemoryError, EXIT_USAGE, "carecoord: error: out of memory"),
        ],
    )
    def test_one_line(
        self,
        raised: type[BaseException],
        status: int,
        line: str,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """The exception raised while reading becomes one line and its exit status."""

        def fail(*_args: object, **_kwargs: object) -> None:
            raise raised

        monkeypatch.setattr(fhir, "read_paths", fail)
        found, _, err = run(capsys, "gaps", str(DEMO_DIR), *AS_OF)

        assert found == status
        assert len(err) == 1
        assert err[0].startswith(line)

    @pytest.mark.skipif(os.name != "posix", reason="SIGINT is POSIX")
    def test_sigint_exits_130_with_one_line(self, tmp_path: Path) -> None:
        """SIGINT to ``python -m carecoord gaps`` on a slow input: exit 130, one line.

        The input is made slow by a reader that says it started and then waits, so the
        signal arrives while the command is reading, as Ctrl-C on a large export would.
        """
        (tmp_path / "p.json").write_text(json.dumps(PATIENT), encoding="utf-8")
        script = textwrap.dedent(
            f"""
            import runpy, sys, time
            from carecoord import fhir
            def slow(*args, **kwargs):
                sys.stderr.write("reading\\n")
                sys.stderr.flush()
                time.sleep(60)
            fhir.read_paths = slow
            sys.argv = ["carecoord", "gaps", {str(tmp_path)!r}, "--as-of", "2026-07-15"]
            runpy.run_module("carecoord", run_name="__main__")
            """
        )
        process = subprocess.Popen(
            [sys.executable, "-c", script],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert process.stderr is not None
            assert process.stderr.readline() == "reading\n"
            process.send_signal(signal.SIGINT)
            out, err = process.communicate(timeout=60)
        finally:
            process.kill()

        assert process.returncode == EXIT_INTERRUPTED
        assert err.splitlines() == ["carecoord: interrupted"]
        assert out == ""
