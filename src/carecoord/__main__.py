"""``python -m carecoord``: the command line (see :mod:`carecoord.cli`)."""

from __future__ import annotations

from carecoord.cli import main

__all__: list[str] = []

if __name__ == "__main__":
    raise SystemExit(main())
