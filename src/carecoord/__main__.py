"""``python -m carecoord``: the command line (see :mod:`carecoord.cli`)."""

from __future__ import annotations

import sys

__all__: list[str] = []


def _run() -> int:
    """Load the command line and run it; Ctrl-C while it loads exits 130 with one line too."""
    try:
        from carecoord.cli import main  # noqa: PLC0415 - inside the guard against Ctrl-C
    except KeyboardInterrupt:
        sys.stderr.write("carecoord: interrupted\n")
        return 130
    return main()


if __name__ == "__main__":
    raise SystemExit(_run())
